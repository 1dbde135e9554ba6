// The event filters (docs/data-model.md, Lists, filters and pages), shared by the list, the exports and
// (later) the stats: their query-string schema, and the SQL conditions they become.
import { z } from 'zod';
import type { SqlParams } from '../../db/sql.js';
import { commaList, QueryBoolean } from '../../http/query-values.js';
import { CountryCodeSchema } from '../actors/schemas.js';
import { reportConditions, ReportFilterFields } from '../reports/filters.js';
import { searchQuery } from './render/search.js';
import { EventStatusSchema, ParticipantRoleSchema } from './schemas.js';

const EARTH_RADIUS_KM = 6371.0088;

const Bbox = z
  .string()
  .transform((text, ctx) => {
    const parts = text.split(',').map(Number);
    if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) {
      ctx.addIssue({ code: 'custom', message: 'bbox is minLon,minLat,maxLon,maxLat: four numbers' });
      return z.NEVER;
    }
    const [minLon, minLat, maxLon, maxLat] = parts as [number, number, number, number];
    if ([minLon, maxLon].some((lon) => lon < -180 || lon > 180))
      ctx.addIssue({ code: 'custom', message: 'longitudes must be within -180..180' });
    if ([minLat, maxLat].some((lat) => lat < -90 || lat > 90))
      ctx.addIssue({ code: 'custom', message: 'latitudes must be within -90..90' });
    if (minLat > maxLat) ctx.addIssue({ code: 'custom', message: 'minLat must not exceed maxLat' });
    return { minLon, minLat, maxLon, maxLat };
  })
  .describe('minLon,minLat,maxLon,maxLat (WGS84). minLon > maxLon means a box across the antimeridian.');

const Near = z
  .string()
  .transform((text, ctx) => {
    const parts = text.split(',').map(Number);
    const [lat, lon] = parts as [number, number];
    if (
      parts.length !== 2 ||
      !Number.isFinite(lat) ||
      !Number.isFinite(lon) ||
      Math.abs(lat) > 90 ||
      Math.abs(lon) > 180
    ) {
      ctx.addIssue({ code: 'custom', message: 'near is lat,lon with lat within -90..90 and lon within -180..180' });
      return z.NEVER;
    }
    return { lat, lon };
  })
  .describe('lat,lon of a point; events within radius_km of it (great-circle distance)');

const Uuid = z.uuid();

const ExternalIdFilter = z
  .string()
  .regex(/^[a-z][a-z0-9_]*:.+$/, 'external_id is source:id, such as acled:NGA12345')
  .transform((value) => {
    const colon = value.indexOf(':');
    return { source: value.slice(0, colon), id: value.slice(colon + 1) };
  });

export const EventFilterFields = {
  include_deleted: QueryBoolean.optional().describe(
    'true also lists deleted (and merged) events, with their deleted_at set (editors only: 403 otherwise); they are ' +
      'left out otherwise',
  ),
  // Not an enum: the vocabulary is stored and admins extend it, so the handlers check the codes (assertKnownTypes).
  type: commaList(
    z.string().regex(/^[a-z0-9_]+$/, 'event-type codes are lower-case words'),
    'Event-type codes of GET /v1/event-types (a code it does not list is a 400 naming the known ones)',
  ).optional(),
  status: commaList(EventStatusSchema, 'Statuses').optional(),
  occurred_from: z.iso.date().optional().describe('Events whose occurred interval ends on or after this date'),
  occurred_to: z.iso.date().optional().describe('Events whose occurred interval starts on or before this date'),
  country: commaList(CountryCodeSchema, 'ISO 3166-1 alpha-3 countries').optional(),
  admin1: commaList(z.string().min(1).max(200), 'First-level administrative divisions, as written').optional(),
  admin3: commaList(z.string().min(1).max(200), 'Third-level administrative divisions, as written').optional(),
  bbox: Bbox.optional(),
  near: Near.optional(),
  radius_km: z.coerce.number().gt(0).max(20_038).optional().describe('Radius for near, in kilometres'),
  actor: commaList(Uuid, 'Actor ids taking part').optional(),
  role: commaList(ParticipantRoleSchema, 'Participant roles (with actor: that actor in that role)').optional(),
  ...ReportFilterFields,
  q: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .optional()
    .describe('Full-text search over title, description and report quotes (web-search syntax)'),
  tag: commaList(z.string().min(1).max(64), 'Tags').optional(),
  updated_since: z.iso.datetime({ offset: true }).optional().describe('Events changed at or after this instant'),
  external_id: commaList(
    ExternalIdFilter,
    'Identifiers in other systems as source:id (acled:NGA12345): the events that have them',
  ).optional(),
};

export type EventFilters = {
  [K in keyof typeof EventFilterFields]?: z.output<(typeof EventFilterFields)[K]>;
};

/** Cross-parameter rules, reported with the parameter named. */
export function refineEventFilters(filters: EventFilters, ctx: z.RefinementCtx): void {
  if (filters.occurred_from && filters.occurred_to && filters.occurred_from > filters.occurred_to) {
    ctx.addIssue({ code: 'custom', path: ['occurred_to'], message: 'occurred_to must not be before occurred_from' });
  }
  if (filters.near && filters.radius_km === undefined)
    ctx.addIssue({ code: 'custom', path: ['radius_km'], message: 'near needs radius_km' });
  if (filters.radius_km !== undefined && !filters.near)
    ctx.addIssue({ code: 'custom', path: ['near'], message: 'radius_km needs near' });
}

/** The event filters that select by report. */
const REPORT_FILTERS = Object.keys(ReportFilterFields) as (keyof typeof ReportFilterFields)[];

/** SQL conditions on the events row aliased `e`, ANDed by the caller. Deleted events are left out unless asked for. */
export function eventConditions(filters: EventFilters, p: SqlParams): string[] {
  const where = filters.include_deleted ? ['TRUE'] : ['e.deleted_at IS NULL'];
  if (filters.type) where.push(`e.type = ANY(${p.add(filters.type, 'text[]')})`);
  if (filters.status) where.push(`e.status = ANY(${p.add(filters.status, 'event_status[]')})`);
  // Interval overlap: a month-long deployment matches a one-day window inside it. The scan of the
  // occurred index stops at the window's start less the longest interval on record (read through
  // an index), beyond which no event can reach into the window.
  if (filters.occurred_to) where.push(`e.occurred_start <= ${p.add(filters.occurred_to, 'date')}`);
  if (filters.occurred_from) {
    const from = p.add(filters.occurred_from, 'date');
    where.push(`e.occurred_end >= ${from}`);
    where.push(`e.occurred_start >= ${from} - (SELECT coalesce(max(occurred_end - occurred_start), 0) FROM events)`);
  }
  if (filters.country) where.push(`e.country = ANY(${p.add(filters.country, 'text[]')})`);
  if (filters.admin1) where.push(`e.admin1 = ANY(${p.add(filters.admin1, 'text[]')})`);
  if (filters.admin3) where.push(`e.admin3 = ANY(${p.add(filters.admin3, 'text[]')})`);
  if (filters.bbox) {
    const { minLon, minLat, maxLon, maxLat } = filters.bbox;
    // A box whose west edge is east of its east edge crosses the antimeridian: two boxes.
    const boxes: Box[] =
      minLon <= maxLon
        ? [[minLon, minLat, maxLon, maxLat]]
        : [
            [minLon, minLat, 180, maxLat],
            [-180, minLat, maxLon, maxLat],
          ];
    where.push(inBoxes(boxes, p));
  }
  if (filters.near && filters.radius_km !== undefined) {
    const { lat, lon } = filters.near;
    // Boxes around the circle narrow the rows cheaply; the haversine distance then decides.
    where.push(inBoxes(boxesAround(lat, lon, filters.radius_km), p));
    const latP = p.add(lat, 'float8');
    const lonP = p.add(lon, 'float8');
    where.push(
      `2 * ${EARTH_RADIUS_KM} * asin(least(1, sqrt(
        power(sin(radians(e.lat - ${latP}) / 2), 2) +
        cos(radians(${latP})) * cos(radians(e.lat)) * power(sin(radians(e.lon - ${lonP}) / 2), 2)))) <= ${p.add(filters.radius_km, 'float8')}`,
    );
  }
  if (filters.actor || filters.role) {
    const conditions = ['p.event_id = e.id'];
    if (filters.actor) conditions.push(`p.actor_id = ANY(${p.add(filters.actor, 'uuid[]')})`);
    if (filters.role) conditions.push(`p.role = ANY(${p.add(filters.role, 'participant_role[]')})`);
    where.push(`EXISTS (SELECT 1 FROM participants p WHERE ${conditions.join(' AND ')})`);
  }
  // One report must satisfy every report filter at once ("a report by X that denies"). A reporter or
  // via filter is first tested on the events row (reporter_ids, via_ids: refresh.ts keeps them), so a
  // walk of the sort index passes over other events without probing their reports; on its own, that
  // test is the whole answer.
  if (filters.reporter) where.push(`e.reporter_ids && ${p.add(filters.reporter, 'uuid[]')}`);
  if (filters.via) where.push(`e.via_ids && ${p.add(filters.via, 'uuid[]')}`);
  const reportFilters = REPORT_FILTERS.filter((name) => filters[name] !== undefined);
  const answeredByRow = reportFilters.length === 1 && (reportFilters[0] === 'reporter' || reportFilters[0] === 'via');
  if (reportFilters.length > 0 && !answeredByRow) {
    const report = reportConditions(filters, p);
    where.push(
      `EXISTS (SELECT 1 FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL AND ${report.join(' AND ')})`,
    );
  }
  if (filters.q) where.push(`e.search @@ ${searchQuery(filters.q, p)}`);
  if (filters.tag) where.push(`e.tags && ${p.add(filters.tag, 'text[]')}`);
  if (filters.updated_since) where.push(`e.updated_at >= ${p.add(filters.updated_since, 'timestamptz')}`);
  if (filters.external_id) {
    // Found through the pairs' primary key, then the event by its id.
    const sources = p.add(
      filters.external_id.map((x) => x.source),
      'text[]',
    );
    const ids = p.add(
      filters.external_id.map((x) => x.id),
      'text[]',
    );
    where.push(
      `e.id IN (SELECT x.event_id FROM event_external_ids x WHERE (x.source, x.external_id) IN (SELECT * FROM unnest(${sources}, ${ids})))`,
    );
  }
  return where;
}

/** [minLon, minLat, maxLon, maxLat] */
type Box = [number, number, number, number];

/**
 * The event's position lies in one of the boxes. Plain ranges, not a geometric operator: the
 * planner estimates them from column statistics, so it can choose between walking the sort
 * index (large boxes) and the (lat, lon) index (small ones).
 */
function inBoxes(boxes: Box[], p: SqlParams): string {
  const tests = boxes.map(
    ([minLon, minLat, maxLon, maxLat]) =>
      `(e.lat BETWEEN ${p.add(minLat, 'float8')} AND ${p.add(maxLat, 'float8')} AND e.lon BETWEEN ${p.add(minLon, 'float8')} AND ${p.add(maxLon, 'float8')})`,
  );
  return tests.length === 1 ? tests[0]! : `(${tests.join(' OR ')})`;
}

/**
 * Boxes covering every point within `km` of (lat, lon): wider in longitude away from the equator, split at the
 * antimeridian.
 */
export function boxesAround(lat: number, lon: number, km: number): Box[] {
  const latBand = (km / EARTH_RADIUS_KM) * (180 / Math.PI);
  const minLat = Math.max(-90, lat - latBand);
  const maxLat = Math.min(90, lat + latBand);
  const widest = Math.max(Math.abs(minLat), Math.abs(maxLat));
  // Near a pole every longitude is within reach.
  if (widest >= 89.999) return [[-180, minLat, 180, maxLat]];
  const lonBand = latBand / Math.cos((widest * Math.PI) / 180);
  if (lonBand >= 180) return [[-180, minLat, 180, maxLat]];
  const west = lon - lonBand;
  const east = lon + lonBand;
  if (west < -180)
    return [
      [west + 360, minLat, 180, maxLat],
      [-180, minLat, east, maxLat],
    ];
  if (east > 180)
    return [
      [west, minLat, 180, maxLat],
      [-180, minLat, east - 360, maxLat],
    ];
  return [[west, minLat, east, maxLat]];
}

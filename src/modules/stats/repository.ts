// The aggregates behind GET /v1/stats/events and /v1/stats/claims, over the stats
// tables of derive.ts. A stats query reads the narrowest source that can answer it:
//
// - the daily rollups, when it groups by period and type only and filters by type and
//   the occurred window only: a few rows per day, whatever the number of events. Events
//   starting before the window but reaching into it (the overlap rule) are not in the
//   window's days; they are added from event_stats, found by its occurred_start index
//   within the longest interval on record;
// - event_stats alone (one narrow row per event, named `e` so the event filters apply
//   unchanged), when every filter and key is one of its columns;
// - the events joined to event_stats, for every other filter.
//
// Each source yields rows of (day, keys..., events, reports) and of (day, keys..., measure,
// events, low, low_n, ...), summed per group: a rollup row and an event row add up alike.
import type pg from 'pg';
import type { z } from 'zod';
import { ACTOR_SUMMARY_JSON, SqlParams } from '../../db/sql.js';
import { invalidInput } from '../../http/errors.js';
import { eventConditions, type EventFilters } from '../events/filters.js';
import { EventStatusSchema } from '../events/schemas.js';
import {
  FILL_TOO_LONG,
  MAX_GROUPS,
  type ClaimRowSchema,
  type ClaimStatsQuery,
  type EventStatsQuery,
  type EventStatsRowSchema,
  type GroupKey,
  type Interval,
} from './schemas.js';

export type EventStatsRow = z.infer<typeof EventStatsRowSchema>;

/** Filters the event_stats columns answer by themselves. */
const STATS_COLUMN_FILTERS = new Set([
  'include_deleted',
  'type',
  'status',
  'occurred_from',
  'occurred_to',
  'country',
  'admin1',
  'admin3',
]);
/** Filters the daily rollups answer (with the window's edge from event_stats). */
const ROLLUP_FILTERS = new Set(['type', 'occurred_from', 'occurred_to']);

/** The first day of the period holding the date column `day`, as a date. */
function periodOf(day: string, interval: Interval): string {
  switch (interval) {
    case 'day':
      return day;
    case 'week':
      return `(${day} - (extract(isodow FROM ${day})::int - 1))`;
    // On timestamp (not timestamptz): no time zone arithmetic per row.
    case 'month':
    case 'year':
      return `date_trunc('${interval}', ${day}::timestamp)::date`;
  }
}

function setFilters(filters: EventFilters): string[] {
  return Object.entries(filters)
    .filter(([, value]) => value !== undefined)
    .map(([name]) => name);
}

/** The key columns of a grouping, as selected from a source row `x` with a `day` column. */
function keyColumns(groups: GroupKey[], interval: Interval): { name: GroupKey; expr: string }[] {
  return groups.map((name) => ({
    name,
    expr: name === 'period' ? periodOf('x.day', interval) : `x.${name}`,
  }));
}

/**
 * The two source relations of a stats query: `ev` rows (day, keys, events, reports) and
 * `fg` rows (day, keys, measure, events, low, low_n, best, best_n, high, high_n), and the
 * query of the `matching` rows both read when they come from the events.
 */
function sources(
  query: EventStatsQuery,
  groups: GroupKey[],
  p: SqlParams,
): { base?: string; materialized?: boolean; ev: string; fg: string } {
  const { group_by: _g, interval: _i, fill: _f, measure, ...filters } = query;
  const measureParam = measure ? p.add(measure, 'figure_measure[]') : undefined;
  const measureIn = (column: string) => (measureParam ? `${column} = ANY(${measureParam})` : 'TRUE');
  const used = setFilters(filters);

  if (groups.every((g) => g === 'period' || g === 'type') && used.every((f) => ROLLUP_FILTERS.has(f))) {
    const typeParam = filters.type ? p.add(filters.type, 'text[]') : undefined;
    const typeIn = (column: string) => (typeParam ? `${column} = ANY(${typeParam})` : 'TRUE');
    const inWindow = [typeIn('d.type')];
    if (filters.occurred_from) inWindow.push(`d.day >= ${p.add(filters.occurred_from, 'date')}`);
    if (filters.occurred_to) inWindow.push(`d.day <= ${p.add(filters.occurred_to, 'date')}`);
    // Events that start before the window and reach into it: never in the window's days.
    let edge = 'FALSE';
    if (filters.occurred_from) {
      const from = p.add(filters.occurred_from, 'date');
      edge = [
        's.deleted_at IS NULL',
        `s.occurred_start < ${from}`,
        `s.occurred_end >= ${from}`,
        `s.occurred_start >= ${from} - (SELECT coalesce(max(occurred_end - occurred_start), 0) FROM events)`,
        typeIn('s.type'),
      ].join(' AND ');
    }
    return {
      ev: `SELECT d.day, d.type, d.events, d.reports FROM daily_event_stats d WHERE ${inWindow.join(' AND ')}
           UNION ALL
           SELECT s.occurred_start, s.type, 1, s.reports FROM event_stats s WHERE ${edge}`,
      fg: `SELECT d.day, d.type, d.measure, d.events, d.low, d.low_n, d.best, d.best_n, d.high, d.high_n
           FROM daily_figure_stats d WHERE ${[...inWindow, measureIn('d.measure')].join(' AND ')}
           UNION ALL
           SELECT s.occurred_start, s.type, g.measure, 1, g.low, (g.low IS NOT NULL)::int, g.best, (g.best IS NOT NULL)::int,
                  g.high, (g.high IS NOT NULL)::int
           FROM event_stats s JOIN event_figure_stats g ON g.event_id = s.event_id WHERE ${edge} AND ${measureIn('g.measure')}`,
    };
  }

  // One row per matching event (per reporter or actor too, when grouped by them).
  const where = eventConditions(filters, p).join(' AND ');
  const onStatsAlone = used.every((f) => STATS_COLUMN_FILTERS.has(f));
  const matched = onStatsAlone
    ? `SELECT e.event_id, e.occurred_start AS day, e.type, e.status, e.country, e.admin1, e.admin3, e.reports
       FROM event_stats e WHERE ${where}`
    : `SELECT s.event_id, s.occurred_start AS day, s.type, s.status, s.country, s.admin1, s.admin3, s.reports
       FROM events e JOIN event_stats s ON s.event_id = e.id WHERE ${where}`;
  const columns = ['m.event_id', 'm.day', 'm.type', 'm.status', 'm.country', 'm.admin1', 'm.admin3'];
  let reports = 'm.reports';
  let joins = '';
  if (groups.includes('reporter')) {
    // A reporter's group counts its own reports on the events, not every report of them.
    columns.push('rr.reporter_id AS reporter');
    reports = 'rr.reports';
    joins += ` CROSS JOIN LATERAL (SELECT r.reporter_id, count(*)::int AS reports FROM reports r
                                   WHERE r.event_id = m.event_id AND r.deleted_at IS NULL GROUP BY r.reporter_id) rr`;
  }
  if (groups.includes('actor')) {
    // An actor counts an event once, whatever its roles in it (only those of `role`, when given).
    const role = filters.role ? ` AND p.role = ANY(${p.add(filters.role, 'participant_role[]')})` : '';
    columns.push('pa.actor_id AS actor');
    joins += ` CROSS JOIN LATERAL (SELECT DISTINCT p.actor_id FROM participants p WHERE p.event_id = m.event_id${role}) pa`;
  }
  // Both aggregates read the matching rows: found once when finding them costs (joins), scanned twice when they are
  // event_stats rows.
  const costly = joins !== '' || !onStatsAlone;
  return {
    materialized: costly,
    base: `SELECT ${columns.join(', ')}, ${reports} AS reports FROM (${matched}) m${joins}`,
    ev: `SELECT x.*, 1 AS events FROM matching x`,
    fg: `SELECT x.*, g.measure, 1 AS events, g.low, (g.low IS NOT NULL)::int AS low_n, g.best, (g.best IS NOT NULL)::int AS best_n,
                g.high, (g.high IS NOT NULL)::int AS high_n
         FROM matching x JOIN event_figure_stats g ON g.event_id = x.event_id WHERE ${measureIn('g.measure')}`,
  };
}

/** The stats rows of the query, grouped by its keys and ordered by them. */
export async function eventStats(pool: pg.Pool, query: EventStatsQuery): Promise<EventStatsRow[]> {
  const groups = query.group_by ?? [];
  const interval = query.interval ?? 'month';
  const p = new SqlParams();
  const { base, materialized, ev, fg } = sources(query, groups, p);
  const keys = keyColumns(groups, interval);
  const keyList = keys.map((k) => `${k.expr} AS ${k.name}`);
  const keyNames = keys.map((k) => k.name);
  const groupBy = (extra: string[]) =>
    keyNames.length + extra.length > 0 ? `GROUP BY ${[...keyNames, ...extra].join(', ')}` : '';
  // Groups are matched on their keys as JSON text: equal for equal keys, nulls included, and hashable.
  const groupId = (alias: string) => `json_build_array(${keyNames.map((k) => `${alias}.${k}`).join(', ')})::text`;
  const actorJson = (key: 'reporter' | 'actor') =>
    `(SELECT ${ACTOR_SUMMARY_JSON} FROM actors a WHERE a.id = c.${key}) AS ${key}`;
  const outputKeys = keyNames.map((k) =>
    k === 'reporter' || k === 'actor'
      ? actorJson(k)
      : k === 'period'
        ? `to_char(c.period, 'YYYY-MM-DD') AS period`
        : `c.${k}`,
  );
  const order = keyNames.map((k) =>
    k === 'reporter' || k === 'actor' ? `(SELECT a.name FROM actors a WHERE a.id = c.${k}), c.${k}` : `c.${k}`,
  );

  const sql = `
    WITH ${base ? `matching AS ${materialized ? '' : 'NOT '}MATERIALIZED (${base}),` : ''}
    counts AS (
      SELECT ${[...keyList, 'COALESCE(sum(x.events), 0)::float8 AS events', 'COALESCE(sum(x.reports), 0)::float8 AS reports'].join(', ')}
      FROM (${ev}) x ${groupBy([])}
    ),
    sums AS (
      SELECT ${[...keyList, 'x.measure', 'sum(x.low)::float8 AS low', 'sum(x.low_n)::int AS low_n', 'sum(x.best)::float8 AS best', 'sum(x.best_n)::int AS best_n', 'sum(x.high)::float8 AS high', 'sum(x.high_n)::int AS high_n'].join(', ')}
      FROM (${fg}) x ${groupBy(['x.measure'])}
    ),
    figures AS (
      SELECT ${groupId('s')} AS id, json_object_agg(s.measure, json_build_object('low', s.low, 'best', s.best, 'high', s.high,
               'low_n', s.low_n, 'best_n', s.best_n, 'high_n', s.high_n) ORDER BY s.measure) AS figures
      FROM sums s GROUP BY 1
    )
    SELECT ${[...outputKeys, 'c.events', 'c.reports'].join(', ')}, COALESCE(f.figures, '{}'::json) AS figures
    FROM counts c LEFT JOIN figures f ON f.id = ${groupId('c')}
    ${order.length > 0 ? `ORDER BY ${order.map((o) => `${o} NULLS LAST`).join(', ')}` : ''}
    LIMIT ${MAX_GROUPS + 1}`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    // The stats scan many rows: two workers finish the large ones sooner (pages of lists run without).
    await client.query('SET LOCAL max_parallel_workers_per_gather = 2');
    const result = await client.query<EventStatsRow>(sql, p.values);
    await client.query('COMMIT');
    if (result.rows.length > MAX_GROUPS) {
      throw invalidInput([
        {
          path: '/group_by',
          in: 'query',
          message: `more than ${MAX_GROUPS} groups: narrow the filters or group by fewer keys`,
        },
      ]);
    }
    return result.rows;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export type ClaimRow = z.infer<typeof ClaimRowSchema>;

/**
 * Per reporter, role and stance: the reports on the matching events and the sums of their own figures of the measure.
 */
export async function claimStats(pool: pg.Pool, query: ClaimStatsQuery): Promise<ClaimRow[]> {
  const { measure, ...filters } = query;
  const p = new SqlParams();
  const where = eventConditions(filters, p).join(' AND ');
  const measureParam = p.add(measure, 'figure_measure');
  const sql = `
    WITH claims AS (
      SELECT r.reporter_id, r.reporter_role, r.stance, r.event_id, r.id,
             (SELECT sum(f.low) FROM figures f WHERE f.report_id = r.id AND f.measure = ${measureParam}) AS low,
             (SELECT sum(f.best) FROM figures f WHERE f.report_id = r.id AND f.measure = ${measureParam}) AS best,
             (SELECT sum(f.high) FROM figures f WHERE f.report_id = r.id AND f.measure = ${measureParam}) AS high
      FROM events e JOIN reports r ON r.event_id = e.id AND r.deleted_at IS NULL
      WHERE ${where}
    )
    SELECT (SELECT ${ACTOR_SUMMARY_JSON} FROM actors a WHERE a.id = c.reporter_id) AS reporter,
           c.reporter_role, c.stance, count(DISTINCT c.event_id)::int AS events, count(*)::int AS reports,
           json_build_object('low', sum(c.low)::float8, 'best', sum(c.best)::float8, 'high', sum(c.high)::float8,
             'low_n', count(c.low), 'best_n', count(c.best), 'high_n', count(c.high)) AS figures
    FROM claims c
    GROUP BY c.reporter_id, c.reporter_role, c.stance
    ORDER BY count(*) DESC, (SELECT a.name FROM actors a WHERE a.id = c.reporter_id), c.reporter_id, c.reporter_role, c.stance
    LIMIT ${MAX_GROUPS + 1}`;
  const result = await pool.query<ClaimRow>(sql, p.values);
  if (result.rows.length > MAX_GROUPS)
    throw invalidInput([{ path: '', in: 'query', message: `more than ${MAX_GROUPS} reporters: narrow the filters` }]);
  return result.rows;
}

/** The first day of the period (of `interval`) holding the date `day` (YYYY-MM-DD), as PostgreSQL computes it. */
export function periodStart(day: string, interval: Interval): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (interval === 'week') date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  if (interval === 'month' || interval === 'year') date.setUTCDate(1);
  if (interval === 'year') date.setUTCMonth(0);
  return date.toISOString().slice(0, 10);
}

function nextPeriod(period: string, interval: Interval): string {
  const date = new Date(`${period}T00:00:00Z`);
  if (interval === 'day') date.setUTCDate(date.getUTCDate() + 1);
  if (interval === 'week') date.setUTCDate(date.getUTCDate() + 7);
  if (interval === 'month') date.setUTCMonth(date.getUTCMonth() + 1);
  if (interval === 'year') date.setUTCFullYear(date.getUTCFullYear() + 1);
  return date.toISOString().slice(0, 10);
}

/**
 * Adds a zero row for every period without events, from `from` (or the first period found) to
 * `to` (or the last), for each combination of the other keys found: a chart's series have
 * no gaps. Rows keep the order of the query (period first when it is the first key).
 */
export function fillPeriods(
  rows: EventStatsRow[],
  groups: GroupKey[],
  interval: Interval,
  window: { from?: string; to?: string },
): EventStatsRow[] {
  const found = rows.map((row) => row.period!).sort();
  const first = window.from ? periodStart(window.from, interval) : found[0];
  const last = window.to ? periodStart(window.to, interval) : found.at(-1);
  if (first === undefined || last === undefined) return rows;
  const periods: string[] = [];
  for (let period = first; period <= last; period = nextPeriod(period, interval)) {
    periods.push(period);
    if (periods.length > MAX_GROUPS) break;
  }
  const otherKeys = groups.filter((key) => key !== 'period');
  const seriesOf = (row: EventStatsRow) => JSON.stringify(otherKeys.map((key) => row[key]));
  const series = new Map<string, EventStatsRow>();
  const present = new Map<string, EventStatsRow>();
  for (const row of rows) {
    if (!series.has(seriesOf(row))) series.set(seriesOf(row), row);
    present.set(`${row.period} ${seriesOf(row)}`, row);
  }
  // With no other keys, the one series exists even when no event matched.
  if (otherKeys.length === 0 && series.size === 0) series.set('[]', { events: 0, reports: 0, figures: {} });
  if (periods.length * series.size > MAX_GROUPS) {
    throw invalidInput([
      {
        path: '/fill',
        in: 'query',
        message: FILL_TOO_LONG,
      },
    ]);
  }
  const seriesKeys = [...series.keys()].sort((a, b) => compareSeries(series.get(a)!, series.get(b)!, otherKeys));
  const filled: EventStatsRow[] = [];
  const periodFirst = groups[0] === 'period';
  const outer = periodFirst ? periods : seriesKeys;
  const inner = periodFirst ? seriesKeys : periods;
  for (const a of outer) {
    for (const b of inner) {
      const [period, key] = periodFirst ? [a, b] : [b, a];
      const existing = present.get(`${period} ${key}`);
      if (existing) {
        filled.push(existing);
        continue;
      }
      const template = series.get(key)!;
      const zero: EventStatsRow = { events: 0, reports: 0, figures: {} };
      for (const name of groups) {
        if (name === 'period') zero.period = period;
        else (zero as unknown as Record<string, unknown>)[name] = template[name];
      }
      filled.push(zero);
    }
  }
  // Keys are emitted in group_by order, as the query names them.
  return filled.map((row) => orderKeys(row, groups));
}

const STATUS_ORDER: readonly string[] = EventStatusSchema.options;

/**
 * The order of the query's ORDER BY for the keys other than the period: names for actors, enum order for status, nulls
 * last.
 */
function compareSeries(a: EventStatsRow, b: EventStatsRow, keys: GroupKey[]): number {
  for (const key of keys) {
    const [x, y] = [a[key], b[key]];
    if (x === y) continue;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    const [u, v] =
      key === 'status'
        ? [STATUS_ORDER.indexOf(x as string), STATUS_ORDER.indexOf(y as string)]
        : key === 'reporter' || key === 'actor'
          ? [(x as { name: string }).name, (y as { name: string }).name]
          : [x as string, y as string];
    if (u !== v) return u < v ? -1 : 1;
  }
  return 0;
}

function orderKeys(row: EventStatsRow, groups: GroupKey[]): EventStatsRow {
  const ordered: Record<string, unknown> = {};
  for (const name of groups) ordered[name] = row[name];
  return { ...ordered, events: row.events, reports: row.reports, figures: row.figures };
}

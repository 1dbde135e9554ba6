// The ACLED-format CSV export (format=acled-csv): one row per event in ACLED's codebook
// columns, mapped through acled-codebook.ts. Like the other exports it is a Transform from batches
// of the events' JSON texts to text, so memory stays flat however many events match.
import type { z } from 'zod';
import type { EventSchema } from '../schemas.js';
import { csvField } from './csv.js';
import { textTransform, UTF8_BOM } from './streams.js';
import {
  ACLED_COLUMNS,
  ACLED_TAG,
  acledCountry,
  acledDate,
  acledTagValues,
  type AcledColumn,
  type AcledPair,
  type AcledTypes,
  disorderType,
  FALLBACK_TYPE,
  GEO_PRECISION,
  LIST_SEPARATOR,
  SIDE_OF_ROLE,
  TYPE_TAG,
} from './acled-codebook.js';
import { acledEventId } from './acled-id.js';

// external_ids arrives with the import pipeline (issue 6); read it when the event has it.
type Event = z.infer<typeof EventSchema> & { external_ids?: Record<string, string> };

/** The ACLED event and sub-event type to write, and the `type=` tag when they would not give our type back. */
function acledTypes(event: Event, types: AcledTypes): { pair: AcledPair | null; typeTag: string | null } {
  const kept = acledTagValues(event.tags);
  const keptPair =
    kept.event_type && kept.sub_event_type ? { eventType: kept.event_type, subEventType: kept.sub_event_type } : null;
  // Types kept from an ACLED import are written back while the event still has the type they were read as:
  // `other`, or what the vocabulary reads them as now (an import before a type was added kept them on `other`).
  const readAs = keptPair && (event.type === FALLBACK_TYPE || types.codeOf(keptPair) === event.type);
  const pair = readAs ? keptPair : types.pairOf(event.type);
  // The import reads the last type= tag: after a tag of the event's own that looks like one, ours must follow.
  const needed = types.codeOf(pair) !== event.type || event.tags.some((tag) => tag.startsWith(TYPE_TAG));
  return { pair, typeTag: needed ? `${TYPE_TAG}${event.type}` : null };
}

/** actor1 and assoc_actor_1, or actor2 and assoc_actor_2: a side's actors, supporters last, each once. */
function side(event: Event, which: 1 | 2): { actor: string; associates: string } {
  const names: string[] = [];
  const supporters: string[] = [];
  for (const { actor, role } of event.participants) {
    if (SIDE_OF_ROLE[role] === which) (role === 'supporter' ? supporters : names).push(actor.name);
  }
  const all = [...new Set([...names, ...supporters])];
  return { actor: all[0] ?? '', associates: all.slice(1).join(LIST_SEPARATOR) };
}

/**
 * ACLED records the most conservative figure: the event's killed figures' low (an editor's or the evidence's) (else
 * best), summed; 0 when none is stated.
 */
function fatalities(event: Event): number {
  let total = 0;
  for (const figure of event.figures) if (figure.measure === 'killed') total += figure.low ?? figure.best ?? 0;
  return total;
}

/** One CSV record (CRLF-terminated) of an event in ACLED_COLUMNS order. */
export function acledCsvRecord(event: Event, types: AcledTypes): string {
  const { occurred, location } = event;
  const { date, precision } = acledDate(occurred);
  const { pair, typeTag } = acledTypes(event, types);
  const kept = acledTagValues(event.tags);
  const tags = event.tags.filter((tag) => !tag.startsWith(ACLED_TAG));
  if (typeTag) tags.push(typeTag);
  const side1 = side(event, 1);
  const side2 = side(event, 2);
  const country = acledCountry(location.country);
  const values: Record<AcledColumn, string | number | null> = {
    event_id_cnty: acledEventId(event),
    event_date: date,
    year: date.slice(0, 4),
    time_precision: precision,
    disorder_type: pair ? disorderType(pair.subEventType) : '',
    event_type: pair?.eventType ?? '',
    sub_event_type: pair?.subEventType ?? '',
    actor1: side1.actor,
    assoc_actor_1: side1.associates,
    actor2: side2.actor,
    assoc_actor_2: side2.associates,
    iso: country.iso,
    country: country.name,
    admin1: location.admin1,
    admin2: location.admin2,
    admin3: location.admin3,
    location: location.name,
    latitude: location.lat,
    longitude: location.lon,
    geo_precision: GEO_PRECISION[location.precision],
    source: [...new Set(event.reports.map((report) => report.reporter.name))].join(LIST_SEPARATOR),
    source_scale: kept.source_scale ?? '',
    notes: event.description ?? event.title,
    fatalities: fatalities(event),
    tags: tags.join(LIST_SEPARATOR),
    timestamp: Math.floor(Date.parse(event.updated_at) / 1000),
  };
  return `${ACLED_COLUMNS.map((column) => csvField(values[column])).join(',')}\r\n`;
}

export const ACLED_CSV_HEADER = `${ACLED_COLUMNS.join(',')}\r\n`;

/**
 * The export's Transform: the header (after a byte-order mark with `bom`), then a record per event. `types` is read
 * from the vocabulary once per export.
 */
export const toAcledCsv = (types: AcledTypes, bom = false) =>
  textTransform(
    (json) => acledCsvRecord(JSON.parse(json) as Event, types),
    `${bom ? UTF8_BOM : ''}${ACLED_CSV_HEADER}`,
  );

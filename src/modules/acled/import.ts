// The ACLED import reader: each row of an ACLED CSV export becomes the body of a
// POST /v1/events (EventInputSchema) with external_ids.acled = event_id_cnty and one
// report per source, mapped through codebook.ts. Columns are found by name, in any order;
// columns it does not use are ignored. Rows it cannot read come back as errors naming
// their column, at the CSV line where the row starts (the header is line 1).
import {
  ACLED_TAG_COLUMNS,
  acledTag,
  type AcledPair,
  AcledTypes,
  actorKindOf,
  countryOf,
  isStorableTag,
  LOCATION_PRECISION,
  occurredOf,
  ROLE_OF_SIDE,
  samePair,
  SOURCE_KIND,
  splitList,
  TYPE_TAG,
  type VocabularyEntry,
} from './codebook.js';
import { csvRecords } from './csv.js';
import { externalIdsOfAcledId } from './event-id.js';
import type { ImportRecord } from '../imports/records.js';

export type { ImportRecord };

type ImportError = { path: string; message: string };

/** Columns every ACLED export has and an event cannot do without: its id, date and sources (an event needs a report). */
export const REQUIRED_COLUMNS = ['event_id_cnty', 'event_date', 'source'] as const;

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/**
 * A calendar date from ACLED's event_date: year-month-day (the codebook's form), or day, month
 * name and year ("16 February 2023", "16-Feb-2023") as some exports write it. Null if neither.
 */
export function parseAcledDate(text: string): string | null {
  let year: number;
  let month: number;
  let day: number;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const named = /^(\d{1,2})[ -]([A-Za-z]{3,9})[ -](\d{4})$/.exec(text);
  if (iso) [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (named) {
    const name = named[2]!.toLowerCase();
    month = MONTHS.findIndex((full) => full === name || (name.length === 3 && full.startsWith(name))) + 1;
    [year, day] = [Number(named[3]), Number(named[1])];
  } else return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date.toISOString().slice(0, 10);
}

/** A number from a cell, within bounds; undefined when the cell is empty, NaN when it is not a number in range. */
function numberCell(text: string, min: number, max: number): number | undefined {
  if (text === '') return undefined;
  const value = /^[-+]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : NaN;
  return value >= min && value <= max ? value : NaN;
}

/** A short title, since ACLED has none: what happened, between whom, where. */
function titleOf(what: string, actors: string[], where: string): string {
  const title = `${what}${actors.length > 0 ? `: ${actors.join(' and ')}` : ''}${where ? ` in ${where}` : ''}`;
  return title.length <= 500 ? title : `${title.slice(0, 499)}…`;
}

/** The event body of one row, or the errors that keep it from being one. */
function rowBody(cell: (column: string) => string, types: AcledTypes): { value: Record<string, unknown> } | { errors: ImportError[] } {
  const errors: ImportError[] = [];
  const fail = (path: string, message: string) => errors.push({ path, message });

  const id = cell('event_id_cnty');
  if (id === '') fail('event_id_cnty', 'event_id_cnty is empty: each row needs its ACLED event id');
  else if (id.length > 200) fail('event_id_cnty', 'event_id_cnty is longer than 200 characters');

  const dateText = cell('event_date');
  const date = parseAcledDate(dateText);
  if (dateText === '') fail('event_date', 'event_date is empty');
  else if (!date) fail('event_date', `event_date "${dateText}" is not a date (YYYY-MM-DD, or day, month name and year)`);

  const timeText = cell('time_precision');
  const timePrecision = timeText === '' ? 1 : Number(timeText);
  if (timePrecision !== 1 && timePrecision !== 2 && timePrecision !== 3)
    fail('time_precision', `time_precision "${timeText}" is not 1, 2 or 3`);

  const sources = splitList(cell('source'));
  if (sources.length === 0) fail('source', 'source is empty: each row needs at least one source (an event needs a report)');

  const lat = numberCell(cell('latitude'), -90, 90);
  const lon = numberCell(cell('longitude'), -180, 180);
  if (Number.isNaN(lat)) fail('latitude', `latitude "${cell('latitude')}" is not a number from -90 to 90`);
  if (Number.isNaN(lon)) fail('longitude', `longitude "${cell('longitude')}" is not a number from -180 to 180`);
  if ((lat === undefined) !== (lon === undefined)) fail(lat === undefined ? 'latitude' : 'longitude', 'latitude and longitude go together');

  const geoText = cell('geo_precision');
  const geoPrecision = geoText === '' ? null : Number(geoText);
  if (geoPrecision !== null && geoPrecision !== 1 && geoPrecision !== 2 && geoPrecision !== 3) {
    fail('geo_precision', `geo_precision "${geoText}" is not 1, 2 or 3`);
  }

  const fatalitiesText = cell('fatalities');
  const fatalities = fatalitiesText === '' ? 0 : /^\d+$/.test(fatalitiesText) ? Number(fatalitiesText) : NaN;
  if (!(fatalities <= 2_000_000_000)) fail('fatalities', `fatalities "${fatalitiesText}" is not a whole number of 0 or more`);

  if (errors.length > 0) return { errors };

  // Types: a `type=` tag names our type outright; else ACLED's pair, through the vocabulary.
  const eventType = cell('event_type');
  const subEventType = cell('sub_event_type');
  const pair: AcledPair | null = eventType || subEventType ? { eventType, subEventType } : null;
  const tags = splitList(cell('tags')).filter(isStorableTag);
  // The export writes our type last, after any tag of the event's own that looks like one.
  const typeTag = tags.findLastIndex((tag) => tag.startsWith(TYPE_TAG) && types.has(tag.slice(TYPE_TAG.length)));
  const type = typeTag >= 0 ? tags.splice(typeTag, 1)[0]!.slice(TYPE_TAG.length) : types.codeOf(pair);
  // ACLED values with no field of ours are kept as tags, for the export to write back.
  const kept: Record<(typeof ACLED_TAG_COLUMNS)[number], string> = {
    event_type: '',
    sub_event_type: '',
    source_scale: cell('source_scale'),
  };
  if (pair && !samePair(types.pairOf(type), pair)) Object.assign(kept, { event_type: eventType, sub_event_type: subEventType });
  for (const column of ACLED_TAG_COLUMNS) {
    const tag = acledTag(column, kept[column]);
    if (kept[column] && isStorableTag(tag)) tags.push(tag);
  }

  const participants: { actor: { name: string; kind: string }; role: string }[] = [];
  for (const which of [1, 2] as const) {
    const kind = actorKindOf(cell(`inter${which}`));
    const named = [cell(`actor${which}`), ...splitList(cell(`assoc_actor_${which}`))].filter(Boolean);
    for (const [index, name] of [...new Set(named)].entries()) {
      participants.push({ actor: { name, kind: index === 0 ? kind : 'group' }, role: ROLE_OF_SIDE[which] });
    }
  }

  const country = countryOf(cell('iso'), cell('country'));
  const location = {
    name: cell('location') || null,
    admin1: cell('admin1') || null,
    admin2: cell('admin2') || null,
    country,
    lat: lat ?? null,
    lon: lon ?? null,
    precision: geoPrecision ? LOCATION_PRECISION[geoPrecision as 1 | 2 | 3] : 'unknown',
  };
  const notes = cell('notes');
  const actors = [cell('actor1'), cell('actor2')].filter(Boolean);
  return {
    value: {
      type,
      title: titleOf(subEventType || eventType || types.label(type), actors, cell('location') || cell('admin1') || cell('country')),
      description: notes || null,
      occurred: occurredOf(date!, timePrecision as 1 | 2 | 3),
      location,
      participants,
      // ACLED's fatalities are its most conservative figure; 0 also means none reported, so it adds no figure.
      figures: fatalities > 0 ? [{ measure: 'killed', low: fatalities }] : [],
      reports: sources.map((name) => ({ reporter: { name, kind: SOURCE_KIND } })),
      tags,
      external_ids: externalIdsOfAcledId(id),
    },
  };
}

/**
 * The import records of an ACLED CSV: a POST /v1/events body per row, or its errors. The
 * vocabulary (GET /v1/event-types) maps ACLED's types to ours, as the export maps ours to
 * theirs. A header without a required column is one error at line 1, and nothing else is read.
 */
export async function* acledRecords(
  input: AsyncIterable<string | Uint8Array>,
  vocabulary: readonly VocabularyEntry[],
): AsyncGenerator<ImportRecord> {
  const types = new AcledTypes(vocabulary);
  let columns: Map<string, number> | null = null;
  let width = 0;
  for await (const record of csvRecords(input)) {
    if ('error' in record) {
      yield { line: record.line, errors: [{ path: '', message: record.error }] };
      continue;
    }
    if (!columns) {
      columns = new Map();
      for (const [index, name] of record.fields.entries()) {
        const column = name.trim().toLowerCase();
        if (!columns.has(column)) columns.set(column, index);
      }
      width = record.fields.length;
      const missing = REQUIRED_COLUMNS.filter((column) => !columns!.has(column));
      if (missing.length > 0) {
        yield { line: record.line, errors: missing.map((column) => ({ path: column, message: `the header has no ${column} column` })) };
        return;
      }
      continue;
    }
    if (record.fields.length !== width) {
      yield {
        line: record.line,
        errors: [{ path: '', message: `the row has ${record.fields.length} fields and the header ${width} (an unquoted comma?)` }],
      };
      continue;
    }
    const fields = record.fields;
    const index = columns;
    const result = rowBody((column) => {
      const at = index.get(column);
      return at === undefined ? '' : fields[at]!.trim();
    }, types);
    yield 'errors' in result ? { line: record.line, errors: result.errors } : { line: record.line, value: result.value };
  }
}

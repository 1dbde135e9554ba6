// The ACLED import reader: each event of an ACLED CSV export becomes the body of a POST /v1/events (EventInputSchema)
// with external_ids.acled = event_id_cnty and one report per source, mapped through the codebook
// (events/render/acled-codebook.ts). Columns are found by name, in any order; columns it does not use are ignored, so
// every layout since 2019 reads alike (with or without data_id, event_id_no_cnty, iso3; disorder_type,
// civilian_targeting, tags). In ACLED's one-row-per-side ("monadic") layout, which has no actor2 column, the rows of
// one event are merged into one body. Rows it cannot read come back as errors naming their column, at the CSV line
// where the row starts (the header is line 1).
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
} from '../events/render/acled-codebook.js';
import { csvText } from '../events/render/csv.js';
import { csvRecords } from './csv.js';
import { parseAcledDate } from './dates.js';
import { normaliseName } from '../actors/repository.js';
import { externalIdsOfAcledId } from '../events/render/acled-id.js';
import type { ImportRecord } from '../imports/records.js';

export type { ImportRecord };
export { parseAcledDate };

type ImportError = { path: string; message: string };

/**
 * Columns every ACLED export has and an event cannot do without: its id, date and sources (an event needs a report).
 */
export const REQUIRED_COLUMNS = ['event_id_cnty', 'event_date', 'source'] as const;

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

/** One row read: the event it describes, less what the rows of one event add up (sides, sources, tags). */
interface Row {
  line: number;
  id: string;
  /** The event's fields but participants, reports, tags and title. */
  body: Record<string, unknown>;
  /**
   * The actors of each side the row gives (actor1 with assoc_actor_1, then actor2 with assoc_actor_2), primary first.
   */
  sides: string[][];
  sources: string[];
  tags: string[];
  /** What happened and where, for the title. */
  what: string;
  where: string;
  /** The cells that the rows of one event must agree on, by column. */
  shared: Record<string, string>;
}

/** Columns that the rows of one event in the one-row-per-side layout repeat: they must agree. */
const SHARED_COLUMNS = [
  'event_date',
  'time_precision',
  'event_type',
  'sub_event_type',
  'iso',
  'country',
  'admin1',
  'admin2',
  'admin3',
  'location',
  'latitude',
  'longitude',
  'geo_precision',
  'fatalities',
] as const;

/** One row, or the errors that keep it from being read. */
function readRow(line: number, cell: (column: string) => string, types: AcledTypes): Row | { errors: ImportError[] } {
  const errors: ImportError[] = [];
  const fail = (path: string, message: string) => errors.push({ path, message });

  const id = cell('event_id_cnty');
  if (id === '') fail('event_id_cnty', 'event_id_cnty is empty: each row needs its ACLED event id');
  else if (id.length > 200) fail('event_id_cnty', 'event_id_cnty is longer than 200 characters');

  const dateText = cell('event_date');
  const date = dateText === '' ? null : parseAcledDate(dateText);
  if (!date) fail('event_date', 'event_date is empty');
  else if ('error' in date) fail('event_date', `event_date ${date.error}`);

  const timeText = cell('time_precision');
  const timePrecision = timeText === '' ? 1 : Number(timeText);
  if (timePrecision !== 1 && timePrecision !== 2 && timePrecision !== 3)
    fail('time_precision', `time_precision "${timeText}" is not 1, 2 or 3`);

  const sources = splitList(cell('source'));
  if (sources.length === 0)
    fail('source', 'source is empty: each row needs at least one source (an event needs a report)');

  const lat = numberCell(cell('latitude'), -90, 90);
  const lon = numberCell(cell('longitude'), -180, 180);
  if (Number.isNaN(lat)) fail('latitude', `latitude "${cell('latitude')}" is not a number from -90 to 90`);
  if (Number.isNaN(lon)) fail('longitude', `longitude "${cell('longitude')}" is not a number from -180 to 180`);
  if ((lat === undefined) !== (lon === undefined))
    fail(lat === undefined ? 'latitude' : 'longitude', 'latitude and longitude go together');

  const geoText = cell('geo_precision');
  const geoPrecision = geoText === '' ? null : Number(geoText);
  if (geoPrecision !== null && geoPrecision !== 1 && geoPrecision !== 2 && geoPrecision !== 3) {
    fail('geo_precision', `geo_precision "${geoText}" is not 1, 2 or 3`);
  }

  const fatalitiesText = cell('fatalities');
  const fatalities = fatalitiesText === '' ? 0 : /^\d+$/.test(fatalitiesText) ? Number(fatalitiesText) : NaN;
  if (!(fatalities <= 2_000_000_000))
    fail('fatalities', `fatalities "${fatalitiesText}" is not a whole number of 0 or more`);

  if (errors.length > 0 || !date || 'error' in date) return { errors };

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
  if (pair && !samePair(types.pairOf(type), pair))
    Object.assign(kept, { event_type: eventType, sub_event_type: subEventType });
  for (const column of ACLED_TAG_COLUMNS) {
    const tag = acledTag(column, kept[column]);
    if (kept[column] && isStorableTag(tag)) tags.push(tag);
  }

  const sides = [1, 2].map((which) =>
    [cell(`actor${which}`), ...splitList(cell(`assoc_actor_${which}`))].filter(Boolean),
  );
  const location = {
    name: cell('location') || null,
    admin1: cell('admin1') || null,
    admin2: cell('admin2') || null,
    admin3: cell('admin3') || null,
    country: countryOf(cell('iso'), cell('country'), cell('iso3')),
    lat: lat ?? null,
    lon: lon ?? null,
    precision: geoPrecision ? LOCATION_PRECISION[geoPrecision as 1 | 2 | 3] : 'unknown',
  };
  return {
    line,
    id,
    body: {
      type,
      description: cell('notes') || null,
      occurred: occurredOf(date.date, timePrecision as 1 | 2 | 3),
      location,
      // ACLED's fatalities are its most conservative figure; 0 also means none reported, so it adds no figure.
      figures: fatalities > 0 ? [{ measure: 'killed', low: fatalities }] : [],
      external_ids: externalIdsOfAcledId(id),
    },
    sides,
    sources,
    tags,
    what: subEventType || eventType || types.label(type),
    where: cell('location') || cell('admin1') || cell('country'),
    shared: Object.fromEntries(SHARED_COLUMNS.map((column) => [column, cell(column)])),
  };
}

/**
 * The body of an event from its rows (one in the dyadic layouts; one per side in the monadic one).
 * The first row's first side is the initiating side (perpetrator), every other side the receiving
 * one (target): ACLED gives its sides no direction, and the export writes them back in this order.
 */
function eventBody(rows: Row[], monadic: boolean, kindOf: (name: string) => string): Record<string, unknown> {
  // A monadic row has actor1 and assoc_actor_1 only: its side is the first.
  const sides = monadic ? rows.map((row) => row.sides[0]!) : rows[0]!.sides;
  const participants: { actor: { name: string; kind: string }; role: string }[] = [];
  const seen = new Set<string>();
  for (const [index, side] of sides.entries()) {
    const role = ROLE_OF_SIDE[index === 0 ? 1 : 2];
    for (const name of side) {
      if (seen.has(`${role}\u0000${name}`)) continue;
      seen.add(`${role}\u0000${name}`);
      participants.push({ actor: { name, kind: kindOf(name) }, role });
    }
  }
  const first = rows[0]!;
  const union = (lists: string[][]) => [...new Set(lists.flat())];
  return {
    ...first.body,
    title: titleOf(first.what, sides.flatMap((side) => side.slice(0, 1)).slice(0, 2), first.where),
    participants,
    reports: union(rows.map((row) => row.sources)).map((name) => ({ reporter: { name, kind: SOURCE_KIND } })),
    tags: union(rows.map((row) => row.tags)),
  };
}

/** The records of an event's rows: one body (and the number of rows merged into it), or every row's errors. */
function eventRecords(
  rows: Row[],
  rejected: Map<number, ImportError[]>,
  kindOf: (name: string) => string,
): ImportRecord[] {
  const first = rows[0]!;
  const disagreements = new Map<number, ImportError[]>();
  for (const row of rows.slice(1)) {
    const differ = SHARED_COLUMNS.filter((column) => row.shared[column] !== first.shared[column]);
    if (differ.length > 0)
      disagreements.set(
        row.line,
        differ.map((column) => ({
          path: column,
          message: `${column} "${row.shared[column]}" differs from "${first.shared[column]}" on line ${first.line}, another row of event ${first.id}`,
        })),
      );
  }
  if (rejected.size === 0 && disagreements.size === 0)
    return [{ line: first.line, value: eventBody(rows, true, kindOf), merged: rows.length - 1 }];
  // An event is imported whole or not at all: a later import of the mended file would skip it as imported.
  const bad = [...rejected.keys(), ...disagreements.keys()];
  const reason = {
    path: '',
    message: `another row of event ${first.id} (line ${bad.join(', ')}) was rejected, so the event is not imported`,
  };
  const lines = [...new Set([...rows.map((row) => row.line), ...bad])].sort((a, b) => a - b);
  return lines.map((line) => ({ line, errors: rejected.get(line) ?? disagreements.get(line) ?? [reason] }));
}

/**
 * How far apart (in rows) the rows of one event may be in the one-row-per-side layout. ACLED
 * writes them next to each other; a file sorted by date, country or actor keeps them within a
 * day's rows. An event is held until this many rows follow its first, so memory stays bounded.
 */
export const MERGE_WINDOW = 10_000;

export interface AcledReadOptions {
  /** Rows of one event may be this far apart (default MERGE_WINDOW). */
  mergeWindow?: number;
  /**
   * The kinds of existing actors by normalised name (actorKindsByName), so an ACLED name that an
   * actor has already, in whatever kind an editor gave it, names that actor.
   */
  existingKinds?: (names: string[]) => Promise<Map<string, string[]>>;
}

/**
 * The import records of an ACLED CSV: a POST /v1/events body per event, or its errors. The
 * vocabulary (GET /v1/event-types) maps ACLED's types to ours, as the export maps ours to
 * theirs. A header without a required column is one error at line 1, and nothing else is read.
 * In the one-row-per-side layout (no actor2 column) the rows with one event_id_cnty become one
 * event, its record at the line of its first row with `merged` the number of further rows.
 */
export async function* acledRecords(
  input: AsyncIterable<string | Uint8Array>,
  vocabulary: readonly VocabularyEntry[],
  options: AcledReadOptions = {},
): AsyncGenerator<ImportRecord> {
  const types = new AcledTypes(vocabulary);
  const mergeWindow = options.mergeWindow ?? MERGE_WINDOW;
  /** Each actor name's kind, decided once (see kindsOf) by normalised name. */
  const kinds = new Map<string, string>();
  const kindOf = (name: string) => kinds.get(normaliseName(name)) ?? actorKindOf(name);
  /**
   * Decides the kinds of names not met before: an existing actor's kind, the one the name gives if one has it, else the
   * oldest's.
   */
  const kindsOf = async (names: string[]) => {
    const fresh = [...new Set(names.filter((name) => !kinds.has(normaliseName(name))))];
    if (fresh.length === 0) return;
    const existing = options.existingKinds ? await options.existingKinds(fresh) : new Map<string, string[]>();
    for (const name of fresh) {
      const found = existing.get(normaliseName(name)) ?? [];
      const kind = actorKindOf(name);
      kinds.set(normaliseName(name), found.length === 0 || found.includes(kind) ? kind : found[0]!);
    }
  };
  let columns: Map<string, number> | null = null;
  let width = 0;
  let monadic = false;
  type OpenEvent = { id: string; rows: Row[]; rejected: Map<number, ImportError[]>; first: number };
  /** What is read, in line order: records ready to go, and events (monadic layout) whose rows may still come. */
  const queue: ({ record: ImportRecord } | { event: OpenEvent })[] = [];
  let head = 0;
  /** Monadic layout: the events in the queue by id, and those already handed on with the line of their first row. */
  const open = new Map<string, OpenEvent>();
  const done = new Map<string, number>();
  let rowCount = 0;

  /** Hands on the queue's records up to the first event whose rows may still come (all of them at the end). */
  function* release(all: boolean): Generator<ImportRecord> {
    for (; head < queue.length; head++) {
      const entry = queue[head]!;
      if ('record' in entry) {
        yield entry.record;
        continue;
      }
      const { event } = entry;
      if (!all && rowCount - event.first < mergeWindow) break;
      open.delete(event.id);
      done.set(event.id, Math.min(...event.rows.map((row) => row.line), ...event.rejected.keys()));
      if (event.rows.length > 0) yield* eventRecords(event.rows, event.rejected, kindOf);
      else yield* [...event.rejected].map(([line, errors]) => ({ line, errors }));
    }
    // Drop what was handed on, now and then, so the queue holds about a window's rows.
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  }
  const ready = (record: ImportRecord) => queue.push({ record });

  for await (const record of csvRecords(input)) {
    if ('error' in record) {
      ready({ line: record.line, errors: [{ path: '', message: record.error }] });
    } else if (!columns) {
      columns = new Map();
      for (const [index, name] of record.fields.entries()) {
        const column = name.trim().toLowerCase();
        if (!columns.has(column)) columns.set(column, index);
      }
      width = record.fields.length;
      monadic = columns.has('actor1') && !columns.has('actor2');
      const missing = REQUIRED_COLUMNS.filter((column) => !columns!.has(column));
      if (missing.length > 0) {
        yield {
          line: record.line,
          errors: missing.map((column) => ({ path: column, message: `the header has no ${column} column` })),
        };
        return;
      }
    } else if (record.fields.length !== width) {
      ready({
        line: record.line,
        errors: [
          {
            path: '',
            message: `the row has ${record.fields.length} fields and the header ${width} (an unquoted comma?)`,
          },
        ],
      });
    } else {
      const fields = record.fields;
      const index = columns;
      const cell = (column: string) => {
        const at = index.get(column);
        // Without the quote the export puts before text a spreadsheet would run (csvField).
        return at === undefined ? '' : csvText(fields[at]!.trim()).trim();
      };
      const row = readRow(record.line, cell, types);
      if (!('errors' in row)) await kindsOf(row.sides.flat());
      const id = cell('event_id_cnty');
      if (!monadic || id === '') {
        ready(
          'errors' in row
            ? { line: record.line, errors: row.errors }
            : { line: record.line, value: eventBody([row], monadic, kindOf) },
        );
      } else if (done.has(id)) {
        ready({
          line: record.line,
          errors: [
            {
              path: 'event_id_cnty',
              message:
                `event ${id} began on line ${done.get(id)}, more than ${mergeWindow} rows before, and was imported without this row: ` +
                'the rows of one event must be closer together (sort the file by event_id_cnty)',
            },
          ],
        });
      } else {
        rowCount++;
        let event = open.get(id);
        if (!event) {
          event = { id, rows: [], rejected: new Map(), first: rowCount };
          open.set(id, event);
          queue.push({ event });
        }
        if ('errors' in row) event.rejected.set(record.line, row.errors);
        else event.rows.push(row);
      }
    }
    yield* release(false);
  }
  yield* release(true);
}

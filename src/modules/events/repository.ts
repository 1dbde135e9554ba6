// Reading events (writes are in writes.ts): hand-written SQL that walks the sort
// index and copies each event's stored JSON, so a page or an export is one indexed query;
// a past state (?as_of=) is read from the event's revisions.
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { SqlParams } from '../../db/sql.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { copyAllRows, copyTextColumn, type CopyRow } from './copy-stream.js';
import { eventConditions, type EventFilters } from './filters.js';
import { RENDERED_CSV, RENDERED_EVENT } from './render/stored.js';
import { projectedJson, type FieldSelection } from './fields.js';
import { searchQuery } from './render/search.js';
import type { EventSort } from './list-query.js';

/** An event as JSON text, with the tombstone fields a 410 needs. */
export interface StoredEvent {
  json: string;
  version: number;
  deleted_at: string | null;
  deleted_by: string | null;
  delete_reason: string | null;
  merged_into: string | null;
}

/** Whether the event exists and whether it is deleted (merged counts as deleted); null when there is no such event. */
export async function eventLiveness(pool: pg.Pool, id: string): Promise<{ deleted: boolean } | null> {
  const result = await pool.query<{ deleted: boolean }>(
    'SELECT deleted_at IS NOT NULL AS deleted FROM events WHERE id = $1',
    [id],
  );
  return result.rows[0] ?? null;
}

/**
 * The revision of an event in force at `at` (GET /v1/events/{id}?as_of=): its latest version made at or
 * before then, or null if it did not exist yet. Revisions are written by the finish step (changes/record.ts).
 */
export async function eventRevisionAt(pool: pg.Pool, eventId: string, at: string) {
  const result = await pool.query<{ json: string; version: number; action: string }>(
    `SELECT state::text AS json, version, action FROM revisions
     WHERE resource = 'event' AND resource_id = $1 AND at <= $2::timestamptz
     ORDER BY version DESC LIMIT 1`,
    [eventId, at],
  );
  return result.rows[0] ?? null;
}

/** The event `id`, or with `fields` the members selected (fields.ts). */
export async function getEvent(pool: pg.Pool, id: string, fields?: FieldSelection): Promise<StoredEvent | null> {
  const result = await pool.query<StoredEvent>(
    `SELECT ${fields ? projectedJson(RENDERED_EVENT, fields) : RENDERED_EVENT} AS json, e.version, to_json(e.deleted_at) #>> '{}' AS deleted_at,
            e.deleted_by, e.delete_reason, e.merged_into
     FROM events e WHERE e.id = $1`,
    [id],
  );
  return result.rows[0] ?? null;
}

/**
 * How each sort orders rows, and the text form of its key that a cursor carries.
 * Every sort ends on the id, so the order is total and keyset pages never overlap.
 */
interface SortPlan {
  /** The expression ordered by, compared with the cursor's key. */
  column: string;
  /** The key as text, exactly as the cursor stores it. */
  keyText: string;
  /** Cast that turns the cursor's key back into the column's type. */
  cast: string;
  direction: 'ASC' | 'DESC';
  isKey: (key: unknown) => boolean;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Whether text is exactly the form PostgreSQL wrote for a real day or instant in years 1 to 9999. */
function isCanonical(shape: RegExp, slice: number) {
  return (key: unknown): boolean => {
    if (typeof key !== 'string' || !shape.test(key) || key.startsWith('0000')) return false;
    const parsed = new Date(key);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, slice) === key;
  };
}

const instantKey = (column: string): Pick<SortPlan, 'column' | 'keyText' | 'cast' | 'isKey'> => ({
  column,
  keyText: `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  cast: 'timestamptz',
  isKey: isCanonical(INSTANT, 24),
});

function sortPlan(sort: EventSort, filters: EventFilters, p: SqlParams): SortPlan {
  switch (sort) {
    case '-occurred':
    case 'occurred':
      return {
        column: 'e.occurred_start',
        keyText: `to_char(e.occurred_start, 'YYYY-MM-DD')`,
        cast: 'date',
        direction: sort === 'occurred' ? 'ASC' : 'DESC',
        isKey: isCanonical(DAY, 10),
      };
    case '-updated':
      return { ...instantKey('e.updated_at'), direction: 'DESC' };
    case '-created':
      return { ...instantKey('e.created_at'), direction: 'DESC' };
    case 'relevance': {
      // events.search weights the title (A) above the description (B) above report quotes (C),
      // so a title match ranks first and a match only in a quote last.
      const rank = `ts_rank(e.search, ${searchQuery(filters.q ?? '', p)})`;
      return {
        column: rank,
        keyText: `(${rank})::text`,
        cast: 'real',
        direction: 'DESC',
        isKey: (key) => typeof key === 'string' && /^-?\d+(\.\d+)?(e-?\d+)?$/.test(key),
      };
    }
  }
}

export interface EventPageRequest {
  filters: EventFilters;
  sort: EventSort;
  cursor?: string | undefined;
  /** Rows to return; absent for an export of everything. */
  limit?: number | undefined;
  /** Leave out events without coordinates (GeoJSON). */
  withCoordinates?: boolean;
  /** What each row carries: the event's JSON (the default), its stored CSV record, or its JSON as a GeoJSON Feature. */
  rendering?: 'json' | 'csv' | 'geojson';
  /** A sparse fieldset of the JSON (and of a Feature's properties); never with CSV. */
  fields?: FieldSelection | undefined;
}

/**
 * An RFC 7946 Feature around the event's JSON `json`, its coordinates [lon, lat]: built by PostgreSQL
 * as it copies the stored text, so the service passes the bytes on. Parsing and serialising each event
 * in the service was 38 % of its CPU under an export-heavy load (bench/RESULTS.md, the abuse run).
 */
const featureOf = (json: string) =>
  `'{"type":"Feature","id":"' || e.id || '","geometry":{"type":"Point","coordinates":[' || e.lon || ',' || e.lat || ']},"properties":' || ${json} || '}'`;

/**
 * The event JSON `json`, or with fields= its selected members (a separate branch: without, the SQL is the same text).
 */
const jsonOf = (request: EventPageRequest, json: string) =>
  request.fields ? projectedJson(json, request.fields) : json;

/** The expression of the text an export row carries: stored, or built while missing. */
const renderedAs = (request: EventPageRequest) =>
  request.rendering === 'csv'
    ? RENDERED_CSV
    : request.rendering === 'geojson'
      ? featureOf(jsonOf(request, RENDERED_EVENT))
      : jsonOf(request, RENDERED_EVENT);

/** The stored text alone, null while missing (a page builds those apart, see listEvents). */
const storedAs = (request: EventPageRequest) =>
  request.rendering === 'csv'
    ? 'e.rendered_csv'
    : request.rendering === 'geojson'
      ? featureOf(jsonOf(request, 'e.rendered'))
      : jsonOf(request, 'e.rendered');

/** An event JSON text (a past state from its revisions) with only the selected members, projected as a page's are. */
export async function projectEventJson(pool: pg.Pool, json: string, fields: FieldSelection): Promise<string> {
  const result = await pool.query<{ json: string }>(
    `SELECT ${projectedJson('$1::text', fields, { row: false })} AS json`,
    [json],
  );
  return result.rows[0]!.json;
}

/** The parameters, sort and conditions (filters, coordinates, cursor) shared by a page and an export. */
function eventSelection(request: EventPageRequest) {
  const p = new SqlParams();
  const sort = sortPlan(request.sort, request.filters, p);
  const where = eventConditions(request.filters, p);
  if (request.withCoordinates) where.push('e.lat IS NOT NULL AND e.lon IS NOT NULL');
  if (request.cursor) {
    const after = decodeCursor(request.cursor, request.sort, sort.isKey);
    const beyond = sort.direction === 'DESC' ? '<' : '>';
    where.push(`(${sort.column}, e.id) ${beyond} (${p.add(after.key, sort.cast)}, ${p.add(after.id, 'uuid')})`);
  }
  return { p, sort, where };
}

/**
 * The SQL of one page in sort order, each row `{ id, sort_key, body }`, body the stored text or
 * null while the event has none; exported for bench/explain.ts. It reads the stored column alone,
 * without the fallback that builds a missing rendering: planning that expression (a dozen
 * subqueries) took 0.7 to 1 ms a page, against 0.07 ms without, and 0.15 to 0.5 ms running it
 * (1M events, first page).
 */
export function eventPageSql(request: EventPageRequest & { limit: number }): {
  text: string;
  values: unknown[];
  sort: SortPlan;
} {
  const { p, sort, where } = eventSelection(request);
  // Order narrow rows first, then fetch each event's text in that order, for the page's rows only.
  const text = `SELECT s.id::text, s.sort_key, (SELECT ${storedAs(request)} FROM events e WHERE e.id = s.id) AS body
    FROM (
      SELECT e.id, ${sort.keyText} AS sort_key, ${sort.column} AS sort_column
      FROM events e WHERE ${where.join(' AND ')}
      ORDER BY ${sort.column} ${sort.direction}, e.id ${sort.direction} LIMIT ${request.limit + 1}
    ) s
    ORDER BY s.sort_column ${sort.direction}, s.id ${sort.direction}`;
  return { text, values: p.values, sort };
}

/**
 * The SQL of an export of everything that matches, each row `{ body }` in sort order. One
 * level, unlike a page: walking a sort index it reads each row's stored text as it passes,
 * and a sort carries only a TOAST pointer to it, so nothing is fetched twice (a second
 * lookup by id per event took about a third of PostgreSQL's time in a full export).
 */
export function eventExportSql(request: Omit<EventPageRequest, 'limit'>): { text: string; values: unknown[] } {
  const { p, sort, where } = eventSelection(request);
  const text = `SELECT ${renderedAs(request)} AS body FROM events e WHERE ${where.join(' AND ')}
    ORDER BY ${sort.column} ${sort.direction}, e.id ${sort.direction}`;
  return { text, values: p.values };
}

/**
 * Builds the texts of the page's rows that have none stored yet (events loaded in bulk, or whose rendering a migration
 * reset).
 */
async function fillMissing(pool: pg.Pool, request: EventPageRequest, rows: CopyRow[]): Promise<Buffer[]> {
  const missing = rows.filter((row) => row[2] === null).map((row) => String(row[0]));
  const built = new Map<string, Buffer>();
  if (missing.length > 0) {
    const result = await pool.query<{ id: string; body: string }>(
      `SELECT e.id, ${renderedAs(request)} AS body FROM events e WHERE e.id = ANY($1::uuid[])`,
      [missing],
    );
    for (const row of result.rows) built.set(row.id, Buffer.from(row.body, 'utf8'));
  }
  // Events are never removed (a delete leaves a tombstone), so each one is found; filtered to be sure.
  return rows.map((row) => row[2] ?? built.get(String(row[0]))).filter((body) => body !== undefined);
}

/**
 * One page of events as UTF-8 texts (JSON, or CSV records), with the cursor of the next page.
 * Read with COPY, so each text arrives as the bytes stored and is sent as they are: read as
 * strings, a page cost the service about 1.6 ms of CPU under load, most of it encoding the
 * page back to UTF-8 (about 170 KB for 50 events); bench/RESULTS.md.
 */
export async function listEvents(pool: pg.Pool, request: EventPageRequest & { limit: number }) {
  const { text, values } = eventPageSql(request);
  const rows = await copyAllRows(pool, text, values, 3);
  const page = rows.slice(0, request.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > request.limit && last
      ? encodeCursor({ sort: request.sort, key: String(last[1]), id: String(last[0]) })
      : null;
  return { items: await fillMissing(pool, request, page), nextCursor };
}

/** How many live events match the filters (the cursor and limit play no part). */
export async function countEvents(pool: pg.Pool, filters: EventFilters): Promise<number> {
  const p = new SqlParams();
  const where = eventConditions(filters, p);
  const result = await pool.query<{ total: string }>(
    `SELECT count(*) AS total FROM events e WHERE ${where.join(' AND ')}`,
    p.values,
  );
  return Number(result.rows[0]?.total ?? 0);
}

/**
 * Every matching event in sort order, as a stream of batches of texts (Buffer[] of UTF-8: JSON, or CSV records), read
 * with COPY (copy-stream.ts), so memory stays flat however many rows match. The connection
 * returns to the pool when the stream ends, and is closed if it fails or is destroyed.
 */
export async function streamEvents(pool: pg.Pool, request: EventPageRequest): Promise<Readable> {
  const { text, values } = eventExportSql(request);
  return copyTextColumn(pool, text, values);
}

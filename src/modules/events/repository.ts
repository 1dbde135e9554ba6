// Data access for events. Writes go through Prisma in one transaction and end with
// refreshEvent (refresh.ts); reads are hand-written SQL that walks the sort index and
// copies each event's stored JSON, so a page or an export is one indexed query.
import type { Readable } from 'node:stream';
import type pg from 'pg';
import type { PrismaClient, Transaction } from '../../db/client.js';
import { SqlParams } from '../../db/sql.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { invalidInput } from '../../http/errors.js';
import type { ActorRef } from '../actors/schemas.js';
import { assertEventTypes } from '../event-types/repository.js';
import { figureRows, figureSubjects } from '../figures/repository.js';
import { insertReport, reportReferences } from '../reports/repository.js';
import { unknownIds, WriteContext, type Located } from '../write-context.js';
import { copyTextColumn } from './copy-stream.js';
import { eventConditions, type EventFilters } from './filters.js';
import { refreshEvent, RENDERED_EVENT } from './refresh.js';
import { searchQuery } from './search.js';
import type { EventSort } from './list-query.js';
import type { EventInput } from './schemas.js';

/** Every actor and document reference in an event body, with where it stands. */
function eventReferences(input: EventInput) {
  const actors: Located<ActorRef>[] = [
    ...input.participants.map((p, i): Located<ActorRef> => [p.actor, `/participants/${i}/actor`]),
    ...figureSubjects(input.figures, '/figures'),
  ];
  const documents: ReturnType<typeof reportReferences>['documents'] = [];
  input.reports.forEach((report, i) => {
    const refs = reportReferences(report, `/reports/${i}`);
    actors.push(...refs.actors);
    documents.push(...refs.documents);
  });
  return { actors, documents };
}

async function assertRelatedEventsExist(tx: Transaction, relations: EventInput['relations']): Promise<void> {
  const missing = await unknownIds(
    relations.map((r, i): [string, string] => [r.event_id, `/relations/${i}/event_id`]),
    'live event',
    (ids) => tx.event.findMany({ where: { id: { in: ids }, deletedAt: null }, select: { id: true } }),
  );
  if (missing.length > 0) throw invalidInput(missing, 'The body relates to events that do not exist.');
}

/** Creates an event with everything nested in the body, in one transaction; returns its id. */
export async function createEvent(prisma: PrismaClient, input: EventInput, author: string): Promise<string> {
  return prisma.$transaction(async (tx) => {
    const ctx = new WriteContext(tx, author);
    await assertEventTypes(tx, [[input.type, '/type']]);
    const refs = eventReferences(input);
    await ctx.verifyReferences(refs.actors, refs.documents);
    await assertRelatedEventsExist(tx, input.relations);

    const location = input.location;
    const event = await tx.event.create({
      data: {
        typeCode: input.type,
        title: input.title,
        description: input.description ?? null,
        status: input.status,
        occurredStart: new Date(input.occurred.start),
        occurredEnd: new Date(input.occurred.end ?? input.occurred.start),
        occurredPrecision: input.occurred.precision,
        locationName: location?.name ?? null,
        admin1: location?.admin1 ?? null,
        admin2: location?.admin2 ?? null,
        country: location?.country ?? null,
        lat: location?.lat ?? null,
        lon: location?.lon ?? null,
        locationPrecision: location?.precision ?? 'unknown',
        tags: [...new Set(input.tags)],
        createdBy: author,
        updatedBy: author,
      },
      select: { id: true },
    });

    const participants = [];
    const seen = new Set<string>();
    for (const participant of input.participants) {
      const actorId = await ctx.actor(participant.actor);
      const key = `${actorId}/${participant.role}`;
      if (seen.has(key)) continue; // the same actor named twice in one role counts once
      seen.add(key);
      participants.push({ eventId: event.id, actorId, role: participant.role, position: participants.length });
    }
    if (participants.length > 0) await tx.participant.createMany({ data: participants });

    const figures = await figureRows(ctx, input.figures, { eventId: event.id });
    if (figures.length > 0) await tx.figure.createMany({ data: figures });

    for (const report of input.reports) await insertReport(ctx, event.id, report);

    if (input.relations.length > 0) {
      await tx.eventRelation.createMany({
        data: input.relations.map((r) => ({ eventId: event.id, relatedEventId: r.event_id, relation: r.relation, createdBy: author })),
        skipDuplicates: true,
      });
    }
    await refreshEvent(tx, event.id);
    return event.id;
  });
}

/** An event as JSON text, with the tombstone fields a 410 needs. */
export interface StoredEvent {
  json: string;
  version: number;
  deleted_at: string | null;
  deleted_by: string | null;
  delete_reason: string | null;
  merged_into: string | null;
}

export async function getEvent(pool: pg.Pool, id: string): Promise<StoredEvent | null> {
  const result = await pool.query<StoredEvent>(
    `SELECT ${RENDERED_EVENT} AS json, e.version, to_json(e.deleted_at) #>> '{}' AS deleted_at,
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

/** The SQL of one page (or, without limit, of the whole result) in sort order, each row `{ json, sort_key, id }`; exported for bench/explain.ts. */
export function eventPageSql(request: EventPageRequest): { text: string; values: unknown[]; sort: SortPlan } {
  const { p, sort, where } = eventSelection(request);
  const limit = request.limit === undefined ? '' : `LIMIT ${request.limit + 1}`;
  // Order narrow rows first, then fetch each event's JSON in that order: a sort over whole
  // event rows would have to finish before an export's first row left.
  const text = `SELECT s.id, s.sort_key, (SELECT ${RENDERED_EVENT} FROM events e WHERE e.id = s.id) AS json
    FROM (
      SELECT e.id, ${sort.keyText} AS sort_key, ${sort.column} AS sort_column
      FROM events e WHERE ${where.join(' AND ')}
      ORDER BY ${sort.column} ${sort.direction}, e.id ${sort.direction} ${limit}
    ) s
    ORDER BY s.sort_column ${sort.direction}, s.id ${sort.direction}`;
  return { text, values: p.values, sort };
}

/**
 * The SQL of an export of everything that matches, each row `{ json }` in sort order. One
 * level, unlike a page: walking a sort index it reads each row's stored JSON as it passes,
 * and a sort carries only a TOAST pointer to it, so nothing is fetched twice (a second
 * lookup by id per event took about a third of PostgreSQL's time in a full export).
 */
export function eventExportSql(request: Omit<EventPageRequest, 'limit'>): { text: string; values: unknown[] } {
  const { p, sort, where } = eventSelection(request);
  const text = `SELECT ${RENDERED_EVENT} AS json FROM events e WHERE ${where.join(' AND ')}
    ORDER BY ${sort.column} ${sort.direction}, e.id ${sort.direction}`;
  return { text, values: p.values };
}

interface PageRow {
  id: string;
  sort_key: string;
  json: string;
}

/** One page of events as JSON texts, with the cursor of the next page. */
export async function listEvents(pool: pg.Pool, request: EventPageRequest & { limit: number }) {
  const { text, values } = eventPageSql(request);
  const rows = (await pool.query<PageRow>(text, values)).rows;
  const page = rows.slice(0, request.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > request.limit && last ? encodeCursor({ sort: request.sort, key: last.sort_key, id: last.id }) : null;
  return { items: page.map((row) => row.json), nextCursor };
}

/** How many live events match the filters (the cursor and limit play no part). */
export async function countEvents(pool: pg.Pool, filters: EventFilters): Promise<number> {
  const p = new SqlParams();
  const where = eventConditions(filters, p);
  const result = await pool.query<{ total: string }>(`SELECT count(*) AS total FROM events e WHERE ${where.join(' AND ')}`, p.values);
  return Number(result.rows[0]?.total ?? 0);
}

/**
 * Every matching event in sort order, as a stream of batches of JSON texts (string[]), read
 * with COPY (copy-stream.ts), so memory stays flat however many rows match. The connection
 * returns to the pool when the stream ends, and is closed if it fails or is destroyed.
 */
export async function streamEvents(pool: pg.Pool, request: EventPageRequest): Promise<Readable> {
  const { text, values } = eventExportSql(request);
  return copyTextColumn(pool, text, values);
}

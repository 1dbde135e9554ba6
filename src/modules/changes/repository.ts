// Reading history: an event's revisions and the change feed, from the revisions table
// (record.ts writes it). An event's state at a past time is the event's own read (events/repository.ts).
import type pg from 'pg';
import { isoTimestamp } from '../../db/sql.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { invalidInput } from '../../http/errors.js';
import type { Resource } from './record.js';

const SORT = 'version';

/** A page of an event's revisions, oldest first, as JSON texts. */
export async function listEventRevisions(
  pool: pg.Pool,
  eventId: string,
  page: { limit: number; cursor?: string | undefined },
) {
  const after = page.cursor ? decodeCursor(page.cursor, SORT, (key) => Number.isInteger(key)) : null;
  if (after && after.id !== eventId)
    throw invalidInput([{ path: '/cursor', in: 'query', message: 'cursor was issued for another event' }]);
  const rows = (
    await pool.query<{ version: number; json: string }>(
      `SELECT version, json_build_object('version', version, 'action', action, 'author', author, 'at', ${isoTimestamp('at')},
                'changed_fields', changed_fields, 'state', state)::text AS json
       FROM revisions WHERE resource = 'event' AND resource_id = $1 AND version > $2
       ORDER BY version LIMIT $3`,
      [eventId, after?.key ?? 0, page.limit + 1],
    )
  ).rows;
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > page.limit && last ? encodeCursor({ sort: SORT, key: last.version, id: eventId }) : null;
  return { items: items.map((row) => row.json), nextCursor };
}

/** A change of the feed: its seq, its kind of resource, and its JSON text (an item of GET /v1/changes). */
export interface ChangeRow {
  seq: string;
  resource: Resource;
  json: string;
}

/**
 * Up to `limit` changes after the seq `since`, in commit order, of the kinds `resources` (every
 * kind without); read by the feed's pages and by the live stream (live.ts).
 */
export async function readChanges(
  pool: pg.Pool,
  since: string,
  limit: number,
  resources?: readonly Resource[],
): Promise<ChangeRow[]> {
  return (
    await pool.query<ChangeRow>(
      `SELECT id::text AS seq, resource, json_build_object('seq', id, 'resource', resource, 'id', resource_id, 'action', action,
                'version', version, 'at', ${isoTimestamp('at')})::text AS json
       FROM revisions WHERE id > $1 AND ($3::resource_kind[] IS NULL OR resource = ANY ($3::resource_kind[])) ORDER BY id LIMIT $2`,
      [since, limit, resources ?? null],
    )
  ).rows;
}

/** The seq of the latest change, '0' when there is none. */
export async function latestSeq(pool: pg.Pool): Promise<string> {
  return (
    (await pool.query<{ seq: string }>('SELECT COALESCE(max(id), 0)::text AS seq FROM revisions')).rows[0]?.seq ?? '0'
  );
}

/** Changes after the seq `since`, in commit order, as JSON texts, and the cursor to read on from. */
export async function listChanges(pool: pg.Pool, since: string, limit: number) {
  const rows = await readChanges(pool, since, limit);
  return { items: rows.map((row) => row.json), nextCursor: rows.at(-1)?.seq ?? since };
}

// Reading history: an event's revisions, its state at a past time, and the change
// feed, all from the revisions table (record.ts writes it).
import type pg from 'pg';
import { isoTimestamp } from '../../db/sql.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { invalidInput } from '../../http/errors.js';

const SORT = 'version';

/** A page of an event's revisions, oldest first, as JSON texts. */
export async function listEventRevisions(pool: pg.Pool, eventId: string, page: { limit: number; cursor?: string | undefined }) {
  const after = page.cursor ? decodeCursor(page.cursor, SORT, (key) => Number.isInteger(key)) : null;
  if (after && after.id !== eventId) throw invalidInput([{ path: '/cursor', in: 'query', message: 'cursor was issued for another event' }]);
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
  const nextCursor = rows.length > page.limit && last ? encodeCursor({ sort: SORT, key: last.version, id: eventId }) : null;
  return { items: items.map((row) => row.json), nextCursor };
}

/** The revision of an event in force at `at`: its latest version made at or before then, or null if it did not exist yet. */
export async function eventRevisionAt(pool: pg.Pool, eventId: string, at: string) {
  const result = await pool.query<{ json: string; version: number; action: string }>(
    `SELECT state::text AS json, version, action FROM revisions
     WHERE resource = 'event' AND resource_id = $1 AND at <= $2::timestamptz
     ORDER BY version DESC LIMIT 1`,
    [eventId, at],
  );
  return result.rows[0] ?? null;
}

/** Changes after the seq `since`, in commit order, as JSON texts, and the cursor to read on from. */
export async function listChanges(pool: pg.Pool, since: string, limit: number) {
  const rows = (
    await pool.query<{ seq: string; json: string }>(
      `SELECT id AS seq, json_build_object('seq', id, 'resource', resource, 'id', resource_id, 'action', action,
                'version', version, 'at', ${isoTimestamp('at')})::text AS json
       FROM revisions WHERE id > $1 ORDER BY id LIMIT $2`,
      [since, limit],
    )
  ).rows;
  return { items: rows.map((row) => row.json), nextCursor: rows.at(-1)?.seq ?? since };
}

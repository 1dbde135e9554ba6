// The columns derived from an event and everything attached to it: its search vector
// and its rendered JSON. Every writer calls refreshEvent in its transaction after a
// change, so a read never sees them stale (the test helpers check this after each file).
import type pg from 'pg';
import type { Transaction } from '../../db/client.js';
import { EVENT_JSON } from './json-sql.js';
import { EVENT_SEARCH_VECTOR } from './search.js';

/** The event `e` as served: its rendered JSON, or, while it has none yet, built on the spot. */
export const RENDERED_EVENT = `COALESCE(e.rendered, (${EVENT_JSON})::text)`;

/** An UPDATE that re-derives both columns of the events `e` its caller's WHERE clause selects. */
export const REFRESH_EVENTS = `UPDATE events e SET search = ${EVENT_SEARCH_VECTOR}, rendered = (${EVENT_JSON})::text`;

/** Re-derives the search vector and the rendered JSON of an event after any change to it or its reports. */
export async function refreshEvent(tx: Transaction, eventId: string): Promise<void> {
  await tx.$executeRawUnsafe(`${REFRESH_EVENTS} WHERE e.id = $1::uuid`, eventId);
}

/**
 * Renders events that have no rendered JSON yet (rows loaded in bulk, or from before the
 * column existed), in batches by id; returns how many it rendered.
 */
export async function renderMissingEvents(
  client: pg.Pool | pg.ClientBase,
  batch = 5000,
  onBatch?: (done: number) => void,
): Promise<number> {
  let done = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const result = await client.query<{ id: string }>(
      `UPDATE events e SET rendered = (${EVENT_JSON})::text
       WHERE e.id IN (SELECT id FROM events WHERE id > $1 AND rendered IS NULL ORDER BY id LIMIT $2)
       RETURNING e.id`,
      [after, batch],
    );
    if (result.rowCount === 0) return done;
    done += result.rowCount ?? 0;
    after = result.rows.reduce((max, row) => (row.id > max ? row.id : max), after);
    onBatch?.(done);
  }
}

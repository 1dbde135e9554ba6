// The columns derived from an event and everything attached to it: its status (while
// the evidence sets it), its figures for the measures no editor set, its search vector,
// the actors of its reports, its rendered JSON and CSV record. The finish step (src/write/finish.ts)
// refreshes every event a transaction changed, so a read never sees them stale (the
// test helpers check this after each file).
import type pg from 'pg';
import type { Transaction } from '../../db/client.js';
import {
  DERIVED_STATUS,
  EVIDENCE_FIGURES,
  FRESH_EVIDENCE_FIGURES,
  REPORTER_IDS,
  STORED_EVIDENCE_FIGURES,
  VIA_IDS,
} from './evidence.js';
import { EVENT_JSON } from './render/json.js';
import { EVENT_SEARCH_VECTOR } from './render/search.js';
import { RENDER, RENDERED_COLUMNS, renderings } from './render/stored.js';

/** The derived columns of the event `e` besides its renderings, each with its expression. */
const DERIVED_COLUMNS: [column: string, expression: string][] = [
  ['search', EVENT_SEARCH_VECTOR],
  ['reporter_ids', REPORTER_IDS],
  ['via_ids', VIA_IDS],
];

/**
 * An UPDATE that re-derives the search vector, the reporter and via actor sets and the
 * renderings of the events `e` its caller's WHERE clause selects.
 */
export const REFRESH_EVENTS = `UPDATE events e SET ${DERIVED_COLUMNS.map(([column, expression]) => `${column} = ${expression}`).join(', ')}, ${RENDER}`;

/**
 * An INSERT into events of every row of `source` (a table or subquery with the events' columns,
 * holding `columns`), with all their derived columns, for events whose reports and other rows
 * are already in place: written once, where inserting then running REFRESH_EVENTS writes each
 * event twice and leaves the first version as a dead row. With `deriveStatus`, the status of an
 * event whose status_source is `evidence` is derived from its reports too (DERIVE_STATUS), before
 * the rendering that shows it. The rendering is a subquery kept whole by OFFSET 0, as in RENDER (render/stored.ts).
 */
export function insertDerivedEvents(
  source: string,
  columns: readonly string[],
  options: { deriveStatus?: boolean } = {},
): string {
  const derived = DERIVED_COLUMNS.map(([column]) => column);
  const rows = options.deriveStatus
    ? `(SELECT ${columns
        .map((column) =>
          column === 'status'
            ? `CASE WHEN e.status_source = 'evidence' THEN ${DERIVED_STATUS} ELSE e.status END AS status`
            : `e.${column}`,
        )
        .join(', ')} FROM ${source} e OFFSET 0)`
    : source;
  return `INSERT INTO events (${[...columns, ...derived, ...RENDERED_COLUMNS].join(', ')})
    SELECT ${[...columns.map((column) => `e.${column}`), ...DERIVED_COLUMNS.map(([, expression]) => expression)].join(', ')},
           ${renderings('e.rendering').join(', ')}
    FROM (SELECT e.*, ${EVENT_JSON} AS rendering FROM ${rows} e OFFSET 0) e`;
}

/** True for an event `e` whose derived figures (figures.derived) are not those its reports give now. */
const STALE_FIGURES = `${STORED_EVIDENCE_FIGURES} IS DISTINCT FROM ${FRESH_EVIDENCE_FIGURES}`;

/**
 * An INSERT of the figures the evidence gives each event `e` of `source` (a table or subquery
 * with the events' id), for events that have no derived figure stored: refreshEvents deletes a
 * stale set first, and a bulk load runs it for its new events before rendering them. Derived
 * figures come after the editor's (positions from 1000 on: a patch by measure keeps at most
 * 8 x 100 editor figures), in the order of the measures. Their ids are random (gen_random_uuid):
 * a figure's id is never served.
 */
export function insertEvidenceFigures(source: string): string {
  return `INSERT INTO figures (id, event_id, position, measure, low, best, high, unit, subject_id, derived)
    SELECT gen_random_uuid(), e.id, 999 + row_number() OVER (PARTITION BY e.id ORDER BY d.measure),
           d.measure, d.low, d.best, d.high, d.unit, d.subject_id, true
    FROM ${source} e CROSS JOIN LATERAL ${EVIDENCE_FIGURES} d`;
}

/**
 * True for an event `e` whose derived columns are not what its rows give now: every column
 * REFRESH_EVENTS and insertDerivedEvents write, its derived figures, and the status while the
 * evidence owns it. The test helpers count such events after every test file (like STALE_STATS for the stats tables).
 */
export const STALE_EVENT = [
  ...DERIVED_COLUMNS.map(([column, expression]) => `e.${column} IS DISTINCT FROM ${expression}`),
  ...renderings(`(${EVENT_JSON})`).map((expression, i) => `e.${RENDERED_COLUMNS[i]} IS DISTINCT FROM ${expression}`),
  `(e.status_source = 'evidence' AND e.status IS DISTINCT FROM ${DERIVED_STATUS})`,
  STALE_FIGURES,
].join('\n  OR ');

/**
 * An UPDATE that sets the status the evidence gives to the events `e` (its caller's WHERE clause) whose status it owns.
 */
export const DERIVE_STATUS = `UPDATE events e SET status = ${DERIVED_STATUS}`;

/**
 * Re-derives the status, figures from the evidence, search vector, report actors, rendered JSON
 * and CSV record of events after any change to them or their reports. Separate statements: an
 * UPDATE's expressions see the row as it was before it, and the rendering reads the figures.
 * Their stats rows, which read these columns, are the finish step's next step (stats/derive.ts).
 */
export async function refreshEvents(tx: Transaction, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  // eslint-disable-next-line raw-sql/unsafe -- constant text (this file's derivations); the ids are bound
  await tx.$executeRawUnsafe(
    `${DERIVE_STATUS} WHERE e.id = ANY($1::uuid[]) AND e.status_source = 'evidence' AND e.status IS DISTINCT FROM ${DERIVED_STATUS}`,
    eventIds,
  );
  await refreshEvidenceFigures(tx, eventIds);
  // eslint-disable-next-line raw-sql/unsafe -- constant text (this file's derivations); the ids are bound
  await tx.$executeRawUnsafe(`${REFRESH_EVENTS} WHERE e.id = ANY($1::uuid[])`, eventIds);
}

/** Replaces the derived figures of those events whose reports now give others (most writes change none). */
async function refreshEvidenceFigures(tx: Transaction, eventIds: string[]): Promise<void> {
  // eslint-disable-next-line raw-sql/unsafe -- constant text (STALE_FIGURES); the ids are bound
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
    `SELECT e.id FROM events e WHERE e.id = ANY($1::uuid[]) AND ${STALE_FIGURES}`,
    eventIds,
  );
  const stale = rows.map((row) => row.id);
  if (stale.length === 0) return;
  await tx.$executeRaw`DELETE FROM figures WHERE event_id = ANY(${stale}::uuid[]) AND derived`;
  // eslint-disable-next-line raw-sql/unsafe -- constant text (insertEvidenceFigures); the ids are bound
  await tx.$executeRawUnsafe(insertEvidenceFigures(`(SELECT id FROM events WHERE id = ANY($1::uuid[]))`), stale);
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
      `UPDATE events e SET ${RENDER}
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

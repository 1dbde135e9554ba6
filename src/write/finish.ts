// The finish step every write owes, run by the runner (./run.ts) after the handler's work,
// never by a handler: new versions for what changed, the events' derived columns, the
// revisions and the stats rollups. It sits above the modules whose derived data it keeps.
import type { Transaction } from '../db/client.js';
import { recordRevisions } from '../modules/changes/record.js';
import { refreshEvents } from '../modules/events/refresh.js';
import { refreshDailyStats, refreshEventStats } from '../modules/stats/derive.js';
import type { Resource, UnitOfWork } from './unit.js';

const TABLES: Record<Resource, string> = { event: 'events', report: 'reports', actor: 'actors', document: 'documents' };

/**
 * Ends the writes of the unit: bumps the version of every updated or deleted resource,
 * re-derives the changed events' status, search vector, JSON and stats rows, writes the
 * revisions (which takes the feed's lock, so no resource may change after it) and recounts
 * the daily stats rollups under that lock. The unit is sealed: a later change throws.
 */
export async function finish(unit: UnitOfWork): Promise<void> {
  const { changes, rerendered, derived } = unit.close();
  if (changes.size === 0 && rerendered.length === 0) return;
  const tx: Transaction = unit.tx;
  for (const [resource, list] of changes) {
    const bumped = list.filter((c) => c.action !== 'created').map((c) => c.id);
    if (bumped.length === 0) continue;
    // clock_timestamp, not the transaction's start: taken once the rows are locked, it grows
    // with each resource's versions, so a revision's time (its updated_at) finds it by ?as_of=.
    // eslint-disable-next-line raw-sql/unsafe -- the table name comes from TABLES; the values are bound
    await tx.$executeRawUnsafe(
      `UPDATE ${TABLES[resource]} SET version = version + 1, updated_at = clock_timestamp(), updated_by = $2 WHERE id = ANY($1::uuid[])`,
      bumped,
      unit.author,
    );
  }
  // Events created with their derived columns (events/writes.ts) get only their stats rows.
  const written = new Set(derived);
  const events = [...(changes.get('event') ?? []).map((c) => c.id).filter((id) => !written.has(id)), ...rerendered];
  await refreshEvents(tx, events);
  // The stats rows read the event columns just derived.
  const statsOf = [...events, ...derived];
  const dailyKeys = statsOf.length > 0 ? await refreshEventStats(tx, statsOf) : undefined;
  await recordRevisions(tx, changes, unit.author);
  // After the revisions: the rollups are recounted under the lock recordRevisions took.
  if (dailyKeys) await refreshDailyStats(tx, dailyKeys);
}

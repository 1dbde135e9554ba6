// The transaction-level advisory lock every writer takes before it writes its revisions
// and recounts the stats rollups, held until it commits: the next writer waits, so revision
// ids grow in commit order (the change feed) and no two recounts of a rollup key interleave.
import type pg from 'pg';
import type { Transaction } from './client.js';

/** The lock's key ("revi" in ASCII; exact as a JS number). */
export const REVISION_LOCK_KEY = 0x72657669;

const TAKE_REVISION_LOCK = `SELECT pg_advisory_xact_lock(${REVISION_LOCK_KEY})`;

/** Takes the revision lock in a write's transaction (a no-op when it holds it already). */
export async function takeRevisionLock(db: Transaction | pg.ClientBase | pg.Pool): Promise<void> {
  // eslint-disable-next-line raw-sql/unsafe -- constant text with no parameters, shared with the pg path
  if ('$executeRawUnsafe' in db) await db.$executeRawUnsafe(TAKE_REVISION_LOCK);
  else await db.query(TAKE_REVISION_LOCK);
}

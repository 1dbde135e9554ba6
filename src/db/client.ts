// The Prisma client over a node-postgres pool. The pool is shared with the
// handful of hand-written SQL queries, so the service holds one set of connections
// (two with a read replica: `readPool` for the list and export reads).
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { defaultMaxExports, ExportSlots } from './export-slots.js';

export type { PrismaClient };
export type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export interface Database {
  prisma: PrismaClient;
  /** The primary: every write, and every read that must see the latest commit. */
  pool: pg.Pool;
  /**
   * Where the list and export reads go (GET /v1/events in every format, GET /v1/reports): a
   * streaming replica when DATABASE_READ_URL is set, else the primary pool itself. A replica
   * lags the primary, so only reads that may be a moment old belong here. The rest stays on
   * `pool`: writes and everything inside their transactions (a replica is read-only, and a write
   * must read the rows it locks); single-resource GETs, for read-your-writes (a client that just
   * wrote, through any instance, gets its write back, and the ETag it then sends as If-Match is
   * the version the next write checks, not a lagging copy that would 404 or 412); and the change
   * feed, whose seq order is made by the primary's revision lock (changes/record.ts): a mirror
   * that follows it and then fetches the changed resources reads both in one commit order.
   */
  readPool: pg.Pool;
  /** The exports of everything (a `readPool` connection each while they stream) that may run at once. */
  exports: ExportSlots;
  close(): Promise<void>;
}

/**
 * Settings of every session the service opens: UTC, so dates and timestamps never depend on the
 * server's zone; no parallel workers, whose start-up under concurrent API load on few cores
 * cost more than they saved (a 50-row page went from 56 ms to 5 ms without them; bench/PLANS.md);
 * and no JIT. The list query's fallback that renders an event lacking its stored JSON is costed
 * as if it ran for every row, so its estimate passes the JIT threshold and each page paid about
 * 60 ms of compiling for 1 ms of running (measured on 1M events); the bulk import's batch
 * statements paid about 0.7 s each, and a stats query 570 ms.
 */
export const SESSION_OPTIONS = '-c TimeZone=UTC -c max_parallel_workers_per_gather=0 -c jit=off';

function openPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    // Fail fast when the server is unreachable instead of queueing requests forever.
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    options: SESSION_OPTIONS,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

/**
 * Pools of `poolSize` connections to the primary and, when `readUrl` is given, as many to the
 * read replica (DATABASE_READ_URL); at most `maxExports` of the read pool's connections stream
 * exports at once (EXPORT_MAX_CONCURRENT; half the pool by default).
 */
export function connectDatabase(
  connectionString: string,
  poolSize = 10,
  readUrl?: string,
  maxExports = defaultMaxExports(poolSize),
): Database {
  const pool = openPool(connectionString, poolSize);
  const readPool = readUrl ? openPool(readUrl, poolSize) : pool;
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    readPool,
    exports: new ExportSlots(maxExports),
    async close() {
      await prisma.$disconnect();
      await pool.end();
      if (readPool !== pool) await readPool.end();
    },
  };
}

// The Prisma client over a node-postgres pool. The pool is shared with the
// handful of hand-written SQL queries, so the service holds one set of connections.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };
export type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * Settings of every session the service opens: UTC, so dates and timestamps never depend on the
 * server's zone, and no parallel workers, whose start-up under concurrent API load on few cores
 * cost more than they saved (a 50-row page went from 56 ms to 5 ms without them; bench/PLANS.md).
 */
export const SESSION_OPTIONS = '-c TimeZone=UTC -c max_parallel_workers_per_gather=0';

export function connectDatabase(connectionString: string, poolSize = 10): Database {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    // Fail fast when the server is unreachable instead of queueing requests forever.
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    options: SESSION_OPTIONS,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

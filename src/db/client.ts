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

export function connectDatabase(connectionString: string, poolSize = 10): Database {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    // Fail fast when the server is unreachable instead of queueing requests forever.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // UTC sessions, so dates and timestamps never depend on the server's zone. No parallel
    // workers: under concurrent API load on few cores their start-up cost more than they saved
    // (a 50-row page went from 56 ms to 5 ms without them; bench/PLANS.md).
    options: '-c TimeZone=UTC -c max_parallel_workers_per_gather=0',
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

// The Prisma client over a node-postgres pool. The pool is shared with the
// handful of hand-written SQL queries, so the cheap work holds one set of connections
// (two with a read replica: `readPool` for the list reads); the expensive reads and the
// exports have small pools of their own (src/db/admission.ts). Every session has a
// statement timeout, set per pool: no query runs unbounded.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { AnonymousBudget, coresButOne, half, Slots } from './admission.js';

export type { PrismaClient };
export type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
/** What a Prisma repository function runs on: the client, or a write's transaction (`unit.tx`). */
export type PrismaHandle = PrismaClient | Transaction;

/** Statement timeouts (ms) of each class of work; see connectDatabase. */
export interface StatementTimeouts {
  /** Single reads and pages of lists: the primary pool's (and the replica pool's) sessions. */
  read: number;
  /** Each statement of a write's transaction (SET LOCAL when it differs from `read`). */
  write: number;
  /** Expensive reads (stats, full-text q, counts): the sessions of their pool. */
  expensive: number;
  /** An export's COPY: the sessions of the export pool. */
  export: number;
  /** Each statement of a bulk import's transactions (SET LOCAL). */
  import: number;
}

export const DEFAULT_TIMEOUTS: StatementTimeouts = {
  read: 5_000,
  write: 5_000,
  expensive: 15_000,
  export: 30 * 60_000,
  import: 60_000,
};

export interface DatabaseOptions {
  /**
   * Exports of everything at once (EXPORT_MAX_CONCURRENT): 2 by default (defaultSlots); per client
   * (EXPORT_MAX_PER_CLIENT): half of those.
   */
  maxExports?: number | undefined;
  exportsPerClient?: number | undefined;
  /**
   * Expensive reads at once (EXPENSIVE_MAX_CONCURRENT): 2 by default (defaultSlots); per client
   * (EXPENSIVE_MAX_PER_CLIENT): half of those.
   */
  maxExpensive?: number | undefined;
  expensivePerClient?: number | undefined;
  /**
   * Expensive reads and exports of callers without an API key, both kinds together (ANONYMOUS_HEAVY_MAX_CONCURRENT):
   * the machine's cores less one, at least 1, by default.
   */
  maxAnonymousHeavy?: number | undefined;
  timeouts?: Partial<StatementTimeouts> | undefined;
}

export interface Database {
  prisma: PrismaClient;
  /** The primary: every write, and every read that must see the latest commit. */
  pool: pg.Pool;
  /**
   * Where the list reads go (GET /v1/events, GET /v1/reports): a
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
  /** Expensive reads (stats, full-text q, counts): their slots, and their pool on the replica or else the primary. */
  expensive: Slots;
  /** Exports of everything: their slots, and their pool on the replica or else the primary. */
  exports: Slots;
  timeouts: StatementTimeouts;
  /**
   * A new client of the primary outside the pools, not yet connected: a LISTEN holds its session
   * for as long as it listens (the change stream's listener, src/modules/changes/live.ts).
   */
  openListener(): pg.Client;
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

/**
 * A pool whose sessions have SESSION_OPTIONS and `statementTimeout` (ms; 0: none): a timeout
 * set at connection start costs no round trip per query, which is why each class of work with
 * a timeout of its own has a pool of its own.
 */
export function openPool(connectionString: string, max: number, statementTimeout: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    // Fail fast when the server is unreachable instead of queueing requests forever.
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    options: `${SESSION_OPTIONS} -c statement_timeout=${statementTimeout}`,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

/** Sets the statement timeout of the rest of a transaction (writes, imports), unless it is the session's already. */
export async function limitStatements(tx: Transaction, db: Pick<Database, 'timeouts'>, ms: number): Promise<void> {
  // eslint-disable-next-line raw-sql/unsafe -- SET takes no parameters; the text holds only an integer
  if (ms !== db.timeouts.read) await tx.$executeRawUnsafe(`SET LOCAL statement_timeout = ${Math.trunc(ms)}`);
}

/**
 * Whether the server answers a trivial query within `withinMs` (readiness): a pool waiting for a connection counts as
 * not answering.
 */
export async function databaseAnswers(pool: pg.Pool, withinMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the database did not answer in time')), withinMs);
  });
  try {
    await Promise.race([pool.query('SELECT 1'), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Expensive reads, and exports, one instance runs at once unless configured: two of each (one a
 * client), fewer on a pool under four. Each runs flat out on a core of its own; with five of each
 * (half the pool, as before), 20 anonymous clients took a single-event GET to 1.1 s at the median
 * on 1M events and 2 cores, against 18 ms with two (bench/RESULTS.md, the abuse run). A larger
 * machine raises EXPENSIVE_MAX_CONCURRENT and EXPORT_MAX_CONCURRENT.
 */
const defaultSlots = (poolSize: number): number => Math.min(2, half(poolSize));

/**
 * Pools of `poolSize` connections to the primary and, when `readUrl` is given, as many to the
 * read replica (DATABASE_READ_URL), for the cheap work; and the slots and pools of the
 * expensive reads and of the exports (src/db/admission.ts), on the replica when there is one.
 */
export function connectDatabase(
  connectionString: string,
  poolSize = 10,
  readUrl?: string,
  options: DatabaseOptions = {},
): Database {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const pool = openPool(connectionString, poolSize, timeouts.read);
  const readPool = readUrl ? openPool(readUrl, poolSize, timeouts.read) : pool;
  const anonymous = new AnonymousBudget(options.maxAnonymousHeavy ?? coresButOne());
  const slots = (max: number, perClient: number | undefined, timeout: number) =>
    new Slots(max, perClient ?? half(max), openPool(readUrl ?? connectionString, max, timeout), anonymous);
  const expensive = slots(
    options.maxExpensive ?? defaultSlots(poolSize),
    options.expensivePerClient,
    timeouts.expensive,
  );
  const exports = slots(options.maxExports ?? defaultSlots(poolSize), options.exportsPerClient, timeouts.export);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    readPool,
    expensive,
    exports,
    timeouts,
    openListener: () =>
      new pg.Client({ connectionString, connectionTimeoutMillis: 2_000, keepAlive: true, options: SESSION_OPTIONS }),
    async close() {
      await prisma.$disconnect();
      await pool.end();
      if (readPool !== pool) await readPool.end();
      await expensive.pool.end();
      await exports.pool.end();
    },
  };
}

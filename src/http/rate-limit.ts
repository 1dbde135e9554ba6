// Rate limits per API key, and per IP for callers without one (the client's address as
// TRUST_PROXY allows, an IPv6 one by its /64; src/http/proxies.ts), counted in fixed one-minute
// windows in a store every instance shares: Redis when REDIS_URL is set, PostgreSQL (an
// unlogged table) otherwise. Answers carry RateLimit and RateLimit-Policy headers
// (IETF draft-ietf-httpapi-ratelimit-headers); over the limit, 429 with Retry-After.
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { ApiError } from './errors.js';
import { clientAddress, rateLimitAddress } from './proxies.js';

const WINDOW_MS = 60_000;

export interface RateLimitStore {
  /** Counts one request of `client` in the current window; returns the count so far and the ms left in the window. */
  hit(client: string): Promise<{ count: number; resetMs: number }>;
  close(): Promise<void>;
}

/** The window a moment falls in, and the ms left in it. */
function windowOf(now: number): { window: number; resetMs: number } {
  const window = Math.floor(now / WINDOW_MS);
  return { window, resetMs: (window + 1) * WINDOW_MS - now };
}

/** Windows older than the current one deleted per statement, so a sweep's work is bounded. */
const SWEEP_BATCH = 5_000;

/**
 * Counts in the rate_limits table, one row per client. A client's row is reset when it comes back
 * in a later window; the rows of clients that do not come back are deleted by a sweep that runs
 * at most once a minute per instance, in the background of a hit, in batches of SWEEP_BATCH.
 * `now` is for tests.
 */
export function postgresStore(pool: pg.Pool, options: { now?: () => number } = {}): RateLimitStore {
  const now = options.now ?? Date.now;
  let nextSweep = 0;
  let sweeping: Promise<void> | null = null;
  // The window of a sweep that fell due while another ran: it runs when that one ends (skipped, it
  // would wait for a hit a minute later, and the rows of an instance gone quiet would stay).
  let dueAfter: number | null = null;
  async function sweep(current: number): Promise<void> {
    // A few batches at most: with more clients than that a minute, the next sweep goes on.
    for (let batch = 0; batch < 10; batch++) {
      const deleted = await pool.query(
        `DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits WHERE "window" < $1 LIMIT ${SWEEP_BATCH})`,
        [current],
      );
      if ((deleted.rowCount ?? 0) < SWEEP_BATCH) return;
    }
  }
  function startSweep(window: number): void {
    // In the background: a failed sweep is retried a minute later, and never fails the request.
    sweeping = sweep(window)
      .catch(() => {})
      .finally(() => {
        sweeping = null;
        if (dueAfter !== null) {
          const next = dueAfter;
          dueAfter = null;
          startSweep(next);
        }
      });
  }
  return {
    async hit(client) {
      const at = now();
      const { window, resetMs } = windowOf(at);
      if (at >= nextSweep) {
        nextSweep = at + WINDOW_MS;
        if (sweeping) dueAfter = window;
        else startSweep(window);
      }
      const result = await pool.query<{ count: number }>(
        `INSERT INTO rate_limits (key, "window", count) VALUES ($1, $2, 1)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN rate_limits."window" = EXCLUDED."window" THEN rate_limits.count + 1 ELSE 1 END,
           "window" = EXCLUDED."window"
         RETURNING count`,
        [client, window],
      );
      return { count: result.rows[0]?.count ?? 1, resetMs };
    },
    async close() {
      dueAfter = null;
      await sweeping;
    },
  };
}

/** `namespace` prefixes the Redis keys, so services (or test runs) sharing one Redis keep apart. */
export function redisStore(url: string, namespace = 'conflict-events'): RateLimitStore {
  // Fail fast rather than queue while Redis is away: the limiter then lets requests through.
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 1_000,
  });
  redis.on('error', () => {});
  let connecting: Promise<void> | null = null;
  return {
    async hit(client) {
      if (redis.status === 'wait') connecting ??= redis.connect();
      await connecting;
      const { window, resetMs } = windowOf(Date.now());
      const key = `${namespace}:ratelimit:${client}:${window}`;
      const [[, count]] = (await redis
        .multi()
        .incr(key)
        .pexpire(key, WINDOW_MS * 2)
        .exec()) as [[null, number], unknown];
      return { count, resetMs };
    },
    async close() {
      redis.disconnect();
    },
  };
}

export interface RateLimits {
  /** Requests a minute for each API key; 0 turns limiting off. */
  perKey: number;
  /** Requests a minute for each IP without a key. */
  perAnonymousIp: number;
}

export function installRateLimit(app: FastifyInstance, store: RateLimitStore, limits: RateLimits): void {
  if (limits.perKey === 0 && limits.perAnonymousIp === 0) return;
  // Clients over their limit, with the end of their window: refused here until it ends, without asking the
  // store again. A client hammering on after its 429 otherwise cost a store write per request (in
  // PostgreSQL without Redis) for as long as it kept on. Counts are per window, so nothing is lost: the
  // window they are over ends at the same moment on every instance. Emptied as each window ends.
  const overUntil = new Map<string, number>();
  let overWindow = 0;
  const refuse = (limit: number, resetMs: number, byKey: boolean): never => {
    const reset = Math.ceil(resetMs / 1000);
    throw new ApiError(
      'rate-limited',
      `More than ${limit} requests a minute from this ${byKey ? 'API key' : 'address'}; retry in ${reset} s.`,
      {
        headers: {
          'retry-after': String(reset),
          'ratelimit-policy': `${limit};w=${WINDOW_MS / 1000}`,
          ratelimit: `limit=${limit}, remaining=0, reset=${reset}`,
        },
      },
    );
  };
  app.addHook('onRequest', async (request, reply) => {
    // The API only: health checks, metrics and the document are never limited.
    if (!request.url.startsWith('/v1/')) return;
    const [client, limit] = request.principal
      ? [`key:${request.principal.name}`, limits.perKey]
      : [`ip:${rateLimitAddress(clientAddress(request))}`, limits.perAnonymousIp];
    if (limit === 0) return;
    const now = Date.now();
    const { window } = windowOf(now);
    if (window !== overWindow) {
      overUntil.clear();
      overWindow = window;
    }
    const until = overUntil.get(client);
    if (until !== undefined && until > now) refuse(limit, until - now, request.principal !== null);
    let used: { count: number; resetMs: number };
    try {
      used = await store.hit(client);
    } catch (error) {
      // The store being away must not take the API down with it: let the request through.
      request.log.warn({ err: error }, 'rate limit store unavailable');
      return;
    }
    const reset = Math.ceil(used.resetMs / 1000);
    reply.header('ratelimit-policy', `${limit};w=${WINDOW_MS / 1000}`);
    reply.header('ratelimit', `limit=${limit}, remaining=${Math.max(0, limit - used.count)}, reset=${reset}`);
    if (used.count > limit) {
      overUntil.set(client, now + used.resetMs);
      refuse(limit, used.resetMs, request.principal !== null);
    }
  });
}

// The only reader of the environment. Every setting is parsed by one zod schema
// and every problem is reported at once, so a misconfigured deployment fails at
// start with the full list rather than one complaint per restart.
import { z } from 'zod';
import { parseTrustProxy, type TrustProxy } from './http/proxies.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL')
  .refine((value) => URL.canParse(value), 'must be a valid URL');

export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Unset: `npm start` runs an embedded PostgreSQL whose data lives in EMBEDDED_PG_DIR. */
  DATABASE_URL: postgresUrl.optional(),
  /** A streaming replica of DATABASE_URL's database for list and export reads; unset: they read the primary. */
  DATABASE_READ_URL: postgresUrl.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  EMBEDDED_PG_DIR: z.string().min(1).default('.data/postgres'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(5433),
  /** Size of the database connection pool of one instance. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * Exports of everything (a connection each, of their own pool, while they stream) one instance runs at once; unset: 2
   * (1 with a pool under 4).
   */
  EXPORT_MAX_CONCURRENT: z.coerce.number().int().min(1).max(200).optional(),
  // Admission control and statement timeouts (src/db/admission.ts, src/http/admission.ts): expensive
  // reads and exports run in bounded slots on pools of their own, and every statement has a timeout.
  /**
   * Exports of everything one client (API key, or address without one) streams at once; unset: half of
   * EXPORT_MAX_CONCURRENT.
   */
  EXPORT_MAX_PER_CLIENT: z.coerce.number().int().min(1).max(200).optional(),
  /**
   * An export whose client takes less than this many bytes a second over EXPORT_SLOW_WINDOW_MS, with its socket full,
   * is dropped.
   */
  EXPORT_MIN_BYTES_PER_SECOND: z.coerce
    .number()
    .int()
    .min(0)
    .default(16 * 1024),
  /** The window over which an export's client must keep EXPORT_MIN_BYTES_PER_SECOND. */
  EXPORT_SLOW_WINDOW_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * Expensive reads (stats, full-text q, count=true) one instance runs at once, each on a connection of their own pool;
   * unset: 2 (1 with a pool under 4).
   */
  EXPENSIVE_MAX_CONCURRENT: z.coerce.number().int().min(1).max(200).optional(),
  /** Expensive reads one client runs at once; unset: half of EXPENSIVE_MAX_CONCURRENT. */
  EXPENSIVE_MAX_PER_CLIENT: z.coerce.number().int().min(1).max(200).optional(),
  /**
   * Expensive reads and exports of everything that callers without an API key run at once, both kinds
   * together (each runs a core flat out); unset: the machine's cores less one (os.availableParallelism()), at least 1.
   */
  ANONYMOUS_HEAVY_MAX_CONCURRENT: z.coerce.number().int().min(1).max(200).optional(),
  /**
   * The most bytes a second an export of everything streams to a caller without an API key (a token
   * bucket), so that such exports cost a trickle of CPU rather than a core each; 0: no cap.
   */
  EXPORT_ANONYMOUS_BYTES_PER_SECOND: z.coerce
    .number()
    .int()
    .min(0)
    .default(4 * 1024 * 1024),
  /** Statement timeout of single reads and pages of lists (they share the pool's sessions), in ms. */
  READ_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1).default(5_000),
  /** Statement timeout of each statement of a write's transaction, in ms. */
  WRITE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1).default(5_000),
  /** Statement timeout of the expensive reads: stats, full-text q, counts, in ms. */
  EXPENSIVE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1).default(15_000),
  /** Statement timeout of an export of everything (its one COPY, for as long as it streams), in ms. */
  EXPORT_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(30 * 60_000),
  /** Statement timeout of each statement of a bulk import, in ms. */
  IMPORT_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1).default(60_000),
  /** Mean event-loop delay over a second above which /v1 requests get 503 (@fastify/under-pressure); 0: off. */
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
  /** Heap used above which /v1 requests get 503; 0: off. */
  PRESSURE_MAX_HEAP_BYTES: z.coerce.number().int().min(0).default(0),
  /** Resident memory above which /v1 requests get 503; 0: off. */
  PRESSURE_MAX_RSS_BYTES: z.coerce.number().int().min(0).default(0),
  // The live change stream (GET /v1/changes/stream): each stream holds a socket, no connection.
  /** Streams one instance serves at once; one more gets 503 with Retry-After. */
  CHANGE_STREAM_MAX_SUBSCRIBERS: z.coerce.number().int().min(1).default(1_000),
  /** Streams one client (API key, or address without one) holds at once; one more gets 429. */
  CHANGE_STREAM_MAX_PER_CLIENT: z.coerce.number().int().min(1).default(20),
  /** A heartbeat (comment line) is sent this often, so proxies keep an idle stream open. */
  CHANGE_STREAM_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
  /** The `retry:` sent to clients: how long they wait before reconnecting. */
  CHANGE_STREAM_RETRY_MS: z.coerce.number().int().min(0).default(3_000),
  /** Base URL used in Link headers and the OpenAPI servers list, when behind a proxy. */
  PUBLIC_URL: z.url().optional(),
  /**
   * Which proxies' X-Forwarded-For, -Host and -Proto to believe, for the client's address (the rate
   * limit's key) and links: off by default; a hop count, true, or addresses and CIDR ranges.
   */
  TRUST_PROXY: z
    .string()
    .transform((text, ctx): TrustProxy => {
      const parsed = parseTrustProxy(text);
      if (typeof parsed === 'object' && !Array.isArray(parsed)) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed;
    })
    .default(false),
  /** public: anyone may read; key: reads need an API key too (any role). Writes always need an editor key. */
  READ_ACCESS: z.enum(['public', 'key']).default('public'),
  /** Redis for the rate limiter's counts, shared by every instance; PostgreSQL holds them when unset. */
  REDIS_URL: z
    .string()
    .trim()
    .refine((value) => /^rediss?:\/\//.test(value) && URL.canParse(value), 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Requests a minute allowed to each API key; 0 turns rate limiting off. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
  /** Requests a minute allowed to each IP address calling without a key; 0 turns it off. */
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: z.coerce.number().int().min(0).default(300),
  // Bulk imports (POST /v1/imports, npm run import): keep these settings together.
  /**
   * Largest body of POST /v1/imports (an NDJSON stream, spooled to disk as it arrives): 256 MiB by default; JSON bodies
   * stay at 1 MiB.
   */
  IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(256 * 1024 * 1024),
  /**
   * Set by npm to the folder it was run from: the commands read file arguments relative to it, not to the project's
   * root.
   */
  INIT_CWD: z.string().min(1).optional(),
  /** Longest line of an import; a longer one is rejected (naming it) and the rest goes on. */
  IMPORT_MAX_LINE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /**
   * A batch (one transaction when not atomic) ends at 1,000 lines or at this many bytes of them, whichever comes first.
   */
  IMPORT_BATCH_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(1024 * 1024),
  /** Longest a batch's transaction may run (not atomic); beyond, the import stops and says so. */
  IMPORT_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(1).default(120_000),
  /** Longest the one transaction of an atomic import may run: it writes every line, read and validated beforehand. */
  IMPORT_ATOMIC_TIMEOUT_MS: z.coerce.number().int().min(1).default(3_600_000),
  /** An upload that sends no byte for this long is cut (408); a slow one that keeps sending is not. */
  IMPORT_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** How long POST /v1/imports waits for the import to finish before answering 202 with the job to poll. */
  IMPORT_WAIT_MS: z.coerce.number().int().min(0).default(5_000),
  /**
   * Imports one instance writes at once (each holds up to two connections while it writes); the others wait their turn.
   */
  IMPORT_MAX_CONCURRENT: z.coerce.number().int().min(1).max(50).default(2),
  /** Where import bodies are spooled while they are imported; the system's temporary folder when unset. */
  IMPORT_SPOOL_DIR: z.string().min(1).optional(),
  /** Origins whose browser scripts may call the API (CORS), comma-separated, or *; none when unset. */
  CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.union([
          z.literal('*'),
          z.url().refine((url) => new URL(url).origin === url, 'must be an origin such as https://dash.example.org'),
        ]),
      ),
    )
    .default([]),
});

/** The checks that involve two settings. */
const CheckedConfigSchema = ConfigSchema.superRefine((config, ctx) => {
  if (config.EXPORT_MAX_CONCURRENT !== undefined && config.EXPORT_MAX_CONCURRENT > config.DATABASE_POOL_SIZE)
    ctx.addIssue({
      code: 'custom',
      path: ['EXPORT_MAX_CONCURRENT'],
      message: `must be at most DATABASE_POOL_SIZE (${config.DATABASE_POOL_SIZE}): each export holds a connection`,
    });
  if (config.CHANGE_STREAM_MAX_PER_CLIENT > config.CHANGE_STREAM_MAX_SUBSCRIBERS)
    ctx.addIssue({
      code: 'custom',
      path: ['CHANGE_STREAM_MAX_PER_CLIENT'],
      message: `must be at most CHANGE_STREAM_MAX_SUBSCRIBERS (${config.CHANGE_STREAM_MAX_SUBSCRIBERS})`,
    });
  const cap = config.EXPORT_ANONYMOUS_BYTES_PER_SECOND;
  if (cap > 0 && cap < config.EXPORT_MIN_BYTES_PER_SECOND)
    ctx.addIssue({
      code: 'custom',
      path: ['EXPORT_ANONYMOUS_BYTES_PER_SECOND'],
      message: `must be 0 or at least EXPORT_MIN_BYTES_PER_SECOND (${config.EXPORT_MIN_BYTES_PER_SECOND}): a capped export is not a slow client`,
    });
  for (const [share, whole] of [
    ['EXPORT_MAX_PER_CLIENT', 'EXPORT_MAX_CONCURRENT'],
    ['EXPENSIVE_MAX_PER_CLIENT', 'EXPENSIVE_MAX_CONCURRENT'],
  ] as const) {
    const limit = config[whole];
    const value = config[share];
    if (value !== undefined && limit !== undefined && value > limit)
      ctx.addIssue({ code: 'custom', path: [share], message: `must be at most ${whole} (${limit})` });
  }
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the configuration from `source` (the process environment by default; tests pass their own). */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as shells and compose files often export them that way.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = CheckedConfigSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return parsed.data;
}

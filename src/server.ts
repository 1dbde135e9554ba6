// The entry point: read the configuration, get a database (the one at
// DATABASE_URL, or an embedded PostgreSQL under ./.data/), migrate it, listen,
// and close everything in order on a signal.
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { connectDatabase, openPool } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { locateDatabase } from './db/open.js';
import { takeShutdownSignals } from './db/embedded.js';
import { postgresStore, redisStore } from './http/rate-limit.js';
import { failStaleImportJobs, purgeOldImportJobs } from './modules/imports/jobs.js';
import { seedDemo } from './modules/events/demo-seed.js';
import { countKeys, createKey } from './modules/keys/repository.js';
import { renderMissingEvents } from './modules/events/refresh.js';
import { purgeExpiredIdempotencyKeys } from './write/run.js';

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL });

// On the embedded database, a second `npm start` on the same data folder stops here, saying where the first one serves.
const location = await locateDatabase(config, (message) => logger.info(message), { service: true });
const { url: databaseUrl, embedded } = location;

const applied = await runMigrations(databaseUrl, { log: (message) => logger.info(message) });
if (applied.length > 0) logger.info({ applied }, 'applied migrations');

// Lists and exports read the replica at DATABASE_READ_URL when there is one; writes and the rest use the primary.
const db = connectDatabase(databaseUrl, config.DATABASE_POOL_SIZE, config.DATABASE_READ_URL, {
  maxExports: config.EXPORT_MAX_CONCURRENT,
  exportsPerClient: config.EXPORT_MAX_PER_CLIENT,
  maxExpensive: config.EXPENSIVE_MAX_CONCURRENT,
  expensivePerClient: config.EXPENSIVE_MAX_PER_CLIENT,
  maxAnonymousHeavy: config.ANONYMOUS_HEAVY_MAX_CONCURRENT,
  timeouts: {
    read: config.READ_STATEMENT_TIMEOUT_MS,
    write: config.WRITE_STATEMENT_TIMEOUT_MS,
    expensive: config.EXPENSIVE_STATEMENT_TIMEOUT_MS,
    export: config.EXPORT_STATEMENT_TIMEOUT_MS,
    import: config.IMPORT_STATEMENT_TIMEOUT_MS,
  },
});
// The first start on an empty database (no API key yet) prints an admin key, so the writes can be
// tried at once. It goes to stdout once, never to the logs; `npm run keys` makes more.
const firstStart = (await countKeys(db.prisma)) === 0;
if ((await db.prisma.event.count()) === 0) {
  // The embedded default is for trying the service out: an empty one gets the demo data. A database
  // of one's own (DATABASE_URL) is left as it is, but the first start says how to load it.
  if (embedded) {
    const seeded = await seedDemo(db);
    logger.info(`empty embedded database: loaded ${seeded} demo events`);
  } else if (firstStart) {
    process.stdout.write(
      'The database has no events; `npm run seed:demo` loads the demo events (or see npm run import).\n',
    );
  }
}
if (firstStart) {
  // Instances starting at once on one empty database race for it: the name is unique, one wins, the others go on.
  const created = await createKey(db.prisma, 'admin', 'admin', 'first-start');
  if (created) process.stdout.write(`Admin API key (shown once): ${created.key}\n`);
}

// Events from before their rendered JSON existed (or loaded in bulk) are served by building it on
// the fly; render them in the background so reads get fast without delaying the start. On a
// connection of its own, with the imports' statement timeout: a batch may take longer than a read.
const rendering = openPool(databaseUrl, 1, config.IMPORT_STATEMENT_TIMEOUT_MS);
void renderMissingEvents(rendering)
  .then((rendered) => rendered > 0 && logger.info(`rendered ${rendered} events that had no stored JSON`))
  .catch((err: unknown) => logger.warn({ err }, 'rendering stored event JSON failed; reads build it on the fly'))
  .finally(() => void rendering.end());

// Imports that were running when an instance stopped (this one, or another that is gone) are marked failed.
const staleImports = await failStaleImportJobs(db);
if (staleImports > 0) logger.warn(`marked ${staleImports} interrupted import job(s) failed`);

// Stored responses of Idempotency-Keys are kept 24 hours, import jobs 7 days after they end; sweep the older ones
// hourly (claims ignore expired keys meanwhile).
const sweep = setInterval(() => {
  purgeExpiredIdempotencyKeys(db).catch((err: unknown) =>
    logger.warn({ err }, 'purging expired idempotency keys failed'),
  );
  purgeOldImportJobs(db).catch((err: unknown) => logger.warn({ err }, 'purging old import jobs failed'));
}, 3_600_000);
sweep.unref();

// Rate-limit counts live where every instance sees them: Redis if configured, else PostgreSQL.
const rateLimitStore = config.REDIS_URL ? redisStore(config.REDIS_URL) : postgresStore(db.pool);
const rateLimits = { perKey: config.RATE_LIMIT_PER_MINUTE, perAnonymousIp: config.RATE_LIMIT_ANONYMOUS_PER_MINUTE };

const app = await buildApp({
  db,
  logger,
  readAccess: config.READ_ACCESS,
  corsOrigins: config.CORS_ORIGINS,
  rateLimit: { store: rateLimitStore, limits: rateLimits },
  trustProxy: config.TRUST_PROXY,
  imports: {
    maxBytes: config.IMPORT_MAX_BYTES,
    maxLineBytes: config.IMPORT_MAX_LINE_BYTES,
    batchBytes: config.IMPORT_BATCH_BYTES,
    transactionTimeoutMs: config.IMPORT_TRANSACTION_TIMEOUT_MS,
    atomicTimeoutMs: config.IMPORT_ATOMIC_TIMEOUT_MS,
    idleTimeoutMs: config.IMPORT_IDLE_TIMEOUT_MS,
    waitMs: config.IMPORT_WAIT_MS,
    maxConcurrent: config.IMPORT_MAX_CONCURRENT,
    spoolDir: config.IMPORT_SPOOL_DIR,
  },
  exportClients: {
    minBytesPerSecond: config.EXPORT_MIN_BYTES_PER_SECOND,
    windowMs: config.EXPORT_SLOW_WINDOW_MS,
    anonymousBytesPerSecond: config.EXPORT_ANONYMOUS_BYTES_PER_SECOND,
  },
  pressure: {
    maxEventLoopDelayMs: config.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
    maxHeapBytes: config.PRESSURE_MAX_HEAP_BYTES,
    maxRssBytes: config.PRESSURE_MAX_RSS_BYTES,
  },
  changeStream: {
    maxSubscribers: config.CHANGE_STREAM_MAX_SUBSCRIBERS,
    perClient: config.CHANGE_STREAM_MAX_PER_CLIENT,
    heartbeatMs: config.CHANGE_STREAM_HEARTBEAT_MS,
    retryMs: config.CHANGE_STREAM_RETRY_MS,
  },
  ...(config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL } : {}),
});

// The embedded server is stopped below, once the requests in flight have ended.
if (embedded) takeShutdownSignals();
closeWithGrace({ delay: 10_000, logger }, async ({ err, signal }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal }, 'closing');
  // Stop accepting, let in-flight requests finish, then release the pool and the server.
  clearInterval(sweep);
  await app.close();
  await rateLimitStore.close();
  await db.close();
  await embedded?.stop();
});

try {
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  await location.announce(config.PUBLIC_URL ?? address);
} catch (error) {
  // A taken port is the user's situation: say so, with the cause, and leave no stack trace.
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
  process.stderr.write(
    `Port ${config.PORT} on ${config.HOST} is taken (${(error as Error).message}): is the service already running? ` +
      'Stop it, or set PORT to a free port.\n',
  );
  await rateLimitStore.close();
  await db.close();
  await embedded?.stop();
  process.exit(1);
}

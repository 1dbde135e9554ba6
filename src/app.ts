// buildApp(deps) assembles the service: compilers, error handling, the OpenAPI
// document and one plugin per resource. It never listens; server.ts and the
// tests decide where it runs.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Database } from './db/client.js';
import { installPressure, type PressureLimits, type SlowClientLimits } from './http/admission.js';
import { installAuth, type ReadAccess } from './http/auth.js';
import { installDocs } from './http/docs.js';
import { installHardening } from './http/hardening.js';
import { installJsonOutput } from './http/json-output.js';
import { installMetrics } from './http/metrics.js';
import { openApiOverride } from './http/query-values.js';
import {
  clientErrorHandler,
  frameworkErrors,
  installProblemDetails,
  rejectUnstorableText,
} from './http/problem-details.js';
import { trustProxyOption, type TrustProxy } from './http/proxies.js';
import { installRateLimit, type RateLimits, type RateLimitStore } from './http/rate-limit.js';
import { installRequestLog, requestId } from './http/request-log.js';
import { installRequestTimeout } from './http/request-timeout.js';
import { actorRoutes } from './modules/actors/routes.js';
import { changeRoutes } from './modules/changes/routes.js';
import type { StreamSettings } from './modules/changes/live.js';
import { keyRoutes } from './modules/keys/routes.js';
import { findLiveKey } from './modules/keys/repository.js';
import type { ModuleDeps } from './modules/deps.js';
import { documentRoutes } from './modules/documents/routes.js';
import { eventTypeRoutes } from './modules/event-types/routes.js';
import { eventRoutes } from './modules/events/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { indexRoutes } from './modules/index/routes.js';
import {
  DEFAULT_ATOMIC_TIMEOUT_MS,
  DEFAULT_BATCH_BYTES,
  DEFAULT_TRANSACTION_TIMEOUT_MS,
} from './modules/imports/import.js';
import { MAX_LINE_BYTES } from './modules/imports/records.js';
import { importRoutes, type ImportSettings } from './modules/imports/routes.js';
import { reportRoutes } from './modules/reports/routes.js';
import { statsRoutes } from './modules/stats/routes.js';
import { OPENAPI_INFO } from './openapi/info.js';
import { finishDocument } from './openapi/tidy.js';

export interface AppDeps {
  db: Database;
  /** Whether reads need an API key (READ_ACCESS); public by default. */
  readAccess?: ReadAccess;
  /** Origins allowed to call from a browser (CORS_ORIGINS). */
  corsOrigins?: string[];
  /** Rate limits and the store that counts them; no limits without. */
  rateLimit?: { store: RateLimitStore; limits: RateLimits };
  /** A pino logger; without one the app logs nothing (as in tests). */
  logger?: FastifyBaseLogger;
  /** Base URL of Link headers (PUBLIC_URL); without, the request's own protocol and host. */
  publicUrl?: string;
  /** Which proxies' X-Forwarded-* headers to believe (TRUST_PROXY); none without. */
  trustProxy?: TrustProxy;
  /** The IMPORT_* settings (config.ts); the defaults there without. */
  imports?: Partial<ImportSettings>;
  /** A request (but an import's streamed body) must arrive whole within this; 30 s without. */
  requestTimeoutMs?: number;
  /** When an export's client is too slow to keep its slot (EXPORT_MIN_BYTES_PER_SECOND, EXPORT_SLOW_WINDOW_MS). */
  exportClients?: SlowClientLimits;
  /** Process pressure beyond which /v1 requests get 503 (PRESSURE_*); off without. */
  pressure?: PressureLimits;
  /**
   * The live change stream's bounds, heartbeat and retry hint (CHANGE_STREAM_*); the defaults in changes/live.ts
   * without.
   */
  changeStream?: Partial<StreamSettings>;
}

/** The defaults of the IMPORT_* settings, as config.ts has them. */
const IMPORT_DEFAULTS: ImportSettings = {
  maxBytes: 256 * 1024 * 1024,
  maxLineBytes: MAX_LINE_BYTES,
  batchBytes: DEFAULT_BATCH_BYTES,
  transactionTimeoutMs: DEFAULT_TRANSACTION_TIMEOUT_MS,
  atomicTimeoutMs: DEFAULT_ATOMIC_TIMEOUT_MS,
  idleTimeoutMs: 30_000,
  waitMs: 5_000,
  maxConcurrent: 2,
};

export async function buildApp({
  db,
  logger,
  publicUrl,
  readAccess = 'public',
  corsOrigins = [],
  rateLimit,
  trustProxy = false,
  imports,
  requestTimeoutMs = 30_000,
  exportClients,
  pressure,
  changeStream,
}: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    // Behind a proxy the client's address, host and protocol come from X-Forwarded-*, from trusted proxies only.
    trustProxy: trustProxyOption(trustProxy),
    bodyLimit: 1024 * 1024,
    // Node's request timeout is server-wide; installRequestTimeout applies it per route instead (slow-loris).
    requestTimeout: 0,
    // The contract uses lower-case paths and query names as written; be strict about both.
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true, maxParamLength: 200 },
    ajv: { customOptions: { coerceTypes: false } },
    genReqId: requestId,
    // Errors raised before a route runs answer as problems too.
    frameworkErrors,
    clientErrorHandler,
    // One line per request, written by installRequestLog, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();

  // Bodies are JSON only; without this, text/plain would reach validation as a string (400) instead of 415.
  app.removeContentTypeParser('text/plain');
  // PATCH bodies are JSON merge patches (RFC 7396); their media type is parsed as JSON.
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installRequestLog(app);
  installRequestTimeout(app, requestTimeoutMs);
  await installHardening(app, { corsOrigins });
  installProblemDetails(app);
  installJsonOutput(app);
  rejectUnstorableText(app);
  // Before authentication and rate limiting: under pressure a request is refused before it costs a query.
  if (pressure) await installPressure(app, pressure);
  installAuth(app, { findKey: (key) => findLiveKey(db.prisma, key), readAccess });
  if (rateLimit) installRateLimit(app, rateLimit.store, rateLimit.limits);
  installMetrics(app, db);

  await app.register(fastifySwagger, {
    openapi: { openapi: '3.1.0', ...OPENAPI_INFO },
    transform: createJsonSchemaTransform({ zodToJsonConfig: { override: openApiOverride } }),
    transformObject: (input) =>
      finishDocument(
        createJsonSchemaTransformObject({ zodToJsonConfig: { override: openApiOverride } })(input) as Parameters<
          typeof finishDocument
        >[0],
      ) as never,
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await installDocs(app);

  const deps: ModuleDeps = {
    db,
    ...(publicUrl ? { publicUrl } : {}),
    ...(exportClients ? { exportClients } : {}),
    ...(changeStream ? { changeStream } : {}),
  };
  await app.register(indexRoutes, deps);
  await app.register(healthRoutes, deps);
  await app.register(eventTypeRoutes, deps);
  await app.register(eventRoutes, deps);
  await app.register(reportRoutes, deps);
  await app.register(actorRoutes, deps);
  await app.register(documentRoutes, deps);
  await app.register(changeRoutes, deps);
  await app.register(statsRoutes, deps);
  await app.register(importRoutes, { ...deps, imports: { ...IMPORT_DEFAULTS, ...imports } });
  await app.register(keyRoutes, deps);
  return app;
}

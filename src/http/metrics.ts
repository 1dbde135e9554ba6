// GET /metrics in the Prometheus text format: requests and their latency by route and
// status, the database pool and the export slots, the process (memory, CPU, event-loop lag)
// and build info.
// Each app has its own registry, so several apps in one process (tests) never collide.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/client.js';
import { OPENAPI_INFO } from '../openapi/info.js';

export function installMetrics(
  app: FastifyInstance,
  db: Pick<Database, 'pool' | 'readPool' | 'exports' | 'expensive'>,
): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Labelled by pool: "primary", "replica" when lists read one (DATABASE_READ_URL), and the pools of the expensive
  // reads and exports.
  const byPool = Object.entries({
    primary: db.pool,
    ...(db.readPool !== db.pool ? { replica: db.readPool } : {}),
    expensive: db.expensive.pool,
    exports: db.exports.pool,
  });
  const poolGauge = (name: string, help: string, read: (pool: pg.Pool) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        for (const [label, pool] of byPool) this.set({ pool: label }, read(pool));
      },
    });
  poolGauge('db_pool_connections', 'Connections the pool holds', (pool) => pool.totalCount);
  poolGauge('db_pool_idle_connections', 'Connections the pool holds idle', (pool) => pool.idleCount);
  poolGauge('db_pool_waiting_requests', 'Queries waiting for a connection', (pool) => pool.waitingCount);
  // Streaming exports at their maximum is when a further export gets 503 (src/db/admission.ts).
  new Gauge({
    name: 'exports_streaming',
    help: 'Exports of everything streaming now',
    registers: [registry],
    collect() {
      this.set(db.exports.inUse);
    },
  });
  new Gauge({
    name: 'exports_max',
    help: 'Exports of everything one instance streams at once',
    registers: [registry],
  }).set(db.exports.max);
  // Likewise the expensive reads (stats, full-text q, counts; src/db/admission.ts).
  new Gauge({
    name: 'expensive_reads_running',
    help: 'Expensive reads (stats, full-text q, counts) running now',
    registers: [registry],
    collect() {
      this.set(db.expensive.inUse);
    },
  });
  new Gauge({
    name: 'expensive_reads_max',
    help: 'Expensive reads one instance runs at once',
    registers: [registry],
  }).set(db.expensive.max);
  // And what callers without a key run of both kinds together (ANONYMOUS_HEAVY_MAX_CONCURRENT).
  new Gauge({
    name: 'anonymous_heavy_running',
    help: 'Expensive reads and exports of callers without an API key running now',
    registers: [registry],
    collect() {
      this.set(db.expensive.anonymous.running);
    },
  });
  new Gauge({
    name: 'anonymous_heavy_max',
    help: 'Expensive reads and exports callers without an API key run at once, both kinds together',
    registers: [registry],
  }).set(db.expensive.anonymous.max);
  new Gauge({
    name: 'build_info',
    help: 'The running build',
    labelNames: ['version', 'node'],
    registers: [registry],
  }).set({ version: OPENAPI_INFO.info.version, node: process.version }, 1);

  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, never the raw URL: ids would make a series per record.
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}

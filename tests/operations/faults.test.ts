// The database goes away mid-test: requests get 503 with Retry-After at once (no hanging),
// /readyz says so, and when the database returns the service recovers by itself, with no
// lost or half-written record. Also: a graceful close finishes the requests in flight.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { connectDatabase, type Database } from '../../src/db/client.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createKey } from '../../src/modules/keys/repository.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, unique } from '../helpers/fixtures.js';

let folder: string;
let port: number;
let server: EmbeddedDatabase | null = null;
let db: Database;
let app: FastifyInstance;
let http: ReturnType<typeof supertest.agent>;

const start = () =>
  startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), port, database: 'faults', persistent: true });

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'conflict-events-faults-'));
  port = await freePort();
  server = await start();
  await runMigrations(server.url);
  db = connectDatabase(server.url, 5);
  const { key } = (await createKey(db.prisma, 'fault-editor', 'editor', 'test'))!;
  app = await buildApp({ db });
  await app.listen({ port: 0, host: '127.0.0.1' });
  http = supertest.agent(app.server).set('authorization', `Bearer ${key}`);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await db?.close();
  await server?.stop();
  await rm(folder, { recursive: true, force: true });
});

/** Polls until `check` passes, a bounded number of times. */
async function eventually(check: () => Promise<boolean>, tries = 120): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('condition not reached');
}

describe('the database goes away and comes back', () => {
  it('503s with Retry-After while it is down, then recovers with every record whole', async () => {
    const tag = `fault-${unique()}`;
    const post = (i: number) =>
      http
        .post('/v1/events')
        .timeout(10_000)
        .send(eventBody({ title: `Fault ${i}`, tags: [tag] }));
    await post(0).expect(201);

    // Writes in flight while the server stops: each ends as a 201 or a 503, nothing else.
    const inFlight = Array.from({ length: 12 }, (_, i) => post(i + 1));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await server!.stop();
    server = null;
    const statuses = (await Promise.all(inFlight)).map((r) => r.status);
    expect(statuses.every((status) => status === 201 || status === 503)).toBe(true);

    // While it is down: prompt 503s (a hanging request would hit the 10 s timeout and fail).
    for (const request of [http.get('/v1/events').timeout(10_000), post(99), http.get('/v1/changes').timeout(10_000)]) {
      const response = await request;
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect((await http.get('/readyz').timeout(10_000)).status).toBe(503);

    // Back: no restart of the service, it simply answers again.
    server = await start();
    await eventually(async () => (await http.get('/readyz').timeout(10_000)).status === 200);
    await post(100).expect(201);

    // Every event is whole: at least one report, its revisions up to its version, no stray rows.
    const whole = await db.pool.query<{ id: string; reports: number; revisions: number; version: number }>(
      `SELECT e.id, e.version,
              (SELECT count(*)::int FROM reports r WHERE r.event_id = e.id) AS reports,
              (SELECT count(*)::int FROM revisions v WHERE v.resource = 'event' AND v.resource_id = e.id) AS revisions
       FROM events e WHERE $1 = ANY(e.tags)`,
      [tag],
    );
    expect(whole.rows.length).toBeGreaterThanOrEqual(2 + statuses.filter((status) => status === 201).length);
    for (const row of whole.rows) expect([row.reports, row.revisions]).toEqual([1, row.version]);
    const listed = (await http.get(`/v1/events?tag=${tag}&limit=100`).expect(200)).body.data as { title: string }[];
    expect(listed).toHaveLength(whole.rows.length);
  }, 180_000);
});

describe('graceful close', () => {
  let t: TestApp;
  let markStarted: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  beforeAll(async () => {
    t = await startTestApp({
      extend(app) {
        // A request that takes a while, to be in flight when the close begins.
        app.get('/slow', async () => {
          markStarted();
          await new Promise((resolve) => setTimeout(resolve, 500));
          return { done: true };
        });
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('stops accepting, finishes the requests in flight, then closes', async () => {
    const { port } = t.app.server.address() as { port: number };
    const result = t.anonymous.get('/slow').then((response) => response);
    await started;
    const closing = t.app.close();
    const response = await result;
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ done: true });
    await closing;
    // Closed: the port no longer accepts connections (supertest would listen anew, so plain fetch).
    await expect(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });
});

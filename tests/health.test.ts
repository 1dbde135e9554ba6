import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { buildApp } from '../src/app.js';
import { connectDatabase, type Database } from '../src/db/client.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { eventBody, expectProblem } from './helpers/fixtures.js';

let t: TestApp;
/** A second app whose pool points at a port where no PostgreSQL listens. */
let down: { app: FastifyInstance; db: Database; http: ReturnType<typeof supertest> };

beforeAll(async () => {
  t = await startTestApp();
  const db = connectDatabase('postgresql://postgres@127.0.0.1:1/nothing');
  const app = await buildApp({ db });
  await app.listen({ port: 0, host: '127.0.0.1' });
  down = { app, db, http: supertest(app.server) };
});
afterAll(async () => {
  await down?.app.close();
  await down?.db.close();
  await t.close();
});

describe('GET /healthz', () => {
  it('200 ok while the process runs', async () => {
    const response = await t.http.get('/healthz').expect(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('200 even when the database is unreachable: liveness does not depend on it', async () => {
    const response = await down.http.get('/healthz').expect(200);
    expect(response.body).toEqual({ status: 'ok' });
  });
});

describe('GET /readyz', () => {
  it('200 ok with a live database', async () => {
    const response = await t.http.get('/readyz').expect(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers['retry-after']).toBeUndefined();
  });

  // No timing is asserted (tests never do); the readiness check bounds its own wait.
  it('503 with Retry-After when the database is not there', async () => {
    const response = await down.http.get('/readyz').expect(503);
    expect(response.body).toEqual({ status: 'unavailable' });
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('stays 503 on every check, and the live app is unaffected', async () => {
    await down.http.get('/readyz').expect(503);
    await down.http.get('/readyz').expect(503);
    await t.http.get('/readyz').expect(200);
  });
});

describe('API requests while the database is unreachable', () => {
  it('503 problem+json with Retry-After for a read', async () => {
    const response = await down.http.get('/v1/event-types');
    const problem = await expectProblem(Promise.resolve(response), 503);
    expect(problem.type).toBe('/problems/service-unavailable');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/);
  });

  it.each<[string, object]>([
    ['/v1/actors', { name: 'Nobody', kind: 'person' }],
    ['/v1/documents', { url: 'https://example.org/unreachable' }],
    ['/v1/events', eventBody()],
  ])('503 problem+json with Retry-After for a write to %s', async (path, body) => {
    // With a key, as a writer sends it: looking the key up already needs the database.
    const response = await down.http
      .post(path)
      .set('authorization', `Bearer cek_${'a'.repeat(43)}`)
      .send(body);
    const problem = await expectProblem(Promise.resolve(response), 503);
    expect(problem.type).toBe('/problems/service-unavailable');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });
});

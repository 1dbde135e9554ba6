// Rate limits (in PostgreSQL or Redis, shared by instances), URL and body size limits,
// security headers and CORS.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { postgresStore, redisStore, type RateLimitStore } from '../../src/http/rate-limit.js';
import { createKey } from '../../src/modules/keys/repository.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { actorBody, expectProblem } from '../helpers/fixtures.js';

// Redis runs on the development and CI machines; where REDIS_URL is not set the Redis cases are skipped.
const REDIS_URL = process.env.REDIS_URL;

let t: TestApp;
const apps: FastifyInstance[] = [];
const stores: RateLimitStore[] = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  for (const store of stores) await store.close();
  await t.close();
});

/** An app on the test database, with small limits counted in `store` when given. */
async function extraApp(options: { store?: RateLimitStore; corsOrigins?: string[] }) {
  if (options.store) stores.push(options.store);
  const app = await buildApp({
    db: t.db,
    ...(options.store ? { rateLimit: { store: options.store, limits: { perKey: 4, perAnonymousIp: 3 } } } : {}),
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app);
  return supertest(app.server);
}

describe.each([
  ['PostgreSQL', () => postgresStore(t.db.pool)],
  ['Redis', () => redisStore(REDIS_URL ?? 'redis://unset', `test-${randomBytes(4).toString('hex')}`)],
])('rate limits counted in %s', (name, makeStore) => {
  it.skipIf(name === 'Redis' && !REDIS_URL)(
    'per address without a key: RateLimit headers, then 429 with Retry-After',
    async () => {
      const store = makeStore();
      const [one, two] = [await extraApp({ store }), await extraApp({ store })];
      // Two instances on one store: the count is shared.
      const remaining = [];
      for (const http of [one, two, one]) {
        const response = await http.get('/v1/event-types').expect(200);
        expect(response.headers['ratelimit-policy']).toBe('3;w=60');
        remaining.push(/remaining=(\d+)/.exec(response.headers.ratelimit ?? '')?.[1]);
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const refused = await two.get('/v1/event-types');
      const problem = await expectProblem(Promise.resolve(refused), 429);
      expect(problem.type).toBe('/problems/rate-limited');
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Health checks are never limited; a key has its own count.
      await one.get('/healthz').expect(200);
      const keyed = await one
        .post('/v1/actors')
        .set('authorization', `Bearer ${t.keys.editor}`)
        .send(actorBody())
        .expect(201);
      expect(keyed.headers.ratelimit).toMatch(/^limit=4, remaining=3, reset=\d+$/);
    },
  );

  it.skipIf(name === 'Redis' && !REDIS_URL)(
    'a client over its limit is refused without a store write per request',
    async () => {
      const inner = makeStore();
      let hits = 0;
      const counting: RateLimitStore = { hit: (client) => (hits++, inner.hit(client)), close: () => inner.close() };
      const http = await extraApp({ store: counting });
      // A key of its own, so no other test's requests count (the limit for a key is 4).
      const { key } = (await createKey(t.db.prisma, `limits-${randomBytes(4).toString('hex')}`, 'reader', 'test'))!;
      const get = () => http.get('/v1/event-types').set('authorization', `Bearer ${key}`);
      for (let i = 0; i < 4; i++) await get().expect(200);
      await expectProblem(get(), 429);
      const counted = hits;
      for (let i = 0; i < 20; i++) {
        const refused = await get().expect(429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect(refused.headers.ratelimit).toMatch(/^limit=4, remaining=0, reset=\d+$/);
      }
      // A store write for each of the first five, none for the twenty after (unless a window ended meanwhile: one more).
      expect(counted).toBe(5);
      expect(hits - counted).toBeLessThanOrEqual(1);
    },
  );
});

describe('limits on requests', () => {
  it('414 for a URL over 4 KB, and nothing else is read', async () => {
    const problem = await expectProblem(t.http.get(`/v1/events?q=${'a'.repeat(5000)}`), 414);
    expect(problem.type).toBe('/problems/uri-too-long');
  });

  it('400 for more than 100 values in one list filter', async () => {
    const codes = Array.from({ length: 101 }, (_, i) => `t${i}`).join(',');
    const problem = await expectProblem(t.http.get(`/v1/events?type=${codes}`), 400);
    expect(problem.errors?.[0]?.path).toBe('/type');
  });
});

describe('security headers and CORS', () => {
  it('every answer carries the security headers', async () => {
    for (const response of [
      await t.http.get('/v1/events?limit=1'),
      await t.http.get('/nowhere'),
      await t.anonymous.post('/v1/actors'),
    ]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(response.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('answers preflights and exposes the headers dashboards read, for configured origins only', async () => {
    const http = await extraApp({ corsOrigins: ['https://dash.example.org'] });
    const preflight = await http
      .options('/v1/events/0193f1a0-0000-7000-8000-00000000dead')
      .set('origin', 'https://dash.example.org')
      .set('access-control-request-method', 'PATCH')
      .set('access-control-request-headers', 'authorization, if-match, content-type')
      .expect(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://dash.example.org');
    expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');
    expect(preflight.headers['access-control-allow-headers']).toContain('if-match');
    const read = await http.get('/v1/event-types').set('origin', 'https://dash.example.org').expect(200);
    expect(read.headers['access-control-expose-headers']).toContain('etag');
    const stranger = await http.get('/v1/event-types').set('origin', 'https://elsewhere.example.com');
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
    // Without CORS_ORIGINS no browser origin is allowed at all.
    expect(
      (await t.http.get('/v1/event-types').set('origin', 'https://dash.example.org')).headers[
        'access-control-allow-origin'
      ],
    ).toBeUndefined();
  });
});

// Proxies on purpose: X-Forwarded-* headers count only from the proxies TRUST_PROXY names (none by
// default), for the client's address (the rate limit's key) and the host of Link headers, which
// PUBLIC_URL overrides; a hostile Host cannot break or inject into a Link. Rate-limit rows expire.
// And with CORS on, every answer that depends on Origin says so in Vary.
import type { FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type AppDeps } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { postgresStore, type RateLimitStore } from '../../src/http/rate-limit.js';
import { actorBody, expectProblem } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
const apps: FastifyInstance[] = [];
const stores: RateLimitStore[] = [];
beforeAll(async () => {
  t = await startTestApp();
  // Two actors, so that a page of one has a Link to the next.
  for (let i = 0; i < 2; i++) await t.http.post('/v1/actors').send(actorBody()).expect(201);
});
afterAll(async () => {
  for (const app of apps) await app.close();
  for (const store of stores) await store.close();
  await t.close();
});

/** An app on the test database with `deps`; with `limit`, anonymous callers get that many requests a minute. */
async function extraApp(deps: Partial<AppDeps> & { limit?: number } = {}) {
  const { limit, ...rest } = deps;
  const store = limit === undefined ? undefined : postgresStore(t.db.pool);
  if (store) stores.push(store);
  const app = await buildApp({
    db: t.db,
    ...(store ? { rateLimit: { store, limits: { perKey: 100, perAnonymousIp: limit! } } } : {}),
    ...rest,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app);
  return supertest(app.server);
}

describe('TRUST_PROXY', () => {
  it('is off by default; takes a hop count, true, or addresses, CIDRs and proxy-addr names; refuses anything else', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: ' 10.0.0.0/8, 127.0.0.1 ,::1, loopback' }).TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'loopback',
    ]);
    for (const bad of ['10.0.0.0/33', 'proxy.example.org', '1.2.3', '-1', '0x10', 'yes'])
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(ConfigError);
  });

  it('unset: X-Forwarded-For is ignored, so a spoofed one does not give a fresh rate-limit bucket', async () => {
    const http = await extraApp({ limit: 2 });
    await http.get('/v1/event-types').expect(200);
    await http.get('/v1/event-types').expect(200);
    await expectProblem(http.get('/v1/event-types'), 429);
    await expectProblem(http.get('/v1/event-types').set('x-forwarded-for', '203.0.113.9'), 429);
    await expectProblem(http.get('/v1/event-types').set('x-forwarded-for', '203.0.113.10, 203.0.113.11'), 429);
  });

  it('by address: the client is the entry the trusted proxy added; what a client puts before it is ignored', async () => {
    const http = await extraApp({ limit: 2, trustProxy: ['loopback'] });
    const as = (forwarded: string) => http.get('/v1/event-types').set('x-forwarded-for', forwarded);
    await as('198.51.100.7').expect(200);
    await as('198.51.100.7').expect(200);
    await expectProblem(as('198.51.100.7'), 429);
    await expectProblem(as('203.0.113.1, 198.51.100.7'), 429);
    // Another client behind the same proxy has its own count.
    await as('198.51.100.8').expect(200);
  });

  it('by hop count: as many proxies as it says are trusted, whatever their address', async () => {
    const http = await extraApp({ limit: 1, trustProxy: 1 });
    await http.get('/v1/event-types').set('x-forwarded-for', '198.51.100.20').expect(200);
    await expectProblem(http.get('/v1/event-types').set('x-forwarded-for', '6.6.6.6, 198.51.100.20'), 429);
    await http.get('/v1/event-types').set('x-forwarded-for', '198.51.100.21').expect(200);
  });

  it('an IPv6 client is counted by its /64: another address of the same network gets no fresh count', async () => {
    const http = await extraApp({ limit: 1, trustProxy: ['loopback'] });
    const as = (forwarded: string) => http.get('/v1/event-types').set('x-forwarded-for', forwarded);
    await as('2001:db8:1:2::1').expect(200);
    await expectProblem(as('2001:db8:1:2:ffff::99'), 429);
    await as('2001:db8:1:3::1').expect(200);
    // An IPv4-mapped address is its IPv4 address.
    await as('192.0.2.77').expect(200);
    await expectProblem(as('::ffff:192.0.2.77'), 429);
  });

  it('a forwarded value that is no address never becomes a rate-limit key (a 3 KB one was stored)', async () => {
    const http = await extraApp({ limit: 100, trustProxy: ['loopback'] });
    await http.get('/v1/event-types').set('x-forwarded-for', 'x'.repeat(3000)).expect(200);
    await http
      .get('/v1/event-types')
      .set('x-forwarded-for', `${'9'.repeat(200)}, junk`)
      .expect(200);
    const longest = await t.db.pool.query<{ n: number }>(
      'SELECT coalesce(max(length(key)), 0)::int AS n FROM rate_limits',
    );
    expect(longest.rows[0]!.n).toBeGreaterThan(0);
    expect(longest.rows[0]!.n).toBeLessThanOrEqual(64);
  });
});

describe('rate-limit rows in PostgreSQL', () => {
  it('expire: the windows past are deleted as new ones are counted', async () => {
    let now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const store = postgresStore(t.db.pool, { now: () => now });
    stores.push(store);
    const keys = ['ip:192.0.2.1', 'ip:192.0.2.2'];
    for (const key of keys) await store.hit(key);
    const count = async () =>
      (await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM rate_limits WHERE key = ANY($1)', [keys]))
        .rows[0]!.n;
    expect(await count()).toBe(2);
    now += 5 * 60_000;
    await store.hit('ip:192.0.2.3');
    await expect.poll(count, { timeout: 5_000 }).toBe(0);
    // The current window's count is kept.
    expect((await store.hit('ip:192.0.2.3')).count).toBe(2);
  });

  it('a sweep that falls due while the last one still runs is run after it, not skipped', async () => {
    let now = Date.UTC(2031, 0, 1, 12, 0, 0);
    const store = postgresStore(t.db.pool, { now: () => now });
    stores.push(store);
    const windowMs = 60_000;
    // A row of a past window, held by another transaction: the first sweep waits on it.
    await t.db.pool.query('INSERT INTO rate_limits (key, "window", count) VALUES ($1, $2, 1)', [
      'ip:198.51.100.9',
      Math.floor(now / windowMs) - 1,
    ]);
    const holder = await t.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM rate_limits WHERE key = $1 FOR UPDATE', ['ip:198.51.100.9']);
      const keys = ['ip:198.51.100.1', 'ip:198.51.100.2'];
      for (const key of keys) await store.hit(key); // the first hit starts the sweep, which waits
      now += 5 * windowMs;
      await store.hit('ip:198.51.100.3'); // a sweep is due again while the first still waits
      await holder.query('COMMIT');
      const count = async () =>
        (await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM rate_limits WHERE key = ANY($1)', [keys]))
          .rows[0]!.n;
      await expect.poll(count, { timeout: 5_000 }).toBe(0);
    } finally {
      holder.release();
    }
  });
});

describe('the Link header', () => {
  const linkOf = (response: supertest.Response) => {
    const match = /^<([^<>]*)>; rel="next"$/.exec(response.headers.link ?? '');
    if (!match) throw new Error(`no next link in ${String(response.headers.link)}`);
    return match[1]!;
  };

  it('ignores X-Forwarded-Host and -Proto from a proxy that is not trusted', async () => {
    const http = await extraApp();
    const response = await http
      .get('/v1/actors?limit=1')
      .set('x-forwarded-host', 'evil.example')
      .set('x-forwarded-proto', 'https')
      .expect(200);
    const url = new URL(linkOf(response));
    expect(url.host).toBe(response.request.url.replace(/^http:\/\/([^/]+)\/.*$/, '$1'));
    expect(url.protocol).toBe('http:');
  });

  it('takes them from a trusted proxy, and PUBLIC_URL over everything', async () => {
    const proxied = await extraApp({ trustProxy: ['loopback'] });
    const forwarded = await proxied
      .get('/v1/actors?limit=1')
      .set('x-forwarded-host', 'api.example.net')
      .set('x-forwarded-proto', 'https')
      .expect(200);
    expect(linkOf(forwarded)).toMatch(/^https:\/\/api\.example\.net\/v1\/actors\?limit=1&cursor=/);
    const pinned = await extraApp({ trustProxy: ['loopback'], publicUrl: 'https://data.example.org' });
    const response = await pinned.get('/v1/actors?limit=1').set('x-forwarded-host', 'api.example.net').expect(200);
    expect(linkOf(response)).toMatch(/^https:\/\/data\.example\.org\/v1\/actors\?limit=1&cursor=/);
  });

  it('a hostile Host or forwarded host or proto gives a relative Link, never a 500 or an injected one', async () => {
    const proxied = await extraApp({ trustProxy: ['loopback'] });
    const hostile: [string, string][] = [
      ['host', 'a b'],
      ['host', 'evil.example>; rel="prev", <http://evil.example'],
      ['host', 'x@evil.example'],
      ['host', 'example.org:99999'],
      ['host', '[:::::]'],
      ['x-forwarded-host', 'evil.example/path?'],
      ['x-forwarded-proto', 'javascript'],
    ];
    for (const [header, value] of hostile) {
      const response = await proxied.get('/v1/actors?limit=1').set(header, value).expect(200);
      const link = linkOf(response);
      expect(link, `${header}: ${value}`).toMatch(/^\/v1\/actors\?limit=1&cursor=[^\s"<>]+$/);
    }
  });
});

describe('Vary with CORS on', () => {
  it('every answer that depends on Origin says so, merged with Accept where the format is negotiated', async () => {
    const http = await extraApp({ corsOrigins: ['https://dash.example.org'] });
    const vary = (response: supertest.Response) =>
      String(response.headers.vary ?? '')
        .split(',')
        .map((name) => name.trim().toLowerCase());
    const events = await http.get('/v1/events').set('origin', 'https://dash.example.org').expect(200);
    expect(vary(events)).toEqual(expect.arrayContaining(['origin', 'accept']));
    const csv = await http
      .get('/v1/events?limit=1')
      .set('origin', 'https://dash.example.org')
      .set('accept', 'text/csv')
      .expect(200);
    expect(vary(csv)).toEqual(expect.arrayContaining(['origin', 'accept']));
    for (const path of ['/v1/event-types', '/v1/events/0193f1a0-0000-7000-8000-00000000dead', '/v1/events?limit=0']) {
      const response = await http.get(path).set('origin', 'https://elsewhere.example.com');
      expect(vary(response), path).toContain('origin');
    }
  });
});

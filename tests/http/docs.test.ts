// GET /docs: the reference page and every asset it loads come from the service itself,
// it reads the same document as /openapi.json, and it stays public, unlimited and out of
// the document. (Whether a browser renders it: `npm run docs:check`, run by CI.)
import type { FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { postgresStore } from '../../src/http/rate-limit.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { expectProblem } from '../helpers/fixtures.js';

let t: TestApp;
let page: string;
const apps: FastifyInstance[] = [];
beforeAll(async () => {
  t = await startTestApp();
  page = (await t.anonymous.get('/docs').expect(200)).text;
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await t.close();
});

/** The URLs of the page's scripts, stylesheets and icons, as the browser would load them. */
function assetsOf(html: string): string[] {
  return [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
}

const TYPES: Record<string, RegExp> = {
  js: /^application\/javascript; charset=utf-8$/,
  css: /^text\/css; charset=utf-8$/,
  png: /^image\/png$/,
};

describe('GET /docs', () => {
  it('is an HTML page titled after the API', async () => {
    const response = await t.anonymous.get('/docs').expect(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page).toContain('<title>Conflict-event records API</title>');
    expect(page).toContain('<div id="swagger-ui"></div>');
  });

  it('loads every script, stylesheet and icon from the service, each with its content type', async () => {
    const assets = assetsOf(page);
    expect(assets.filter((url) => url.endsWith('.js'))).toHaveLength(3);
    expect(assets.filter((url) => url.endsWith('.css'))).toHaveLength(2);
    for (const url of assets) {
      // Same origin, absolute paths: nothing from a CDN.
      expect(url).toMatch(/^\/docs\/static\/[\w.-]+\.(js|css|png)$/);
      const response = await t.anonymous.get(url).buffer(true);
      expect(response.status, url).toBe(200);
      expect(response.headers['content-type'], url).toMatch(TYPES[url.split('.').pop()!]!);
      expect(Number(response.headers['content-length'] ?? response.body.length), url).toBeGreaterThan(0);
    }
  });

  it('renders the document /openapi.json serves', async () => {
    const initializer = (await t.anonymous.get('/docs/static/swagger-initializer.js').expect(200)).text;
    expect(initializer).toContain("url: resolveUrl('./json')");
    const [shown, served] = await Promise.all([
      t.anonymous.get('/docs/json').expect(200),
      t.anonymous.get('/openapi.json').expect(200),
    ]);
    expect(shown.body).toEqual(served.body);
    expect(shown.body.info.title).toBe('Conflict-event records API');
  });

  it('is not itself in the document', async () => {
    const paths = Object.keys((await t.anonymous.get('/openapi.json').expect(200)).body.paths);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((path) => path.startsWith('/docs'))).toEqual([]);
  });

  it("lets the page run its own scripts and styles, and nothing inline or from elsewhere; the API's policy is unchanged", async () => {
    const csp = (await t.anonymous.get('/docs').expect(200)).headers['content-security-policy'] ?? '';
    const directives = Object.fromEntries(
      csp.split(/;\s*/).map((directive) => [directive.split(' ')[0], directive.split(' ').slice(1)]),
    );
    expect(directives['default-src']).toEqual(["'none'"]);
    for (const name of ['script-src', 'style-src', 'connect-src']) expect(directives[name]).toEqual(["'self'"]);
    expect(directives['img-src']).toEqual(["'self'", 'data:']);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-|https?:|\*/);
    const asset = await t.anonymous.get('/docs/static/swagger-ui-bundle.js').expect(200);
    expect(asset.headers['content-security-policy']).toBe(csp);
    for (const response of [asset, await t.anonymous.get('/docs')]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
    }
    const api = await t.anonymous.get('/v1/event-types').expect(200);
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('404 problem for an asset that does not exist', async () => {
    const problem = await expectProblem(t.anonymous.get('/docs/static/nothing-here.js'), 404);
    expect(problem.type).toBe('/problems/not-found');
  });

  it('is public when reads need a key', async () => {
    const keyed = await startTestApp({ readAccess: 'key' });
    try {
      await keyed.anonymous.get('/docs').expect(200);
      await keyed.anonymous.get('/docs/json').expect(200);
      await keyed.anonymous.get('/docs/static/swagger-ui.css').expect(200);
      await expectProblem(keyed.anonymous.get('/v1/event-types'), 401);
    } finally {
      await keyed.close();
    }
  });

  it('is not rate limited: loading the page and its assets leaves the API allowance whole', async () => {
    const app = await buildApp({
      db: t.db,
      rateLimit: { store: postgresStore(t.db.pool), limits: { perKey: 2, perAnonymousIp: 2 } },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    apps.push(app);
    const http = supertest(app.server);
    for (const url of ['/docs', '/docs/json', ...assetsOf(page)]) {
      const response = await http.get(url).expect(200);
      expect(response.headers.ratelimit, url).toBeUndefined();
    }
    const api = await http.get('/v1/event-types').expect(200);
    expect(api.headers.ratelimit).toMatch(/^limit=2, remaining=1, reset=\d+$/);
  });

  it('is counted in /metrics under its route patterns, not one series per file', async () => {
    const metrics = (await t.anonymous.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^http_requests_total\{method="GET",route="\/docs\/static\/\*",status="200"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^http_requests_total\{method="GET",route="\/docs",status="200"\} [1-9]\d*$/m);
    expect(metrics).not.toContain('swagger-ui-bundle');
  });
});

// Every operation under /v1 may answer 429 (the rate limiter runs before it) and 503 (the database
// or an overloaded instance): the document declares both on each, with their headers, so generated
// clients know to retry after Retry-After. /readyz's 503 says Retry-After too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Response = {
  description: string;
  headers?: Record<string, { $ref?: string; schema?: unknown }>;
  content?: unknown;
};
type Document = {
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, Response> }>>;
  components: { headers?: Record<string, { description?: string; schema?: unknown }> };
};

let t: TestApp;
let served: Document;
beforeAll(async () => {
  t = await startTestApp();
  served = (await t.http.get('/openapi.json').expect(200)).body as Document;
});
afterAll(async () => {
  await t.close();
});

/** The header names a response declares, resolving $refs into components.headers. */
function headerNames(response: Response | undefined): string[] {
  return Object.keys(response?.headers ?? {})
    .map((name) => name.toLowerCase())
    .sort();
}

describe('429 and 503 in the OpenAPI document', () => {
  const operations = () =>
    Object.entries(served.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ path, method, operation })));

  it('every operation under /v1 declares 429 with Retry-After and the RateLimit headers', () => {
    expect(operations().length).toBeGreaterThan(20);
    for (const { method, path, operation } of operations()) {
      const tooMany = operation.responses['429'];
      expect(tooMany, `${method} ${path}`).toBeDefined();
      expect(headerNames(tooMany), `${method} ${path}`).toEqual(['ratelimit', 'ratelimit-policy', 'retry-after']);
    }
  });

  it('every operation under /v1, and /readyz, declares 503 with Retry-After', () => {
    for (const { method, path, operation } of [
      ...operations(),
      { method: 'get', path: '/readyz', operation: served.paths['/readyz']!.get! },
    ]) {
      const unavailable = operation.responses['503'];
      expect(unavailable, `${method} ${path}`).toBeDefined();
      expect(headerNames(unavailable), `${method} ${path}`).toContain('retry-after');
    }
  });

  it('the headers are described once, with their schemas', () => {
    const headers = served.components.headers ?? {};
    for (const name of ['RetryAfter', 'RateLimit', 'RateLimitPolicy']) {
      expect(headers[name]?.description, name).toEqual(expect.any(String));
      expect(headers[name]?.schema, name).toBeDefined();
    }
    expect((headers.RetryAfter?.schema as { type?: string }).type).toBe('integer');
  });
});

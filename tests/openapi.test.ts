import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/test-app.js';

let t: TestApp;
let served: {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        operationId?: string;
        tags?: string[];
        summary?: string;
        responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
};
beforeAll(async () => {
  t = await startTestApp();
  served = (await t.http.get('/openapi.json').expect(200)).body;
});
afterAll(async () => {
  await t.close();
});

/** Every route of the foundation with the error statuses it must declare. */
const ROUTES: [method: string, path: string, errors: number[]][] = [
  ['get', '/v1/events', [400, 406]],
  ['get', '/v1/events.csv', [400]],
  ['get', '/v1/events.ndjson', [400]],
  ['get', '/v1/events.geojson', [400]],
  ['get', '/v1/events.acled.csv', [400]],
  ['get', '/v1/reports', [400]],
  ['post', '/v1/events', [400, 409, 415, 422]],
  ['get', '/v1/events/{id}', [400, 404, 410]],
  ['patch', '/v1/events/{id}', [400, 404, 409, 410, 412, 415, 428]],
  ['delete', '/v1/events/{id}', [400, 404, 410, 412, 428]],
  ['get', '/v1/events/{id}/revisions', [400, 404]],
  ['post', '/v1/events/{id}/relations', [400, 404, 409, 410, 412, 428]],
  ['delete', '/v1/events/{id}/relations/{relation}/{event_id}', [400, 404, 410, 412, 428]],
  ['post', '/v1/events/{id}/merge', [400, 404, 410, 412, 422, 428]],
  ['get', '/v1/events/{id}/reports', [400, 404]],
  ['post', '/v1/events/{id}/reports', [400, 404, 410, 412, 415]],
  ['get', '/v1/reports/{id}', [400, 404, 410]],
  ['patch', '/v1/reports/{id}', [400, 404, 409, 410, 412, 428]],
  ['delete', '/v1/reports/{id}', [400, 404, 409, 410, 412, 422, 428]],
  ['get', '/v1/actors', [400]],
  ['post', '/v1/actors', [400, 409, 415]],
  ['get', '/v1/actors/{id}', [400, 404, 410]],
  ['patch', '/v1/actors/{id}', [400, 404, 409, 410, 412, 428]],
  ['post', '/v1/actors/{id}/merge', [400, 404, 409, 410, 412, 422, 428]],
  ['get', '/v1/documents', [400]],
  ['post', '/v1/documents', [400, 415]],
  ['get', '/v1/documents/{id}', [400, 404]],
  ['get', '/v1/event-types', []],
  ['post', '/v1/event-types', [400, 401, 403, 409, 415]],
  ['get', '/v1/changes', [400]],
  ['get', '/v1/changes/stream', [400, 429, 503]],
  ['get', '/v1/stats/events', [400]],
  ['get', '/v1/stats/claims', [400]],
  ['post', '/v1/imports', [400, 401, 403, 408, 413, 415, 503]],
  ['get', '/v1/imports/{id}', [400, 401, 403, 404]],
  ['get', '/v1/api-keys', [401, 403]],
  ['post', '/v1/api-keys', [400, 401, 403, 409, 415]],
  ['delete', '/v1/api-keys/{name}', [400, 401, 403, 404]],
  ['get', '/', []],
  ['get', '/healthz', []],
  ['get', '/readyz', []],
];

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(served.openapi).toBe('3.1.0');
    const result = await new Validator().validate(structuredClone(served));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('is the committed openapi/openapi.json', async () => {
    const committed = JSON.parse(await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8'));
    expect(served).toEqual(committed);
  });

  it.each(ROUTES)(
    'declares %s %s with an operationId, tags, a summary, its problem responses and a default problem',
    (method, path, errors) => {
      const operation = served.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation?.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(operation?.tags?.length).toBeGreaterThan(0);
      expect(operation?.summary).toBeTruthy();
      const declared = path.startsWith('/v1/') ? [...errors.map(String), 'default'] : errors.map(String);
      for (const status of declared) {
        const response = operation?.responses[status];
        expect(response, `${method} ${path} ${status}`).toBeDefined();
        expect(response?.content?.['application/problem+json']?.schema?.$ref).toBe('#/components/schemas/Problem');
      }
    },
  );

  it('names its schemas as components, with no unreachable or duplicate ones', () => {
    const names = Object.keys(served.components.schemas);
    for (const name of [
      'Event',
      'EventCreateInput',
      'Report',
      'Actor',
      'ActorRef',
      'Document',
      'DocumentRef',
      'Figure',
      'Problem',
      'EventPage',
    ]) {
      expect(names).toContain(name);
    }
    expect(names.filter((name) => names.includes(`${name}Input`))).toEqual([]);
    const text = JSON.stringify(served.paths) + JSON.stringify(served.components);
    for (const name of names) expect(text, name).toContain(`"#/components/schemas/${name}"`);
  });

  it('lists exactly the operations the app serves, each with a unique operationId', () => {
    const declared = Object.entries(served.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    expect(declared.sort()).toEqual(ROUTES.map(([method, path]) => `${method} ${path}`).sort());
    const ids = Object.values(served.paths).flatMap((operations) =>
      Object.values(operations).map((op) => op.operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });
});

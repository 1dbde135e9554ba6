// Fuzzing every GET of the OpenAPI document: path parameters (existing, unknown and broken
// ids), query strings built from the declared parameters (valid, boundary, wrong, unknown,
// repeated, empty, huge, badly encoded), Accept and If-None-Match variations, and callers
// with and without keys. No 5xx; every 4xx problem+json; every 2xx matches its schema.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { OUTSIDE_RUNS, operationsOf, plannedRequests, runsOf, SUITE_MINIMUM } from './budgets.js';
import { Contract, type OpenApiDocument } from './contract.js';
import { emptyWorld, encode, Generators, nastyArb, type World } from './generators.js';
import { captureErrors, FUZZ_APP, Harness, SEED, type FuzzRequest } from './harness.js';
import { absorb, seedWorld } from './world.js';

const READS = operationsOf('reads');

let t: TestApp;
let contract: Contract;
let h: Harness;
let world: World;
let g: Generators;

beforeAll(async () => {
  t = await startTestApp({ extend: captureErrors, ...FUZZ_APP });
  contract = new Contract((await t.http.get('/openapi.json').expect(200)).body as OpenApiDocument);
  h = new Harness('reads', contract, (t.app.server.address() as { port: number }).port, t.keys);
  world = emptyWorld();
  g = new Generators(contract, world);
  await seedWorld(h, contract, world);
});

afterAll(async () => {
  if (h) {
    console.log(h.summary());
    h.close();
  }
  await t?.close();
});

describe('fuzzing every GET of the contract', () => {
  it(`fuzzes every operation of the served document, with at least ${SUITE_MINIMUM} requests in all`, () => {
    const all = [...READS, ...operationsOf('creates'), ...operationsOf('edits')];
    expect(contract.operations.map((op) => op.operationId).sort()).toEqual(all.sort());
    expect(plannedRequests('reads') + plannedRequests('creates') + plannedRequests('edits')).toBeGreaterThanOrEqual(
      SUITE_MINIMUM,
    );
  });

  it.each(READS)(
    '%s',
    async (operationId) => {
      const operation = contract.operation(operationId);
      await fc.assert(
        fc.asyncProperty(g.requestOf(operation), async (request) => {
          const response = await h.exchange(operation, request);
          absorb(world, operation, request.path, response);
        }),
        { seed: SEED, numRuns: runsOf(operationId) },
      );
      h.assertClean(operationId);
    },
    120_000,
  );

  it('paths and methods outside the contract', async () => {
    const templates = contract.operations.map((op) => op.path);
    const concrete = fc
      .tuple(fc.constantFrom(...templates), g.idOf('events'))
      .map(([template, id]) => template.replace(/\{[^}]+\}/g, id));
    const path = fc.oneof(
      { weight: 6, arbitrary: concrete },
      { weight: 2, arbitrary: concrete.map((p) => `${p}/`) },
      { weight: 1, arbitrary: concrete.map((p) => p.toUpperCase()) },
      { weight: 1, arbitrary: concrete.map((p) => `/${p}`) },
      { weight: 2, arbitrary: concrete.map((p) => `${p}/extra`) },
      { weight: 2, arbitrary: nastyArb.map((s) => `/v1/${encode(s) || 'x'}`) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          '/',
          '/v1',
          '/v1/',
          '/v2/events',
          '/v1/../v1/events',
          '/v1/events;x=1',
          '/v1/events%2F',
          '/%2e%2e/',
          '/v1/events/%2e%2e',
          '/openapi.json',
          '/openapi.yaml',
          '/docs',
          '/favicon.ico',
          '/healthz/',
          '/v1/event-types/x',
          '/v1/api-keys/',
        ),
      },
    );
    const method = fc.constantFrom(
      'GET',
      'HEAD',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'OPTIONS',
      'TRACE',
      'PROPFIND',
      'LOCK',
    );
    const body = fc.option(
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      { nil: undefined },
    );
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        body,
        fc.constantFrom('anonymous', 'reader', 'editor', 'admin') as fc.Arbitrary<FuzzRequest['as']>,
        async (drawn, p, b, as) => {
          // A write that reaches a real operation belongs to the write fuzzers, which check the database: PUT instead.
          const served = contract.match(drawn, p);
          const m = served && served.method !== 'get' ? 'PUT' : drawn;
          const request: FuzzRequest = {
            method: m,
            path: p,
            ...(b !== undefined && m !== 'GET' && m !== 'HEAD'
              ? { body: b, headers: { 'content-type': 'application/json' } }
              : {}),
            ...(as ? { as } : {}),
          };
          await h.exchange(contract.match(m, p), request);
        },
      ),
      { seed: SEED, numRuns: OUTSIDE_RUNS },
    );
    h.assertClean('outside the contract');
  }, 120_000);

  it(`sent every planned request (${plannedRequests('reads')}), with no 5xx`, () => {
    if (process.env.FUZZ_VERBOSE)
      console.log(`${h.details()}\n  undeclared 4xx: ${JSON.stringify(Object.fromEntries(h.undeclared))}`);
    expect(h.requests).toBeGreaterThanOrEqual(plannedRequests('reads'));
    expect(h.byClass['5xx']).toBe(0);
  });
});

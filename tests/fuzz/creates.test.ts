// Fuzzing every write to a collection (events, actors, documents, API keys, event types)
// and the revocation of keys: bodies valid by the contract, mutated, arbitrary
// JSON and raw bytes; Content-Type, Idempotency-Key and Authorization variations. Every
// response is checked as in reads.test.ts, and every rejected write must leave the
// database and the change feed as they were.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { validBodyOf } from './bodies.js';
import { operationsOf, plannedRequests, REPLAY_RUNS, runsOf } from './budgets.js';
import { Contract, type OpenApiDocument } from './contract.js';
import { emptyWorld, Generators, type World } from './generators.js';
import { captureErrors, FUZZ_APP, Harness, SEED } from './harness.js';
import { seedWorld } from './world.js';
import { WriteFuzzer } from './writing.js';

const CREATES = operationsOf('creates');

let t: TestApp;
let contract: Contract;
let h: Harness;
let world: World;
let g: Generators;
let w: WriteFuzzer;

beforeAll(async () => {
  t = await startTestApp({ extend: captureErrors, ...FUZZ_APP });
  contract = new Contract((await t.http.get('/openapi.json').expect(200)).body as OpenApiDocument);
  h = new Harness('creates', contract, (t.app.server.address() as { port: number }).port, t.keys);
  world = emptyWorld();
  g = new Generators(contract, world);
  await seedWorld(h, contract, world, 8);
  w = new WriteFuzzer(h, contract, world, t.db);
  await w.start();
  g.owners = await w.learnOwners();
});

afterAll(async () => {
  if (h) {
    console.log(`${h.summary()}; writes accepted ${w?.accepted ?? 0}, rejected ${w?.rejected ?? 0}`);
    h.close();
  }
  await t?.close();
});

describe('fuzzing the writes that create', () => {
  it.each(CREATES)(
    '%s',
    async (operationId) => {
      const operation = contract.operation(operationId);
      const position = await w.feedPosition();
      const body = validBodyOf(g, operation);
      await fc.assert(
        fc.asyncProperty(g.requestOf(operation, body ? { body } : {}), async (draft) => {
          await w.write(operation, draft);
        }),
        { seed: SEED, numRuns: runsOf(operationId) },
      );
      await w.checkFeed(position.cursor, position.revisions);
      h.assertClean(operationId);
    },
    180_000,
  );

  it('an Idempotency-Key replays the first answer and writes nothing more', async () => {
    const operations = ['createEvent', 'createActor', 'createDocument', 'createEventReport'].map((id) =>
      contract.operation(id),
    );
    const drafts = fc.oneof(
      ...operations.map((operation) =>
        g.requestOf(operation, { body: validBodyOf(g, operation)! }).map((draft) => ({ operation, draft })),
      ),
    );
    await fc.assert(
      fc.asyncProperty(drafts, fc.uuid(), async ({ operation, draft }, key) => {
        const { 'if-match': _ifMatch, ...headers } = draft.headers ?? {};
        const request = { ...draft, headers: { ...headers, 'idempotency-key': key } };
        const first = await w.write(operation, request);
        const between = w.fingerprint;
        const again = await w.write(operation, request);
        const replayed = first.status >= 200 && first.status < 300;
        if (replayed && w.fingerprint !== between)
          h.fail(`${operation.operationId}: a replayed write changed the database`, request, again);
        if (
          replayed &&
          (again.status !== first.status ||
            again.text !== first.text ||
            again.headers['idempotent-replayed'] !== 'true')
        ) {
          h.fail(
            `${operation.operationId}: a retry with the same Idempotency-Key did not replay the first answer`,
            request,
            {
              ...again,
              text: `first: ${first.status} ${first.text.slice(0, 300)}\nagain: ${again.status} ${again.text.slice(0, 300)}`,
            },
          );
        }
      }),
      { seed: SEED, numRuns: REPLAY_RUNS },
    );
    h.assertClean('idempotent replays');
  }, 180_000);

  it(`sent every planned request (${plannedRequests('creates')}), with no 5xx`, () => {
    if (process.env.FUZZ_VERBOSE)
      console.log(`${h.details()}\n  undeclared 4xx: ${JSON.stringify(Object.fromEntries(h.undeclared))}`);
    expect(h.requests).toBeGreaterThanOrEqual(plannedRequests('creates'));
    expect(h.byClass['5xx']).toBe(0);
  });
});

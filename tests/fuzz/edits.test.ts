// Fuzzing every write to something that exists: reports added to events, merge patches
// of events, reports and actors, deletes, relations and merges, with If-Match current,
// stale, weak, malformed or missing. Every response is checked as in reads.test.ts, and
// every rejected write must leave the database and the change feed as they were. The test
// app's close() then proves that no accepted write left an event's derived columns stale.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorBody, eventBody, reportBody } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { validBodyOf } from './bodies.js';
import { operationsOf, plannedRequests, runsOf } from './budgets.js';
import { Contract, type OpenApiDocument } from './contract.js';
import { emptyWorld, Generators, pick, type World } from './generators.js';
import { captureErrors, FUZZ_APP, Harness, SEED, type FuzzRequest } from './harness.js';
import { seedWorld } from './world.js';
import { WriteFuzzer } from './writing.js';

const EDITS = operationsOf('edits');
/** Live events and reports kept available for deletes and merges. */
const SUPPLY = 12;

let t: TestApp;
let contract: Contract;
let h: Harness;
let world: World;
let g: Generators;
let w: WriteFuzzer;

const json = (body: unknown): Pick<FuzzRequest, 'body' | 'headers'> => ({
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});

/** Makes events (and reports on them) until enough are live for the destructive operations. */
async function supply(): Promise<void> {
  const create = contract.operation('createEvent');
  while (world.live.events.length < SUPPLY) {
    await w.send(create, {
      method: 'POST',
      path: '/v1/events',
      ...json(
        eventBody({
          title: `Supply event ${world.live.events.length}`,
          reports: [reportBody(), reportBody({ stance: 'denies' })],
          tags: ['supply'],
        }),
      ),
    });
  }
  const add = contract.operation('createEventReport');
  for (let i = 0; world.live.reports.length < SUPPLY * 2 && i < 8; i++) {
    const id = world.live.events[i % world.live.events.length]!;
    await w.send(add, { method: 'POST', path: `/v1/events/${id}/reports`, ...json(reportBody({ stance: 'unclear' })) });
  }
}

beforeAll(async () => {
  t = await startTestApp({ extend: captureErrors, ...FUZZ_APP });
  contract = new Contract((await t.http.get('/openapi.json').expect(200)).body as OpenApiDocument);
  h = new Harness('edits', contract, (t.app.server.address() as { port: number }).port, t.keys);
  world = emptyWorld();
  g = new Generators(contract, world);
  await seedWorld(h, contract, world, 16);
  w = new WriteFuzzer(h, contract, world, t.db);
  await w.start();
  g.owners = await w.learnOwners();
  // Actors that few events name, so renaming them stays cheap.
  for (let i = 0; i < 6; i++)
    await w.send(contract.operation('createActor'), { method: 'POST', path: '/v1/actors', ...json(actorBody()) });
  await supply();
});

afterAll(async () => {
  if (h) {
    console.log(`${h.summary()}; writes accepted ${w?.accepted ?? 0}, rejected ${w?.rejected ?? 0}`);
    h.close();
  }
  await t?.close();
});

describe('fuzzing the writes to existing records', () => {
  it.each(EDITS)(
    '%s',
    async (operationId) => {
      const operation = contract.operation(operationId);
      const position = await w.feedPosition();
      const body = validBodyOf(g, operation);
      const options = {
        ...(body ? { body } : {}),
        // Relations that exist, to be removed.
        ...(operationId === 'deleteEventRelation'
          ? {
              path: pick(
                () => world.relations.map((tail) => `/v1/events/${tail}`),
                g.requestOf(operation).map((r) => r.path),
              ),
            }
          : {}),
      };
      await fc.assert(
        fc.asyncProperty(g.requestOf(operation, options), async (draft) => {
          await supply();
          await w.write(operation, draft);
        }),
        { seed: SEED, numRuns: runsOf(operationId) },
      );
      await w.checkFeed(position.cursor, position.revisions);
      h.assertClean(operationId);
    },
    180_000,
  );

  it(`sent every planned request (${plannedRequests('edits')}), with no 5xx`, () => {
    if (process.env.FUZZ_VERBOSE)
      console.log(`${h.details()}\n  undeclared 4xx: ${JSON.stringify(Object.fromEntries(h.undeclared))}`);
    expect(h.requests).toBeGreaterThanOrEqual(plannedRequests('edits'));
    expect(h.byClass['5xx']).toBe(0);
  });
});

// Any `q` is a 200 or a 400, never a 500: web-search syntax turned into a tsquery by PostgreSQL
// has limits (33 dashes in a row made "tsquery stack too small"), so hostile text is normalised
// first. A property test over arbitrary strings, weighted towards the syntax's operators, on
// every endpoint that takes `q` as an event filter: lists, exports and stats.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBody, expectProblem } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.http
    .post('/v1/events')
    .send(eventBody({ title: 'Shelling of a bridge near the border' }))
    .expect(201);
});
afterAll(async () => {
  await t.close();
});

/** Every answer that takes the event filters' `q`. */
const ENDPOINTS = [
  (q: string) => t.anonymous.get('/v1/events').query({ q }),
  (q: string) => t.anonymous.get('/v1/events').query({ q, format: 'csv' }),
  (q: string) => t.anonymous.get('/v1/events').query({ q, format: 'ndjson', limit: 5 }),
  (q: string) => t.anonymous.get('/v1/events').query({ q, count: true, sort: 'relevance' }),
  (q: string) => t.anonymous.get('/v1/stats/events').query({ q, group_by: 'type' }),
  (q: string) => t.anonymous.get('/v1/stats/claims').query({ q, measure: 'killed' }),
];

/** The pieces of web-search syntax (and of tsquery syntax, which it must not let through), as hostile text is made of. */
const SYNTAX = [
  '-',
  '-',
  '-',
  '"',
  ' ',
  'or',
  'OR',
  '(',
  ')',
  '!',
  '&',
  '|',
  '<->',
  ':*',
  "'",
  '\\',
  '\t',
  '\u0000',
  'the',
  'bridge',
];
const hostileQ = fc.oneof(
  fc.string({ maxLength: 600 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.array(fc.constantFrom(...SYNTAX), { maxLength: 400 }).map((parts) => parts.join('')),
  fc
    .tuple(fc.integer({ min: 1, max: 600 }), fc.constantFrom('-', '- ', '-(', '-!', '-|', '-<', '-&', '"-', 'a ', 'x'))
    .map(([n, s]) => s.repeat(n)),
  fc.integer({ min: 1, max: 3000 }).map((n) => 'w'.repeat(n)),
);

describe('hostile q', () => {
  it('33 or more dashes answer 200 on lists, exports and stats (was "tsquery stack too small", a 500)', async () => {
    for (const q of [
      '-'.repeat(33),
      `${'-'.repeat(40)}bridge`,
      '- '.repeat(40),
      '-('.repeat(60),
      `${'-!'.repeat(40)}bridge`,
    ]) {
      for (const endpoint of ENDPOINTS) {
        const response = await endpoint(q);
        expect(response.status, `${response.request.url}: ${response.text.slice(0, 200)}`).toBe(200);
      }
    }
  });

  it('still excludes with one dash, and a run of dashes reads as one', async () => {
    const found = (await t.anonymous.get('/v1/events').query({ q: 'bridge' }).expect(200)).body.data;
    expect(found).toHaveLength(1);
    expect((await t.anonymous.get('/v1/events').query({ q: 'shelling -bridge' }).expect(200)).body.data).toHaveLength(
      0,
    );
    expect(
      (
        await t.anonymous
          .get('/v1/events')
          .query({ q: `shelling ${'-'.repeat(50)}bridge` })
          .expect(200)
      ).body.data,
    ).toHaveLength(0);
  });

  it('a q the limits refuse is a 400 naming q', async () => {
    const problem = await expectProblem(t.anonymous.get('/v1/events').query({ q: 'a'.repeat(501) }), 400);
    expect(problem.errors?.[0]?.path).toBe('/q');
  });

  it('any string gives 200 or 400 on every list, export and stats endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(hostileQ, fc.constantFrom(...ENDPOINTS.keys()), async (q, which) => {
        const response = await ENDPOINTS[which]!(q);
        expect(
          [200, 400],
          `q=${JSON.stringify(q.slice(0, 120))} (${q.length} chars): ${response.text.slice(0, 200)}`,
        ).toContain(response.status);
      }),
      { numRuns: 300, seed: 20_261_203 },
    );
  }, 120_000);
});

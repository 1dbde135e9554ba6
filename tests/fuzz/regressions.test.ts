// The smallest requests behind each kind of failure the fuzz suite found, kept as plain
// tests. Each holds the suite's rules, not a particular fix: no 5xx, every 4xx is
// problem+json, every 2xx matches its schema, and a rejected write changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBody, reportBody } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { Contract, type OpenApiDocument } from './contract.js';
import { emptyWorld } from './generators.js';
import { captureErrors, FUZZ_APP, Harness, type FuzzRequest } from './harness.js';
import { WriteFuzzer } from './writing.js';

let t: TestApp;
let contract: Contract;
let h: Harness;
let w: WriteFuzzer;
let eventId: string;

beforeAll(async () => {
  t = await startTestApp({ extend: captureErrors, ...FUZZ_APP });
  contract = new Contract((await t.http.get('/openapi.json').expect(200)).body as OpenApiDocument);
  h = new Harness('regressions', contract, (t.app.server.address() as { port: number }).port, t.keys);
  eventId = (await t.http.post('/v1/events').send(eventBody()).expect(201)).body.id;
  w = new WriteFuzzer(h, contract, emptyWorld(), t.db);
  await w.start();
});

afterAll(async () => {
  h?.close();
  await t?.close();
});

const get = (path: string, query?: string): FuzzRequest => ({
  method: 'GET',
  path,
  ...(query === undefined ? {} : { query }),
});
const post = (path: string, body: unknown): FuzzRequest => ({
  method: 'POST',
  path,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});

/** Sends reads through the contract's checks and fails with every broken response. */
async function reads(scope: string, requests: FuzzRequest[]) {
  for (const request of requests) await h.exchange(contract.match(request.method, request.path), request);
  h.assertClean(scope);
}

/** Sends writes through the contract's checks, each also checked to change nothing when rejected. */
async function writes(scope: string, requests: FuzzRequest[]) {
  for (const request of requests) await w.send(contract.match(request.method, request.path), request);
  h.assertClean(scope);
}

describe("the harness's rules for refusals of load", () => {
  const refusal = (status: number, retryAfter?: string) => ({
    status,
    headers: { 'content-type': 'application/problem+json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) },
    text: JSON.stringify({
      type: '/problems/rate-limited',
      title: 'Too many requests',
      status,
      detail: 'Busy.',
      instance: '/v1/x',
    }),
  });
  const request = get('/v1/stats/events');

  it('accepts 429 and 503 with Retry-After where the operation declares them', () => {
    for (const status of [429, 503]) h.check(contract.operation('eventStats'), request, refusal(status, '2'));
    expect(() => h.assertClean('declared refusals')).not.toThrow();
  });

  it('fails them without Retry-After, or where the operation does not declare them', () => {
    h.check(contract.operation('eventStats'), request, refusal(429));
    expect(() => h.assertClean('no Retry-After')).toThrow(/429 without Retry-After/);
    // Every /v1 operation declares both now; the liveness check, which never touches the database, declares neither.
    const undeclared = contract.operation('getLiveness');
    expect(undeclared.responses['429'] ?? undeclared.responses['503']).toBeUndefined();
    h.check(undeclared, get('/healthz'), refusal(429, '2'));
    expect(() => h.assertClean('undeclared 429')).toThrow(/429 is not declared by getLiveness/);
    h.check(undeclared, get('/healthz'), refusal(503, '2'));
    expect(() => h.assertClean('undeclared 503')).toThrow(/getLiveness -> 503: server error/);
  });
});

describe('failures found by the fuzz suite', () => {
  // PostgreSQL text cannot hold U+0000: "invalid byte sequence for encoding UTF8: 0x00" (22021).
  it('a NUL character in a query filter is a 4xx, not a 500', async () => {
    await reads('NUL in query strings', [
      get('/v1/events', 'q=%00'),
      get('/v1/events', 'admin1=a%00b'),
      get('/v1/events', 'tag=a%00b'),
      get('/v1/actors', 'q=a%00b'),
      get('/v1/documents', 'q=a%00b'),
      get('/v1/documents', 'publisher=a%00b'),
    ]);
  });

  it('a NUL character in a body string is refused without a 500 and without a write', async () => {
    await writes('NUL in bodies', [
      post('/v1/actors', { name: 'a\u0000b', kind: 'group' }),
      post('/v1/events', eventBody({ title: 'a\u0000b' })),
      post('/v1/documents', { url: 'https://news.example.org/nul', title: 'a\u0000b' }),
      post(`/v1/events/${eventId}/reports`, reportBody({ quote: 'a\u0000b' })),
    ]);
  });

  // external_ids is jsonb: "\u0000" is "unsupported Unicode escape sequence" (22P05) and an
  // unpaired surrogate such as "\ud800" is "invalid input syntax for type json" (22P02).
  it('NUL and unpaired surrogates in external_ids (jsonb) are refused without a 500 and without a write', async () => {
    await writes('jsonb escapes', [
      post('/v1/actors', { name: 'Jsonb nul', kind: 'group', external_ids: { wikidata: 'a\u0000b' } }),
      post('/v1/actors', { name: 'Jsonb surrogate', kind: 'group', external_ids: { wikidata: 'a\ud800b' } }),
      post(
        '/v1/events',
        eventBody({
          participants: [
            { actor: { name: 'Jsonb nested', kind: 'group', external_ids: { x: '\udfff' } }, role: 'other' },
          ],
        }),
      ),
    ]);
  });

  // z.iso.date() and z.iso.datetime() accept year 0000, which PostgreSQL's date and
  // timestamptz cannot hold: "date/time field value out of range" (22008).
  it('a date in year 0 is a 4xx, not a 500, in query strings', async () => {
    await reads('year 0 in query strings', [
      get('/v1/events', 'occurred_from=0000-01-01'),
      get('/v1/events', 'occurred_to=0000-12-31'),
      get('/v1/events', 'updated_since=0000-01-01T00:00:00Z'),
      get('/v1/reports', 'stated_from=0000-01-01'),
      get(`/v1/events/${eventId}`, 'as_of=0000-12-31T00:00:00Z'),
    ]);
  });

  it('a date in year 0 is refused in bodies without a 500 and without a write', async () => {
    await writes('year 0 in bodies', [
      post('/v1/events', eventBody({ occurred: { start: '0000-01-01', end: '2024-01-01', precision: 'range' } })),
      post('/v1/documents', { url: 'https://news.example.org/year-zero', published_at: '0000-01-01' }),
      post(`/v1/events/${eventId}/reports`, reportBody({ stated_at: '0001-01-01T00:00:00+14:00' })),
    ]);
  });

  // Subnormal coordinates make PostgreSQL's float8 arithmetic in the distance filter
  // underflow: "value out of range: underflow" (22003).
  it('a subnormal coordinate in near is a 4xx or a page, not a 500', async () => {
    await reads('float underflow', [
      get('/v1/events', 'near=-9e-323,0&radius_km=150'),
      get('/v1/events', 'near=0,5e-324&radius_km=150'),
      get('/v1/events', 'near=51.7,36.2&radius_km=1e-300'),
    ]);
  });

  // Fastify answers these itself, before the app's error handler, with its own JSON.
  it('a path Fastify cannot route answers problem+json', async () => {
    await reads('router errors', [
      get('/v1/events/%zz'), // FST_ERR_BAD_URL, 400 application/json
      get('/v1/events/%ED%A0%80'), // an unpaired surrogate, percent-encoded
      get(`/v1/events/${'a'.repeat(201)}`), // FST_ERR_MAX_PARAM_LENGTH, 414 application/json
    ]);
  });

  it('a request line too long for Node answers problem+json', async () => {
    // Node's parser refuses it (431) and Fastify's default clientError handler answers application/json,
    // with a body even to HEAD, which a client then cannot parse.
    const query = `q=${'z'.repeat(20_000)}`;
    await reads('431', [get('/v1/events', query), { ...get('/v1/events', query), method: 'HEAD' }]);
  });

  it('sent every request', () => {
    expect(h.requests).toBeGreaterThan(20);
  });
});

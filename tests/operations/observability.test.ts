// Request ids, one JSON log line per request, and the Prometheus metrics.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ApiError } from '../../src/http/errors.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { actorBody } from '../helpers/fixtures.js';

let t: TestApp;
let lines: Record<string, unknown>[] = [];
let http: ReturnType<typeof supertest>;
let close: () => Promise<void>;

beforeAll(async () => {
  t = await startTestApp();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = await buildApp({ db: t.db, logger: pino({ level: 'info' }, sink) });
  // A refusal the server chooses (as admission and load shedding answer) and a fault.
  app.get('/test/refused', () => {
    throw new ApiError('service-unavailable', 'No slot.', { headers: { 'retry-after': '1' } });
  });
  app.get('/test/fault', () => {
    throw new Error('a fault');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  http = supertest(app.server);
  close = () => app.close();
});
afterAll(async () => {
  await close();
  await t.close();
});

describe('request ids', () => {
  it('keeps a plausible incoming X-Request-Id, replaces a wrong one, and makes one when absent', async () => {
    expect(
      (await t.http.get('/healthz').set('x-request-id', 'trace-42.a:b@c').expect(200)).headers['x-request-id'],
    ).toBe('trace-42.a:b@c');
    const replaced = (await t.http.get('/healthz').set('x-request-id', 'has spaces <script>').expect(200)).headers[
      'x-request-id'
    ];
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    const made = (await t.http.get('/healthz').expect(200)).headers['x-request-id'];
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    expect((await t.anonymous.post('/v1/actors').send({})).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('logs', () => {
  it('one JSON line per request with its id, route, status, duration and principal', async () => {
    lines = [];
    await http.get('/v1/events?limit=1').set('x-request-id', 'log-line-1').expect(200);
    await http
      .post('/v1/actors')
      .set('x-request-id', 'log-line-2')
      .set('authorization', `Bearer ${t.keys.editor}`)
      .send(actorBody())
      .expect(201);
    await http.get('/no/such/path').set('x-request-id', 'log-line-3').expect(404);
    const byId = (id: string) => lines.filter((line) => line.reqId === id);
    for (const id of ['log-line-1', 'log-line-2', 'log-line-3']) expect(byId(id)).toHaveLength(1);
    expect(byId('log-line-1')[0]).toMatchObject({
      msg: 'request',
      method: 'GET',
      route: '/v1/events',
      status: 200,
      principal: null,
    });
    expect(byId('log-line-2')[0]).toMatchObject({ route: '/v1/actors', status: 201, principal: 'test-editor' });
    expect(typeof byId('log-line-2')[0]!.ms).toBe('number');
    expect(byId('log-line-3')[0]).toMatchObject({ status: 404, route: null });
  });

  it('a refusal with Retry-After is a warning, a fault an error (pino levels 40 and 50)', async () => {
    lines = [];
    await http.get('/test/refused').set('x-request-id', 'log-refused').expect(503);
    await http.get('/test/fault').set('x-request-id', 'log-fault').expect(500);
    const requestLine = (id: string) => lines.filter((line) => line.reqId === id && line.msg === 'request');
    expect(requestLine('log-refused')).toEqual([expect.objectContaining({ status: 503, level: 40 })]);
    expect(requestLine('log-fault')).toEqual([expect.objectContaining({ status: 500, level: 50 })]);
  });
});

describe('GET /metrics', () => {
  it('counts requests and their latency by route pattern and status, and shows the pool and the build', async () => {
    const event = (await http.get('/v1/events?limit=1').expect(200)).body.data[0] as { id: string } | undefined;
    await http.get(`/v1/events/0193f1a0-0000-7000-8000-00000000dead`).expect(404);
    const response = await http.get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.text;
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/v1\/events",status="200"\} [1-9]\d*$/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/v1\/events\/:id",status="404"\} 1$/m);
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/events",status="200"\} \d+$/m,
    );
    expect(text).not.toContain('00000000dead');
    if (event) expect(text).not.toContain(event.id);
    expect(text).toMatch(/^db_pool_connections\{pool="primary"\} \d+$/m);
    expect(text).toMatch(/^db_pool_waiting_requests\{pool="primary"\} 0$/m);
    expect(text).toMatch(/^exports_streaming 0$/m);
    expect(text).toMatch(/^exports_max [1-9]\d*$/m);
    // The Node version running the tests: CI runs them on Node 20 and on 22.
    expect(text).toContain(`node="${process.version}"} 1`);
    expect(text).toMatch(/^build_info\{version="[^"]+",node="v\d+\.[^"]*"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });
});

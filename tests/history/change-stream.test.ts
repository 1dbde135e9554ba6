// GET /v1/changes/stream: the change feed pushed as Server-Sent Events, across instances
// (two apps on one database, as behind a load balancer), resumed with Last-Event-ID exactly
// once and in order, read by the `eventsource` client, by raw HTTP and by headless Chromium.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { connectDatabase, type Database } from '../../src/db/client.js';
import { type Change } from '../helpers/feed.js';
import { actorBody, documentBody, expectProblem } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CHROMIUM = '/usr/bin/chromium';
const HEARTBEAT_MS = 200;

/**
 * A dashboard's page, served from an origin of its own (the API allows it by CORS): it follows the
 * stream named by its ?stream= with the browser's own EventSource and keeps what arrives.
 */
const DASHBOARD = `<!doctype html><title>dashboard</title><script>
  const state = (window.streamState = { open: false, changes: [] });
  const source = new EventSource(new URL(location.href).searchParams.get('stream'));
  source.onopen = () => (state.open = true);
  for (const name of ['event', 'report', 'actor', 'document'])
    source.addEventListener(name, (message) => state.changes.push({ data: message.data, id: message.lastEventId, at: Date.now() }));
</script>`;
/** What the dashboard's page keeps, as the test reads it in the browser. */
interface Dashboard {
  streamState: { open: boolean; changes: { data: string; id: string; at: number }[] };
}
const pageServer = http.createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/html' }).end(DASHBOARD);
});

let t: TestApp;
let secondDb: Database;
let second: FastifyInstance;
/** Writes through the second instance, with an editor key. */
let other: ReturnType<typeof supertest.agent>;
let base: string;
let pageOrigin: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  // A request timeout far shorter than the streams the tests hold open: it must not cut them.
  t = await startTestApp({
    deps: {
      changeStream: { heartbeatMs: HEARTBEAT_MS, retryMs: 100 },
      requestTimeoutMs: 300,
      corsOrigins: [pageOrigin],
    },
  });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  secondDb = connectDatabase(t.databaseUrl, 5);
  second = await buildApp({ db: secondDb });
  await second.listen({ port: 0, host: '127.0.0.1' });
  other = supertest.agent(second.server).set('authorization', `Bearer ${t.keys.editor}`);
  // A first write through each instance, so the timed ones do not include their cold start.
  await other.post('/v1/actors').send(actorBody()).expect(201);
  await t.http.post('/v1/actors').send(actorBody()).expect(201);
});
afterAll(async () => {
  await second.close();
  await secondDb.close();
  await t.close();
  await new Promise((resolve) => pageServer.close(resolve));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, polling; fails naming `what` after `ms`. */
async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The feed's latest seq, as GET /v1/changes gives it. */
async function latest(): Promise<string> {
  let cursor = '0';
  for (;;) {
    const page = await t.http.get('/v1/changes').query({ since: cursor, limit: 1000 }).expect(200);
    if (page.body.data.length === 0) return cursor;
    cursor = page.body.next_cursor;
  }
}

/** The feed's items after `since`, from GET /v1/changes. */
async function feedAfter(since: string): Promise<Change[]> {
  const page = await t.http.get('/v1/changes').query({ since, limit: 1000 }).expect(200);
  return page.body.data;
}

interface RawEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
}

/** A stream read over plain HTTP: its status, headers, the events and comments parsed as they arrive. */
interface RawStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  events: RawEvent[];
  comments: string[];
  ended: Promise<void>;
  close(): void;
}

function openRaw(path: string, headers: Record<string, string> = {}, origin = base): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      `${origin}${path}`,
      { headers: { accept: 'text/event-stream', ...headers }, agent: false },
      (response) => {
        const stream: RawStream = {
          status: response.statusCode ?? 0,
          headers: response.headers,
          events: [],
          comments: [],
          ended: new Promise((done) => response.once('close', done)),
          close: () => request.destroy(),
        };
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event: RawEvent = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
              else {
                const colon = line.indexOf(':');
                (event as Record<string, string>)[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
              }
            }
            if (event.id !== undefined || event.data !== undefined || event.retry !== undefined)
              stream.events.push(event);
          }
        });
        resolve(stream);
      },
    );
    request.on('error', reject);
  });
}

const changesOf = (stream: RawStream): Change[] =>
  stream.events.filter((e) => e.data).map((e) => JSON.parse(e.data!) as Change);

/** An EventSource on the first instance, collecting every change by its resource event name. */
function eventSource(url: string, lastEventId?: string) {
  const received: { change: Change; id: string; type: string; at: number }[] = [];
  const source = new EventSource(url, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: { ...init?.headers, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      }),
  });
  for (const type of ['event', 'report', 'actor', 'document'])
    source.addEventListener(type, (message) => {
      received.push({ change: JSON.parse(message.data) as Change, id: message.lastEventId, type, at: Date.now() });
    });
  const opened = new Promise<void>((resolve, reject) => {
    source.onopen = () => resolve();
    source.onerror = (error) => reject(new Error(`EventSource failed: ${error.message ?? error.code}`));
  });
  return { source, received, opened };
}

describe('GET /v1/changes/stream', () => {
  it('an EventSource on one instance receives a change made through the other within a second', async () => {
    const { source, received, opened } = eventSource(`${base}/v1/changes/stream`);
    try {
      await opened;
      const sent = Date.now();
      const actor = (await other.post('/v1/actors').send(actorBody()).expect(201)).body;
      await until(
        'the actor created on the other instance',
        () => received.some((r) => r.change.id === actor.id),
        2_000,
      );
      const got = received.find((r) => r.change.id === actor.id)!;
      console.info(`EventSource (eventsource package): change received ${got.at - sent} ms after the POST was sent`);
      expect(got.at - sent).toBeLessThan(1_000);
      expect(got.type).toBe('actor');
      // The same object as the feed's item, with the seq as the event's id.
      const [item] = (await feedAfter(String(got.change.seq - 1))).filter((c) => c.id === actor.id);
      expect(got.change).toEqual(item);
      expect(got.id).toBe(String(item!.seq));
      expect(got.change).toMatchObject({ resource: 'actor', action: 'created', version: 1 });
    } finally {
      source.close();
    }
  });

  it('a client that was away for 100 writes resumes with Last-Event-ID and receives exactly those 100, in order', async () => {
    const first = eventSource(`${base}/v1/changes/stream`);
    await first.opened;
    const before = (await t.http.post('/v1/actors').send(actorBody()).expect(201)).body;
    await until('the write before the disconnect', () => first.received.some((r) => r.change.id === before.id));
    const lastId = first.received.at(-1)!.id;
    first.source.close();

    // 100 actors created 10 at a time over both instances: 100 changes, committed concurrently.
    const created: string[] = [];
    for (let round = 0; round < 10; round++) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          ((round + i) % 2 ? other : t.http).post('/v1/actors').send(actorBody()).expect(201),
        ),
      );
      created.push(...batch.map((response) => response.body.id as string));
    }
    const expected = await feedAfter(lastId);
    expect(expected).toHaveLength(100);
    expect(new Set(expected.map((c) => c.id))).toEqual(new Set(created));

    const resumed = eventSource(`${base}/v1/changes/stream`, lastId);
    try {
      await resumed.opened;
      await until('the 100 changes', () => resumed.received.length >= 100);
      // Nothing more arrives: no duplicate after the replay.
      await sleep(300);
      expect(resumed.received.map((r) => r.change)).toEqual(expected);
      expect(resumed.received.map((r) => r.id)).toEqual(expected.map((c) => String(c.seq)));
    } finally {
      resumed.source.close();
    }
  });

  it('resuming while writes go on hands over from the replay to live changes with no gap and no duplicate', async () => {
    const since = await latest();
    const write = (i: number) => (i % 2 ? other : t.http).post('/v1/documents').send(documentBody()).expect(201);
    for (let i = 0; i < 40; i++) await write(i);
    // The stream opens (and replays the 40) while 40 more are written through both instances.
    const writing = (async () => {
      for (let i = 0; i < 4; i++) await Promise.all(Array.from({ length: 10 }, (_, j) => write(i + j)));
    })();
    const stream = await openRaw(`/v1/changes/stream?since=${since}`);
    try {
      await writing;
      const expected = await feedAfter(since);
      expect(expected).toHaveLength(80);
      await until('the 80 changes', () => changesOf(stream).length >= 80);
      await sleep(300);
      expect(changesOf(stream)).toEqual(expected);
    } finally {
      stream.close();
    }
  });

  it('headless Chromium: a page with the browser EventSource receives a change made through the other instance within a second', async (context) => {
    if (!existsSync(CHROMIUM)) {
      // .ci/run installs Debian's chromium before the tests; a machine without it cannot run this one.
      if (process.env.CI) throw new Error(`no Chromium at ${CHROMIUM}`);
      context.skip();
    }
    const { default: puppeteer } = await import('puppeteer-core');
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${pageOrigin}/?stream=${encodeURIComponent(`${base}/v1/changes/stream`)}`);
      await page.waitForFunction(() => (globalThis as unknown as Dashboard).streamState.open, { timeout: 5_000 });
      const sent = Date.now();
      const actor = (await other.post('/v1/actors').send(actorBody()).expect(201)).body;
      const handle = await page.waitForFunction(
        (id) => (globalThis as unknown as Dashboard).streamState.changes.find((c) => JSON.parse(c.data).id === id),
        { timeout: 2_000 },
        actor.id,
      );
      const got = (await handle.jsonValue()) as Dashboard['streamState']['changes'][number];
      console.info(`Chromium EventSource: change received ${got.at - sent} ms after the POST was sent`);
      expect(got.at - sent).toBeLessThan(1_000);
      expect(JSON.parse(got.data)).toMatchObject({
        resource: 'actor',
        id: actor.id,
        action: 'created',
        seq: Number(got.id),
      });
    } finally {
      await browser.close();
    }
  });

  it('resource= sends only changes of those resources', async () => {
    const since = await latest();
    const stream = await openRaw(`/v1/changes/stream?since=${since}&resource=document`);
    try {
      const actor = (await t.http.post('/v1/actors').send(actorBody()).expect(201)).body;
      const document = (await t.http.post('/v1/documents').send(documentBody()).expect(201)).body;
      await until('the document', () => changesOf(stream).some((c) => c.id === document.id));
      const changes = changesOf(stream);
      expect(changes.map((c) => c.resource)).toEqual(['document']);
      expect(changes.some((c) => c.id === actor.id)).toBe(false);
      expect(stream.events.filter((e) => e.data).map((e) => e.event)).toEqual(['document']);
    } finally {
      stream.close();
    }
  });

  it('sends the retry hint, and heartbeats while nothing changes, beyond the request timeout', async () => {
    // HEAD answers the stream's headers and opens none.
    const head = await t.http.head('/v1/changes/stream').expect(200);
    expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
    const stream = await openRaw('/v1/changes/stream');
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(stream.headers['cache-control']).toBe('no-store');
      // Past the app's 300 ms request timeout, the stream is open and still beating.
      await sleep(1_000);
      expect(stream.events[0]?.retry).toBe('100');
      expect(stream.comments.filter((c) => c === 'heartbeat').length).toBeGreaterThanOrEqual(3);
      const actor = (await other.post('/v1/actors').send(actorBody()).expect(201)).body;
      await until('a change after the request timeout', () => changesOf(stream).some((c) => c.id === actor.id), 2_000);
    } finally {
      stream.close();
    }
  });

  it('bad and unknown cursors, unknown resources: 400 problems, no stream', async () => {
    const top = await latest();
    for (const headers of [
      { 'last-event-id': 'abc' },
      { 'last-event-id': '-1' },
      { 'last-event-id': String(BigInt(top) + 1000n) },
    ]) {
      const problem = await expectProblem(t.http.get('/v1/changes/stream').set(headers), 400);
      expect(problem.errors?.[0]).toMatchObject({ in: 'header', path: '/last-event-id' });
    }
    for (const query of [
      'since=1.5',
      'since=x',
      `since=${BigInt(top) + 1n}`,
      'resource=events',
      'resource=event,nope',
      'limit=3',
    ]) {
      const problem = await expectProblem(t.http.get(`/v1/changes/stream?${query}`), 400);
      expect(problem.errors?.length).toBeGreaterThan(0);
    }
    // The header wins over since= (EventSource reconnects to the same URL with the header): a valid header and a bad since is fine.
    const stream = await openRaw(`/v1/changes/stream?since=0`, { 'last-event-id': top });
    try {
      expect(stream.status).toBe(200);
      await sleep(200);
      expect(changesOf(stream)).toEqual([]);
    } finally {
      stream.close();
    }
  });

  it('a lost LISTEN connection reconnects and catches up what was committed meanwhile', async () => {
    const stream = await openRaw('/v1/changes/stream');
    try {
      const admin = new pg.Client({ connectionString: t.databaseUrl });
      await admin.connect();
      try {
        const killed = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
        );
        expect(killed.rowCount).toBeGreaterThanOrEqual(1);
      } finally {
        await admin.end();
      }
      const actor = (await other.post('/v1/actors').send(actorBody()).expect(201)).body;
      await until(
        'the change committed while the listener was down',
        () => changesOf(stream).some((c) => c.id === actor.id),
        5_000,
      );
    } finally {
      stream.close();
    }
  });

  it('refuses streams beyond the instance bound (503, Retry-After) and beyond a client share (429)', async () => {
    const bounded = await startTestApp({ deps: { changeStream: { maxSubscribers: 2, perClient: 1, retryMs: 2_000 } } });
    const origin = `http://127.0.0.1:${(bounded.app.server.address() as AddressInfo).port}`;
    const auth = (role: 'reader' | 'editor' | 'admin') => ({ authorization: `Bearer ${bounded.keys[role]}` });
    const open: RawStream[] = [];
    try {
      open.push(await openRaw('/v1/changes/stream', auth('reader'), origin));
      expect(open[0]!.status).toBe(200);
      const share = await expectProblem(bounded.as.reader.get('/v1/changes/stream'), 429);
      expect(share.detail).toMatch(/change streams/);
      open.push(await openRaw('/v1/changes/stream', auth('editor'), origin));
      expect(open[1]!.status).toBe(200);
      const response = bounded.as.admin.get('/v1/changes/stream');
      const full = await expectProblem(response, 503);
      expect(full.detail).toMatch(/change streams/);
      expect((await response).headers['retry-after']).toBe('2');
      // A stream that ends gives its place back.
      open[1]!.close();
      await open[1]!.ended;
      await until('the freed place', () => true);
      await sleep(100);
      open.push(await openRaw('/v1/changes/stream', auth('admin'), origin));
      expect(open[2]!.status).toBe(200);
    } finally {
      for (const stream of open) stream.close();
      await bounded.close();
    }
  });

  it('an open stream goes on while the instance sheds new requests under pressure', async () => {
    // A heap limit of one byte: once @fastify/under-pressure takes its first sample (after a
    // second), every new /v1 request gets 503. A stream opened before that must keep delivering.
    const db = connectDatabase(t.databaseUrl, 2);
    let app: FastifyInstance | undefined;
    let stream: RawStream | undefined;
    try {
      for (let attempt = 0; attempt < 3 && stream?.status !== 200; attempt++) {
        stream?.close();
        await app?.close();
        app = await buildApp({ db, pressure: { maxEventLoopDelayMs: 0, maxHeapBytes: 1, maxRssBytes: 0 } });
        await app.listen({ port: 0, host: '127.0.0.1' });
        stream = await openRaw(
          '/v1/changes/stream',
          {},
          `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
        );
      }
      expect(stream!.status).toBe(200);
      const shed = supertest(app!.server);
      const deadline = Date.now() + 5_000;
      while ((await shed.get('/v1/changes')).status !== 503) {
        if (Date.now() > deadline) throw new Error('the instance never came under pressure');
        await sleep(100);
      }
      await expectProblem(shed.get('/v1/changes/stream'), 503);
      const actor = (await other.post('/v1/actors').send(actorBody()).expect(201)).body;
      await until('a change while under pressure', () => changesOf(stream!).some((c) => c.id === actor.id), 2_000);
    } finally {
      stream?.close();
      await app?.close();
      await db.close();
    }
  });

  it('closing the server ends open streams at once', async () => {
    const db = connectDatabase(t.databaseUrl, 2);
    const app = await buildApp({ db });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const stream = await openRaw(
      '/v1/changes/stream',
      {},
      `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    );
    try {
      expect(stream.status).toBe(200);
      await sleep(100);
      const started = Date.now();
      await app.close();
      await stream.ended;
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      stream.close();
      await db.close();
    }
  });
});

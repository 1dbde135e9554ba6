// Imports under load and from hostile or slow clients: the body is spooled before any
// transaction opens (stalled uploads hold no connection), batches are bounded by bytes as well
// as lines, a line has a size limit, validation never holds the event loop for long, and a large
// import continues as a job (202 + Location) whose progress any instance can read.
import { request as httpRequest, type ClientRequest } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { connectDatabase } from '../../src/db/client.js';
import { importEvents } from '../../src/modules/imports/import.js';
import { ndjsonRecords } from '../../src/modules/imports/records.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, expectProblem, ndjson, postEvent, unique } from '../helpers/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const NDJSON = 'application/x-ndjson';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Upload {
  req: ClientRequest;
  /** The answer: status, headers and body (parsed when JSON). */
  answer: Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }>;
}

/** A chunked POST /v1/imports whose body the test writes piece by piece, as a slow or stalled client does. */
function openUpload(app: FastifyInstance, query: string, key: string): Upload {
  const { port } = app.server.address() as { port: number };
  let req!: ClientRequest;
  const answer = new Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }>(
    (resolve, reject) => {
      req = httpRequest(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: `/v1/imports${query}`,
          headers: { 'content-type': NDJSON, authorization: `Bearer ${key}` },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    },
  );
  return { req, answer };
}

/** Connections of the test database that sit inside a transaction doing nothing. */
async function idleInTransaction(): Promise<number> {
  const result = await t.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
  );
  return result.rows[0]!.n;
}

/** The report of an import answer: the body of a 200, or the job of a 202 followed until it ends. */
async function finalReport(answer: {
  status: number;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
}) {
  expect([200, 202]).toContain(answer.status);
  let body = answer.body;
  for (let i = 0; i < 600 && answer.status === 202 && body.status === 'running'; i++) {
    await sleep(100);
    body = (await t.http.get(answer.headers.location as string).expect(200)).body;
  }
  if (answer.status === 202) expect(body.status).toBe('done');
  return body;
}

async function countTagged(tag: string): Promise<number> {
  return (await t.http.get(`/v1/events?tag=${tag}&count=true&limit=1`).expect(200)).body.total;
}

describe('stalled uploads', () => {
  it('more trickling atomic uploads than the pool has connections: reads and /readyz still answer 200', async () => {
    const id = await postEvent(t.http, 'before the uploads', eventBody());
    const tag = `trickle-${unique()}`;
    // The test app's pool has 5 connections.
    const uploads = Array.from({ length: 8 }, () => openUpload(t.app, '?atomic=true', t.keys.editor));
    for (const upload of uploads) upload.req.write(`${JSON.stringify(eventBody({ tags: [tag] }))}\n`);
    await sleep(500);
    await t.http.get(`/v1/events/${id}`).expect(200);
    await t.anonymous.get('/readyz').expect(200);
    await t.http
      .post('/v1/events')
      .send(eventBody({ tags: [tag] }))
      .expect(201);
    expect(await idleInTransaction()).toBe(0);
    for (const upload of uploads) upload.req.end(`${JSON.stringify(eventBody({ tags: [tag] }))}\n`);
    const answers = await Promise.all(uploads.map((upload) => upload.answer));
    for (const answer of answers) expect([200, 202]).toContain(answer.status);
    for (let i = 0; i < 100 && (await countTagged(tag)) < 17; i++) await sleep(200);
    expect(await countTagged(tag)).toBe(17);
  }, 60_000);
});

describe('request and idle timeouts', () => {
  let quick: FastifyInstance;
  beforeAll(async () => {
    quick = await buildApp({ db: t.db, requestTimeoutMs: 1_500, imports: { idleTimeoutMs: 1_000, waitMs: 60_000 } });
    await quick.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await quick.close();
  });

  it('a slow but steady upload is not cut at the request timeout', async () => {
    const tag = `steady-${unique()}`;
    const upload = openUpload(quick, '', t.keys.editor);
    // 12 lines, 300 ms apart: 3.6 s in all, over twice the request timeout, never idle for the idle timeout.
    for (let i = 0; i < 12; i++) {
      upload.req.write(`${JSON.stringify(eventBody({ title: `steady ${i}`, tags: [tag] }))}\n`);
      await sleep(300);
    }
    upload.req.end();
    const answer = await upload.answer;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: 12, rejected: 0 });
    expect(await countTagged(tag)).toBe(12);
  }, 30_000);

  it('a stalled upload is cut after the idle timeout (408), wrote nothing and holds no connection', async () => {
    const tag = `stalled-${unique()}`;
    const upload = openUpload(quick, '?atomic=true', t.keys.editor);
    upload.req.write(`${JSON.stringify(eventBody({ tags: [tag] }))}\n`);
    const answer = await upload.answer;
    expect(answer.status).toBe(408);
    expect(String(answer.body.detail)).toMatch(/no bytes/i);
    upload.req.destroy();
    expect(await countTagged(tag)).toBe(0);
    expect(await idleInTransaction()).toBe(0);
  }, 20_000);

  it('another route still cuts a body that takes longer than the request timeout (408)', async () => {
    const { port } = quick.server.address() as { port: number };
    const req = httpRequest({
      port,
      host: '127.0.0.1',
      method: 'POST',
      path: '/v1/events',
      headers: {
        'content-type': 'application/json',
        'content-length': '1000',
        authorization: `Bearer ${t.keys.editor}`,
      },
    });
    const status = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    req.write('{"title": "never finished"');
    expect(await status).toBe(408);
    req.destroy();
  }, 20_000);
});

describe('line and batch sizes', () => {
  it('refuses a line over the line limit, naming it, and imports the others', async () => {
    const small = await buildApp({ db: t.db, imports: { maxLineBytes: 4096, waitMs: 60_000 } });
    await small.listen({ port: 0, host: '127.0.0.1' });
    try {
      const tag = `long-${unique()}`;
      const body = ndjson([
        eventBody({ tags: [tag] }),
        eventBody({ tags: [tag], description: 'long '.repeat(2000) }),
        eventBody({ tags: [tag] }),
      ]);
      const answer = await supertest(small.server)
        .post('/v1/imports')
        .set('authorization', `Bearer ${t.keys.editor}`)
        .set('content-type', NDJSON)
        .send(body)
        .expect(200);
      expect(answer.body).toMatchObject({ accepted: 2, rejected: 1 });
      expect(answer.body.errors).toEqual([
        {
          line: 2,
          errors: [{ path: '', message: expect.stringMatching(/^line 2 is \d+ bytes long, over the limit of 4096/) }],
        },
      ]);
      expect(await countTagged(tag)).toBe(2);
    } finally {
      await small.close();
    }
  });

  it('a batch ends at its byte bound as well as at its line count', async () => {
    const tag = `bytes-${unique()}`;
    const description = 'Sixty bytes of a description that makes every line larger. '.repeat(30);
    const lines = Array.from({ length: 40 }, (_, i) => eventBody({ title: `bytes ${i}`, description, tags: [tag] }));
    const body = ndjson(lines);
    const batches: number[] = [];
    const report = await importEvents(t.db, 'test-editor', ndjsonRecords(Readable.from([Buffer.from(body)])), {
      atomic: false,
      batchSize: 1000,
      batchBytes: 8 * 1024,
      onBatch: (size) => batches.push(size),
    });
    expect(report).toMatchObject({ accepted: 40, rejected: 0 });
    // Each line is about 2 KB: at most 4 lines fit under 8 KB.
    expect(batches.length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...batches)).toBeLessThanOrEqual(4);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(40);
    expect(await countTagged(tag)).toBe(40);
  });

  it('a batch that outlasts its transaction timeout is reported as a timeout, not as the database being down', async () => {
    const slow = await buildApp({ db: t.db, imports: { transactionTimeoutMs: 1, waitMs: 60_000 } });
    await slow.listen({ port: 0, host: '127.0.0.1' });
    try {
      const tag = `timeout-${unique()}`;
      const answer = await supertest(slow.server)
        .post('/v1/imports')
        .set('authorization', `Bearer ${t.keys.editor}`)
        .set('content-type', NDJSON)
        .send(ndjson(Array.from({ length: 50 }, () => eventBody({ tags: [tag] }))));
      expect(answer.status).not.toBe(200);
      expect(String(answer.body.detail)).toMatch(/transaction timeout/);
      expect(String(answer.body.detail)).not.toMatch(/database is unavailable/);
    } finally {
      await slow.close();
    }
  });
});

/** The longest gap (ms) between ticks of a 5 ms timer while it ran: how long the event loop was held at a stretch. */
function loopWatch(): { stop(): Promise<number> } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  return {
    async stop() {
      // One more tick, so a stretch that lasted until the end is measured too.
      await sleep(20);
      clearInterval(timer);
      return longest;
    },
  };
}

describe('the event loop', () => {
  it('is never held for long while a large invalid input is validated, however it arrives', async () => {
    // 400,000 lines of `[]` (JSON, but not an event), arriving as one chunk: a reader that took
    // the whole chunk in one go would hold the loop for seconds.
    const body = Buffer.from('[]\n'.repeat(400_000));
    const loop = loopWatch();
    const report = await importEvents(t.db, 'test-editor', ndjsonRecords(Readable.from([body])), { atomic: false });
    const longest = await loop.stop();
    expect(report).toMatchObject({ accepted: 0, rejected: 400_000 });
    expect(report.errors).toHaveLength(1000);
    expect(report.errors[0]).toMatchObject({ line: 1 });
    // ~50 ms is the aim; a generous bound for a loaded machine, still an order of magnitude under the old code's.
    expect(longest).toBeGreaterThan(0);
    expect(longest).toBeLessThan(500);
  }, 120_000);

  it('answers a large invalid body over HTTP with every line counted', async () => {
    const report = await finalReport(
      await t.http.post('/v1/imports').set('content-type', NDJSON).send('[]\n'.repeat(200_000)),
    );
    expect(report).toMatchObject({ accepted: 0, rejected: 200_000 });
    expect(report.errors).toHaveLength(1000);
  }, 120_000);
});

describe('import jobs', () => {
  it('Prefer: respond-async answers 202 with a Location whose job shows progress and the final report', async () => {
    const tag = `job-${unique()}`;
    const body = ndjson([...Array.from({ length: 30 }, () => eventBody({ tags: [tag] })), '[]']);
    const answer = await t.http
      .post('/v1/imports')
      .set('content-type', NDJSON)
      .set('prefer', 'respond-async')
      .send(body)
      .expect(202);
    const location = answer.headers.location as string;
    expect(location).toMatch(/^\/v1\/imports\/[0-9a-f-]{36}$/);
    expect(answer.body).toMatchObject({ status: 'running', atomic: false });
    let job = answer.body;
    for (let i = 0; i < 100 && job.status === 'running'; i++) {
      await sleep(100);
      job = (await t.http.get(location).expect(200)).body;
    }
    expect(job).toMatchObject({ status: 'done', lines_read: 31, accepted: 30, rejected: 1, skipped: 0 });
    expect(job.errors).toEqual([{ line: 31, errors: [expect.objectContaining({ path: '' })] }]);
    expect(await countTagged(tag)).toBe(30);

    // Another instance on the same database reads the same job.
    const other = connectDatabase(t.databaseUrl, 2);
    const second = await buildApp({ db: other });
    await second.listen({ port: 0, host: '127.0.0.1' });
    try {
      const seen = (
        await supertest(second.server).get(location).set('authorization', `Bearer ${t.keys.editor}`).expect(200)
      ).body;
      expect(seen).toEqual(job);
    } finally {
      await second.close();
      await other.close();
    }
    await expectProblem(t.as.reader.get(location), 403);
    await expectProblem(t.anonymous.get(location), 401);
    await expectProblem(t.http.get('/v1/imports/0193f1a0-0000-7000-8000-000000000001'), 404);
  }, 30_000);

  it('an import still running after the wait answers 202', async () => {
    const impatient = await buildApp({ db: t.db, imports: { waitMs: 0 } });
    await impatient.listen({ port: 0, host: '127.0.0.1' });
    try {
      const tag = `wait-${unique()}`;
      const answer = await supertest(impatient.server)
        .post('/v1/imports')
        .set('authorization', `Bearer ${t.keys.editor}`)
        .set('content-type', NDJSON)
        .send(ndjson(Array.from({ length: 500 }, () => eventBody({ tags: [tag] }))))
        .expect(202);
      let job = answer.body;
      for (let i = 0; i < 200 && job.status === 'running'; i++) {
        await sleep(100);
        job = (await t.http.get(answer.headers.location as string).expect(200)).body;
      }
      expect(job).toMatchObject({ status: 'done', lines_read: 500, accepted: 500 });
      expect(await countTagged(tag)).toBe(500);
    } finally {
      await impatient.close();
    }
  }, 60_000);

  it('a server that stops marks its running import failed; the batches written before stay', async () => {
    const stopping = await buildApp({ db: t.db });
    await stopping.listen({ port: 0, host: '127.0.0.1' });
    const tag = `stop-${unique()}`;
    const answer = await supertest(stopping.server)
      .post('/v1/imports')
      .set('authorization', `Bearer ${t.keys.editor}`)
      .set('content-type', NDJSON)
      .set('prefer', 'respond-async')
      .send(ndjson(Array.from({ length: 5000 }, (_, i) => eventBody({ title: `stop ${i}`, tags: [tag] }))))
      .expect(202);
    await stopping.close();
    const job = (await t.http.get(answer.headers.location as string).expect(200)).body;
    expect(job).toMatchObject({ status: 'failed' });
    expect(String(job.detail)).toMatch(/stopped/);
    expect(job.finished_at).not.toBeNull();
    // What it reports as accepted is what was committed.
    expect(await countTagged(tag)).toBe(job.accepted);
  }, 60_000);

  it('a job whose instance stopped (no heartbeat) reads as failed', async () => {
    const { rows } = await t.db.pool.query<{ id: string }>(
      `INSERT INTO import_jobs (id, author, atomic, status, heartbeat_at, created_at, updated_at)
       VALUES (gen_random_uuid(), 'test-editor', false, 'running', now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour')
       RETURNING id`,
    );
    const job = (await t.http.get(`/v1/imports/${rows[0]!.id}`).expect(200)).body;
    expect(job).toMatchObject({ status: 'failed' });
    expect(String(job.detail)).toMatch(/stopped/);
  });
});

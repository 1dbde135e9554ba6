// POST /v1/imports: NDJSON in, a report of every line out. Good lines become events (with
// their revisions and change-feed entries), bad ones are reported by line and JSON pointer,
// atomic imports are all or nothing, and a second import of the same events changes nothing.
import { request as httpRequest } from 'node:http';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, expectProblem, ndjson, reportBody, unique } from '../helpers/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const NDJSON = 'application/x-ndjson';
const post = (body: string, query = '', agent: supertest.Agent | ReturnType<typeof supertest> = t.http) =>
  agent.post(`/v1/imports${query}`).set('content-type', NDJSON).send(body);

/** The seq of the last change: nothing written means it stays. */
async function lastSeq(): Promise<number> {
  const result = await t.db.pool.query<{ seq: string | null }>('SELECT max(id)::text AS seq FROM revisions');
  return Number(result.rows[0]?.seq ?? 0);
}

/** Every change after `since`, from the feed itself. */
async function changesSince(
  since: number,
): Promise<{ seq: number; resource: string; id: string; action: string; version: number }[]> {
  const changes = [];
  let cursor = String(since);
  for (;;) {
    const page = (await t.http.get(`/v1/changes?since=${cursor}&limit=1000`).expect(200)).body;
    if (page.data.length === 0) return changes;
    changes.push(...page.data);
    cursor = page.next_cursor;
  }
}

async function eventsTagged(
  tag: string,
): Promise<{ id: string; title: string; external_ids: Record<string, string>; version: number }[]> {
  return (await t.http.get(`/v1/events?tag=${tag}&limit=1000&sort=occurred`).expect(200)).body.data;
}

describe('lines', () => {
  it('imports the good lines and reports each bad one by line number (from 1) and JSON pointer', async () => {
    const tag = `imp-${unique()}`;
    const since = await lastSeq();
    const body = ndjson([
      eventBody({ title: 'first', tags: [tag], occurred: { start: '2024-01-01' } }),
      '',
      '{"type": "capture",',
      eventBody({ title: 'backwards', tags: [tag], occurred: { start: '2024-01-05', end: '2024-01-04' } }),
      eventBody({ title: 'unknown type', type: 'skirmish', tags: [tag] }),
      eventBody({
        title: 'unknown actor',
        tags: [tag],
        participants: [{ actor: { id: '0193f1a0-0000-7000-8000-000000000001' }, role: 'victim' }],
      }),
      '   ',
      eventBody({
        title: 'second',
        tags: [tag],
        occurred: { start: '2024-01-02' },
        reports: [reportBody(), reportBody({ stance: 'denies' })],
      }),
      '"just a string"',
      eventBody({ title: 'before year 1', tags: [tag], occurred: { start: '0000-01-01' } }),
    ]);
    const report = (await post(body).expect(200)).body;
    expect(report).toEqual({
      accepted: 2,
      rejected: 6,
      skipped: 0,
      errors: [
        { line: 3, errors: [{ path: '', message: expect.stringMatching(/^the line is not JSON/) }] },
        { line: 4, errors: [{ path: '/occurred/end', message: 'end must not be before start' }] },
        {
          line: 5,
          errors: [
            { path: '/type', message: expect.stringMatching(/^unknown event type "skirmish"; known types: .*capture/) },
          ],
        },
        {
          line: 6,
          errors: [
            { path: '/participants/0/actor/id', message: 'no actor has the id 0193f1a0-0000-7000-8000-000000000001' },
          ],
        },
        { line: 9, errors: [{ path: '', message: 'Invalid input: expected object, received string' }] },
        { line: 10, errors: [{ path: '', message: expect.stringMatching(/^a value is outside what can be stored/) }] },
      ],
    });
    const events = await eventsTagged(tag);
    expect(events.map((e) => e.title)).toEqual(['first', 'second']);
    // Every event and report has its created revision in the feed, as a POST would give it.
    const changes = await changesSince(since);
    const created = (resource: string) =>
      changes.filter((c) => c.resource === resource && c.action === 'created').map((c) => c.id);
    expect(created('event').sort()).toEqual(events.map((e) => e.id).sort());
    const reports = (
      await Promise.all(events.map(async (e) => (await t.http.get(`/v1/events/${e.id}`).expect(200)).body.reports))
    ).flat();
    expect(reports).toHaveLength(3);
    expect(created('report').sort()).toEqual(reports.map((r: { id: string }) => r.id).sort());
    expect(changes.every((c) => c.action === 'created' && c.version === 1)).toBe(true);
  });

  it('lists the first 1,000 bad lines, counting them all', async () => {
    const report = (await post('x\n'.repeat(1500)).expect(200)).body;
    expect(report.rejected).toBe(1500);
    expect(report.errors).toHaveLength(1000);
    expect(report.errors[999].line).toBe(1000);
  });

  it('an empty body imports nothing', async () => {
    expect((await post('').expect(200)).body).toEqual({ accepted: 0, rejected: 0, skipped: 0, errors: [] });
  });
});

describe('atomic', () => {
  it('writes nothing when a line fails, and still reports every bad line (422)', async () => {
    const tag = `atomic-${unique()}`;
    const before = await t.rowCounts();
    const since = await lastSeq();
    const body = ndjson([
      eventBody({
        title: 'good',
        tags: [tag],
        participants: [{ actor: { name: `New actor ${unique()}`, kind: 'group' }, role: 'victim' }],
      }),
      eventBody({ title: 'bad', tags: [tag], occurred: { start: '2024-01-05', end: '2024-01-01' } }),
      eventBody({ title: 'also good', tags: [tag] }),
      '{',
      eventBody({ title: 'refused by the database', tags: [tag], occurred: { start: '0000-01-01' } }),
    ]);
    const problem = await expectProblem(post(body, '?atomic=true'), 422);
    expect(problem.type).toBe('/problems/rule-violation');
    expect(problem.detail).toMatch(/nothing was written/);
    expect(problem.report).toMatchObject({ accepted: 2, rejected: 3, skipped: 0 });
    expect(problem.detail).toBe('3 line(s) were rejected, so nothing was written (atomic=true); 2 line(s) were valid.');
    expect((problem.report as { errors: { line: number }[] }).errors.map((e) => e.line)).toEqual([2, 4, 5]);
    expect(await t.rowCounts()).toEqual(before);
    expect(await lastSeq()).toBe(since);
    expect(await eventsTagged(tag)).toEqual([]);
  });

  it('a line refused by the database alone rolls the whole import back', async () => {
    const tag = `atomic-db-${unique()}`;
    const before = await t.rowCounts();
    const body = ndjson([eventBody({ tags: [tag] }), eventBody({ tags: [tag], occurred: { start: '0000-01-01' } })]);
    const problem = await expectProblem(post(body, '?atomic=true'), 422);
    expect(problem.report).toMatchObject({ accepted: 1, rejected: 1, errors: [{ line: 2 }] });
    expect(await t.rowCounts()).toEqual(before);
  });

  it('imports everything when every line is good (200)', async () => {
    const tag = `atomic-ok-${unique()}`;
    const since = await lastSeq();
    // With figures, on a day of their own, so the stats rollups of that day (recounted at the end of an atomic
    // import) are checked after this file without another write recounting them.
    const lines = Array.from({ length: 5 }, (_, i) =>
      eventBody({
        title: `atomic ${i}`,
        tags: [tag],
        occurred: { start: '2011-05-17' },
        figures: [{ measure: 'killed', value: i + 1, qualifier: 'exact' }],
      }),
    );
    expect((await post(ndjson(lines), '?atomic=true').expect(200)).body).toEqual({
      accepted: 5,
      rejected: 0,
      skipped: 0,
      errors: [],
    });
    const events = await eventsTagged(tag);
    expect(events).toHaveLength(5);
    const changes = await changesSince(since);
    expect(
      changes
        .filter((c) => c.resource === 'event')
        .map((c) => c.id)
        .sort(),
    ).toEqual(events.map((e) => e.id).sort());
  });

  it('400 for an atomic value other than true or false', async () => {
    const problem = await expectProblem(post(ndjson([eventBody()]), '?atomic=yes'), 400);
    expect(problem.errors?.[0]).toMatchObject({ path: '/atomic', in: 'query' });
  });
});

describe('importing again', () => {
  it('skips the events whose external id exists: no new rows, versions or revisions', async () => {
    const tag = `again-${unique()}`;
    const lines = Array.from({ length: 4 }, (_, i) =>
      eventBody({
        title: `mirrored ${i}`,
        tags: [tag],
        external_ids: { acled: `${tag}-${i}` },
        participants: [{ actor: { name: `Mirrored actor ${tag}`, kind: 'group' }, role: 'victim' }],
        reports: [reportBody({ document: { url: `https://example.org/${tag}/${i}` } })],
      }),
    );
    // The same event twice in one file: the second is skipped too.
    const first = (await post(ndjson([...lines, lines[0]])).expect(200)).body;
    expect(first).toEqual({ accepted: 4, rejected: 0, skipped: 1, errors: [] });
    const events = await eventsTagged(tag);
    expect(events.map((e) => e.external_ids)).toEqual(lines.map((_, i) => ({ acled: `${tag}-${i}` })));

    const before = await t.rowCounts();
    const since = await lastSeq();
    expect((await post(ndjson(lines)).expect(200)).body).toEqual({ accepted: 0, rejected: 0, skipped: 4, errors: [] });
    expect((await post(ndjson(lines), '?atomic=true').expect(200)).body).toEqual({
      accepted: 0,
      rejected: 0,
      skipped: 4,
      errors: [],
    });
    expect(await t.rowCounts()).toEqual(before);
    expect(await lastSeq()).toBe(since);
    expect(await eventsTagged(tag)).toEqual(events);
  });

  it('imports the new lines of a file that grew, skipping the old ones', async () => {
    const tag = `grown-${unique()}`;
    const line = (i: number) => eventBody({ title: `grown ${i}`, tags: [tag], external_ids: { acled: `${tag}-${i}` } });
    await post(ndjson([line(1), line(2)])).expect(200);
    expect((await post(ndjson([line(1), line(2), line(3)])).expect(200)).body).toMatchObject({
      accepted: 1,
      skipped: 2,
    });
    expect((await eventsTagged(tag)).map((e) => e.title)).toEqual(['grown 1', 'grown 2', 'grown 3']);
  });
});

describe('the body', () => {
  it('is streamed: a body far larger than the JSON limit (1 MiB) is accepted', async () => {
    const tag = `big-${unique()}`;
    const description = 'A long account of what happened. '.repeat(60);
    const lines = Array.from({ length: 1500 }, (_, i) => eventBody({ title: `big ${i}`, description, tags: [tag] }));
    const body = ndjson(lines);
    expect(Buffer.byteLength(body)).toBeGreaterThan(3 * 1024 * 1024);
    // The same bytes as one JSON body would be refused.
    await expectProblem(
      t.http
        .post('/v1/events')
        .set('content-type', 'application/json')
        .send(JSON.stringify(eventBody({ description: 'x'.repeat(1024 * 1024 + 1) }))),
      413,
    );
    // Past the wait (IMPORT_WAIT_MS) on a busy machine the answer is 202 and the job has the report.
    let answer = await post(body);
    expect([200, 202]).toContain(answer.status);
    // Polled while the job runs (each GET answers 200, so the POST's 202 cannot be what keeps the loop going).
    const job = answer.headers.location as string;
    for (let i = 0; i < 1000 && answer.body.status === 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await t.http.get(job);
    }
    expect(answer.body).toMatchObject({ accepted: 1500, rejected: 0, skipped: 0, errors: [] });
    expect((await t.http.get(`/v1/events?tag=${tag}&count=true&limit=1`).expect(200)).body.total).toBe(1500);
  }, 150_000);

  it('415 for another content type, 400 with an Idempotency-Key; nothing written', async () => {
    const before = await t.rowCounts();
    const line = ndjson([eventBody()]);
    await expectProblem(t.http.post('/v1/imports').set('content-type', 'application/json').send(line), 415);
    await expectProblem(t.http.post('/v1/imports').set('content-type', 'text/plain').send(line), 415);
    await expectProblem(t.http.post('/v1/imports'), 415);
    const problem = await expectProblem(post(line).set('idempotency-key', unique()), 400);
    expect(problem.errors?.[0]).toMatchObject({ path: '/idempotency-key', in: 'header' });
    expect(await t.rowCounts()).toEqual(before);
  });

  it('401 without a key, 403 with a reader key; nothing written', async () => {
    const before = await t.rowCounts();
    await expectProblem(post(ndjson([eventBody()]), '', t.anonymous), 401);
    await expectProblem(post(ndjson([eventBody()]), '', t.as.reader), 403);
    expect(await t.rowCounts()).toEqual(before);
  });
});

describe('IMPORT_MAX_BYTES', () => {
  const limit = 1024 * 1024;
  let small: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    small = await buildApp({ db: t.db, imports: { maxBytes: limit } });
    await small.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await small.close();
  });

  /** Sends the body in chunks with no Content-Length, as a client streaming a file does. */
  function sendChunked(path: string, chunks: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
    const { port } = small.server.address() as { port: number };
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path,
          headers: { 'content-type': NDJSON, authorization: `Bearer ${t.keys.editor}` },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
          );
        },
      );
      req.on('error', reject);
      const next = (i: number) => {
        if (i === chunks.length) return req.end();
        // A refused body may be cut short: stop writing once the answer has come.
        if (req.destroyed) return;
        req.write(chunks[i], () => next(i + 1));
      };
      next(0);
    });
  }

  it('413 at once when Content-Length is over the limit', async () => {
    const before = await t.rowCounts();
    const body = ndjson([eventBody({ description: 'y'.repeat(limit) })]);
    const problem = await expectProblem(
      supertest(small.server)
        .post('/v1/imports')
        .set('authorization', `Bearer ${t.keys.editor}`)
        .set('content-type', NDJSON)
        .send(body),
      413,
    );
    expect(problem.detail).toMatch(/at most 1048576 bytes/);
    expect(await t.rowCounts()).toEqual(before);
  });

  it('a streamed body that grows past the limit: 413, and nothing is imported (atomic or not)', async () => {
    for (const query of ['', '?atomic=true']) {
      const tag = `limit-${unique()}`;
      const before = await t.rowCounts();
      const line = JSON.stringify(eventBody({ description: 'z'.repeat(400), tags: [tag] }));
      const perChunk = ndjson(Array.from({ length: 200 }, () => line));
      const chunks = Array.from({ length: 20 }, () => perChunk);
      expect(chunks.join('').length).toBeGreaterThan(limit * 1.5);
      const answer = await sendChunked(`/v1/imports${query}`, chunks);
      expect(answer.status).toBe(413);
      expect(answer.body.detail).toMatch(/at most 1048576 bytes/);
      // The body is received whole before anything is imported.
      expect(await eventsTagged(tag)).toEqual([]);
      expect(await t.rowCounts()).toEqual(before);
    }
  }, 120_000);
});

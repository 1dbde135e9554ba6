// The change feed under concurrent writers on two instances, with a reader following it while
// they write: the reader sees every change exactly once, in commit order, and never learns of a
// change behind a cursor it has already passed (a gap no later read would fill).
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFeed, type Change } from '../helpers/feed.js';
import { startSecondInstance, startTestApp, type SecondInstance, type TestApp } from '../helpers/test-app.js';
import { eventBody, reportBody, retried, unique } from '../helpers/fixtures.js';

const WRITERS = 20;
const ROUNDS = 3;

let t: TestApp;
let second: SecondInstance;
let instances: ReturnType<typeof supertest.agent>[];

beforeAll(async () => {
  t = await startTestApp();
  second = await startSecondInstance(t, 10);
  instances = [t.http, second.http];
});
afterAll(async () => {
  await second.close();
  await t.close();
});

/** A request sent again after a 503 (a writer that waited longer for a connection than the pool allows wrote nothing). */
async function answered(send: () => supertest.Test, status: number): Promise<supertest.Response> {
  const answer = await retried(send);
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  return answer;
}

/**
 * One writer's rounds: create an event, edit it, add a report, edit that, and delete the event in the last round.
 * Actors come from a small shared pool, so writers also find-or-create the same actors at once.
 */
async function writer(http: ReturnType<typeof supertest.agent>, n: number, run: string): Promise<number> {
  const actor = (k: number) => ({ name: `Concurrent actor ${run} ${k % 5}`, kind: 'group' });
  let writes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const body = eventBody({
      title: `Writer ${n} round ${round} ${run}`,
      reports: [reportBody({ reporter: actor(n) })],
    });
    const created = await answered(() => http.post('/v1/events').send(body), 201);
    const id = created.body.id as string;
    const patched = await answered(
      () =>
        http
          .patch(`/v1/events/${id}`)
          .set('if-match', created.headers.etag as string)
          .send({ title: `Writer ${n} round ${round} edited ${run}` }),
      200,
    );
    const report = await answered(
      () => http.post(`/v1/events/${id}/reports`).send(reportBody({ reporter: actor(n + 1), via: [actor(n + 2)] })),
      201,
    );
    await answered(
      () =>
        http
          .patch(`/v1/reports/${report.body.id}`)
          .set('if-match', report.headers.etag as string)
          .send({ quote: `Quote ${n} ${round}` }),
      200,
    );
    writes += 4;
    if (round === ROUNDS - 1) {
      const current = await answered(() => http.get(`/v1/events/${id}`), 200);
      expect(Number(JSON.parse(patched.headers.etag as string))).toBeLessThan(
        Number(JSON.parse(current.headers.etag as string)),
      );
      await answered(() => http.delete(`/v1/events/${id}`).set('if-match', current.headers.etag as string), 204);
      writes += 1;
    }
  }
  return writes;
}

describe('the change feed with 20 concurrent writers on two instances', () => {
  it('a reader following it sees every change once, in commit order, with no gap', { timeout: 180_000 }, async () => {
    const run = unique();
    const { cursor: start } = await readFeed(t.http, '0');

    // The reader polls both instances in turn while the writers run, from the cursor it last got.
    let writing = true;
    const followed: Change[] = [];
    let polls = 0;
    const follow = (async () => {
      let cursor = start;
      while (writing) {
        const instance = instances[polls++ % 2]!;
        const page = await answered(() => instance.get('/v1/changes').query({ since: cursor, limit: 50 }), 200);
        followed.push(...(page.body.data as Change[]));
        cursor = page.body.next_cursor as string;
        if (page.body.data.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return cursor;
    })();

    const writers = Promise.all(Array.from({ length: WRITERS }, (_, n) => writer(instances[n % 2]!, n, run))).finally(
      () => (writing = false),
    );
    const [writes, lastCursor] = await Promise.all([writers, follow]);
    followed.push(...(await readFeed(t.http, lastCursor)).changes);

    // What the database holds is what a reader starting afresh now reads.
    const { changes: afresh } = await readFeed(t.http, start);
    expect(writes.reduce((a, b) => a + b, 0)).toBe(WRITERS * (4 * ROUNDS + 1));
    expect(afresh.length).toBeGreaterThan(WRITERS * (4 * ROUNDS + 1)); // plus the actors, documents and reports made
    expect(polls).toBeGreaterThan(1);

    // No gap and no duplicate: the follower saw exactly what is there, each entry once.
    expect(followed.map((c) => c.seq)).toEqual(afresh.map((c) => c.seq));
    expect(followed).toEqual(afresh);
    expect(new Set(followed.map((c) => c.seq)).size).toBe(followed.length);
    expect(new Set(followed.map((c) => `${c.resource}/${c.id}/${c.version}`)).size).toBe(followed.length);

    // Commit order: seqs ascend, and each resource's versions come 1, 2, 3... in feed order.
    expect(followed.map((c) => c.seq)).toEqual([...followed.map((c) => c.seq)].sort((a, b) => a - b));
    const versions = new Map<string, number[]>();
    for (const c of followed)
      versions.set(`${c.resource}/${c.id}`, [...(versions.get(`${c.resource}/${c.id}`) ?? []), c.version]);
    for (const [key, seen] of versions) {
      expect({ key, seen }).toEqual({ key, seen: seen.map((_, i) => seen[0]! + i) });
    }

    // The feed's last version of each resource is the version stored.
    const { rows } = await t.db.pool.query<{ key: string; version: number }>(
      `SELECT 'event/' || id AS key, version FROM events UNION ALL SELECT 'report/' || id, version FROM reports
       UNION ALL SELECT 'actor/' || id, version FROM actors UNION ALL SELECT 'document/' || id, version FROM documents`,
    );
    const stored = new Map(rows.map((r) => [r.key, r.version]));
    expect(versions.size).toBeGreaterThan(WRITERS * ROUNDS);
    for (const [key, seen] of versions)
      expect({ key, version: seen.at(-1) }).toEqual({ key, version: stored.get(key) });
  });
});

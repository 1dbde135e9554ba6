// Two instances of the service on one database, as behind a load balancer: nothing that
// matters lives in one process's memory, so races and retries resolve the same across them.
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecondInstance, startTestApp, type SecondInstance, type TestApp } from '../helpers/test-app.js';
import { eventBody, unique } from '../helpers/fixtures.js';

let t: TestApp;
let second: SecondInstance;
let instances: ReturnType<typeof supertest.agent>[];

beforeAll(async () => {
  t = await startTestApp();
  second = await startSecondInstance(t, 5);
  instances = [t.http, second.http];
});
afterAll(async () => {
  await second.close();
  await t.close();
});

/** The instance a round-robin balancer would send request `i` to. */
const via = (i: number) => instances[i % instances.length]!;

describe('two instances on one database', () => {
  it('ten PATCHes with one ETag spread over both: exactly one wins', async () => {
    const event = (
      await via(0)
        .post('/v1/events')
        .send(eventBody({ title: `Scale ${unique()}` }))
        .expect(201)
    ).body;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        via(i)
          .patch(`/v1/events/${event.id}`)
          .set('if-match', '"1"')
          .send({ title: `Instance race ${i}` }),
      ),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(412)]);
    expect((await via(1).get(`/v1/events/${event.id}`).expect(200)).headers.etag).toBe('"2"');
  });

  it('an idempotent POST retried ten times over both instances creates one event', async () => {
    const title = `Idempotent across instances ${unique()}`;
    const key = `across-${unique()}`;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        via(i).post('/v1/events').set('idempotency-key', key).send(eventBody({ title })),
      ),
    );
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    const stored = await t.db.pool.query('SELECT id FROM events WHERE title = $1', [title]);
    expect(stored.rowCount).toBe(1);
  });

  it('a cursor from one instance pages on the other, and the change feed reads the same on both', async () => {
    const tag = `across-${unique()}`;
    for (let i = 0; i < 5; i++)
      await via(i)
        .post('/v1/events')
        .send(eventBody({ title: `Page ${i}`, tags: [tag] }))
        .expect(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const query: string = `/v1/events?tag=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await via(page).get(query).expect(200);
      seen.push(...response.body.data.map((e: { id: string }) => e.id));
      cursor = response.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    const [a, b] = await Promise.all(instances.map((http) => http.get('/v1/changes?limit=1000').expect(200)));
    expect(a!.body).toEqual(b!.body);
  });
});

// Idempotency-Key on POST: a retry with the same key and body gets the first response and
// writes nothing, even when retries race; another request under the same key is a 422; a
// failed attempt leaves the key free; a malformed key is a 400.
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { actorBody, documentBody, eventBody, expectProblem, reportBody, unique } from '../helpers/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

/** A POST carrying `key` as its Idempotency-Key (not yet sent). */
const post = (path: string, key: string, body: object) => t.http.post(path).set('Idempotency-Key', key).send(body);

const replayed = (response: Response) => response.headers['idempotent-replayed'];

/** Checks that `retry` repeats `first` exactly (status, body, Location, ETag) and says it is a replay. */
function expectReplayOf(retry: Response, first: Response) {
  expect(retry.status).toBe(first.status);
  expect(replayed(first)).toBeUndefined();
  expect(replayed(retry)).toBe('true');
  expect(retry.body).toEqual(first.body);
  expect(retry.headers.location).toBe(first.headers.location);
  expect(retry.headers.etag).toBe(first.headers.etag);
  expect(retry.headers['content-type']).toBe(first.headers['content-type']);
}

describe('Idempotency-Key', () => {
  it('ten racing retries of POST /v1/events create one event, and all answer the first response', async () => {
    const title = `Idempotent race ${unique()}`;
    const key = `race-${unique()}`;
    const body = eventBody({ title });
    const responses = await Promise.all(Array.from({ length: 10 }, () => post('/v1/events', key, body)));

    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    // Exactly one request did the write; the nine others waited for it and replayed its answer.
    const originals = responses.filter((r) => replayed(r) === undefined);
    expect(originals).toHaveLength(1);
    const first = originals[0]!;
    expect(first.headers.location).toBe(`/v1/events/${first.body.id}`);
    expect(first.headers.etag).toBe('"1"');
    for (const retry of responses) if (retry !== first) expectReplayOf(retry, first);

    const rows = await t.db.pool.query('SELECT id FROM events WHERE title = $1', [title]);
    expect(rows.rows).toEqual([{ id: first.body.id }]);
    const revisions = await t.db.pool.query(
      `SELECT action FROM revisions WHERE resource = 'event' AND resource_id = $1`,
      [first.body.id],
    );
    expect(revisions.rows).toEqual([{ action: 'created' }]);

    // A day later the event has changed; a retry still answers the first response, not the current state.
    await t.http
      .patch(`/v1/events/${first.body.id}`)
      .set('If-Match', '"1"')
      .send({ title: `${title} (edited)` })
      .expect(200);
    const counts = await t.rowCounts();
    const late = await post('/v1/events', key, body);
    expectReplayOf(late, first);
    expect(late.body).toMatchObject({ title, version: 1 });
    expect(await t.rowCounts()).toEqual(counts);
  });

  it('the same key with another body, or on another path, is a 422 and writes nothing', async () => {
    const key = `reused-${unique()}`;
    const first = await post('/v1/events', key, eventBody({ title: `First ${unique()}` })).expect(201);
    const counts = await t.rowCounts();

    const otherBody = await expectProblem(post('/v1/events', key, eventBody({ title: `Second ${unique()}` })), 422);
    expect(otherBody.type).toBe('/problems/rule-violation');
    expect(otherBody.detail).toMatch(/Idempotency-Key/);
    await expectProblem(post('/v1/actors', key, actorBody()), 422);
    await expectProblem(post(`/v1/events/${first.body.id}/reports`, key, reportBody()), 422);
    expect(await t.rowCounts()).toEqual(counts);

    // The key still answers its own request.
    expectReplayOf(await post('/v1/events', key, eventBody({ title: first.body.title })), first);
  });

  it('a failed attempt does not use up the key: it runs again, and a corrected body succeeds', async () => {
    const key = `failed-first-${unique()}`;
    const title = `Corrected ${unique()}`;
    const counts = await t.rowCounts();
    // An unknown type fails inside the write's transaction, after the key was claimed: the claim rolls back.
    const wrong = eventBody({ title, type: 'no-such-type' });
    await expectProblem(post('/v1/events', key, wrong), 400);
    const again = await expectProblem(post('/v1/events', key, wrong), 400);
    expect(again.errors).toContainEqual(expect.objectContaining({ path: '/type' }));
    await expectProblem(post('/v1/events', key, { ...wrong, type: 'capture', reports: [] }), 422); // no report
    expect(await t.rowCounts()).toEqual(counts);

    const corrected = await post('/v1/events', key, { ...wrong, type: 'capture' }).expect(201);
    expect(replayed(corrected)).toBeUndefined();
    expectReplayOf(await post('/v1/events', key, { ...wrong, type: 'capture' }), corrected);
    const rows = await t.db.pool.query('SELECT id FROM events WHERE title = $1', [title]);
    expect(rows.rows).toEqual([{ id: corrected.body.id }]);
  });

  it('400 naming the header for a malformed key, and nothing is written', async () => {
    const counts = await t.rowCounts();
    for (const key of ['k'.repeat(256), 'k'.repeat(300), 'has space', 'clé']) {
      const problem = await expectProblem(post('/v1/events', key, eventBody()), 400);
      expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/idempotency-key', in: 'header' }));
      await expectProblem(post('/v1/actors', key, actorBody()), 400);
    }
    expect(await t.rowCounts()).toEqual(counts);
    // 255 visible ASCII characters is the longest key.
    const longest = `${'k'.repeat(247)}${unique()}`;
    const first = await post('/v1/events', longest, eventBody()).expect(201);
    expectReplayOf(await post('/v1/events', longest, eventBody()), first);
  });

  it('keys are told apart by their string: two keys with the same body create two events', async () => {
    const title = `Two keys ${unique()}`;
    const [a, b] = [`a-${unique()}`, `A-${unique()}`];
    const first = await post('/v1/events', a, eventBody({ title })).expect(201);
    const second = await post('/v1/events', b, eventBody({ title })).expect(201);
    expect(replayed(second)).toBeUndefined();
    expect(second.body.id).not.toBe(first.body.id);
    const rows = await t.db.pool.query('SELECT count(*)::int AS n FROM events WHERE title = $1', [title]);
    expect(rows.rows[0].n).toBe(2);
  });

  it("POST /v1/events/{id}/reports: a retry, even with the event's old If-Match, replays the 201", async () => {
    const event = (await t.http.post('/v1/events').send(eventBody()).expect(201)).body;
    const key = `report-${unique()}`;
    const body = reportBody({ quote: `Retried ${unique()}` });
    const first = await post(`/v1/events/${event.id}/reports`, key, body).set('If-Match', '"1"').expect(201);
    expect(first.headers.location).toBe(`/v1/reports/${first.body.id}`);
    const counts = await t.rowCounts();
    const retry = await post(`/v1/events/${event.id}/reports`, key, body).set('If-Match', '"1"');
    expectReplayOf(retry, first);
    expect(await t.rowCounts()).toEqual(counts);
    // The event changed once.
    const after = await t.http.get(`/v1/events/${event.id}`).expect(200);
    expect(after.headers.etag).toBe('"2"');
    expect(after.body.reports.map((r: { id: string }) => r.id)).toEqual([event.reports[0].id, first.body.id]);
  });

  it('POST /v1/actors and /v1/documents: a retry replays the 201, where a new request without the key finds (200)', async () => {
    for (const [path, body] of [
      ['/v1/actors', actorBody()],
      ['/v1/documents', documentBody()],
    ] as const) {
      const key = `find-or-create-${unique()}`;
      const first = await post(path, key, body).expect(201);
      expect(first.headers.location).toBe(`${path}/${first.body.id}`);
      const counts = await t.rowCounts();
      const retry = await post(path, key, body);
      expectReplayOf(retry, first);
      expect(retry.status).toBe(201);
      expect(await t.rowCounts()).toEqual(counts);

      const found = await t.http.post(path).send(body).expect(200);
      expect(found.body.id).toBe(first.body.id);
      // A key first used for a find stores and replays the 200.
      const findKey = `find-${unique()}`;
      const firstFind = await post(path, findKey, body).expect(200);
      expectReplayOf(await post(path, findKey, body), firstFind);
    }
  });

  it('POST /v1/events/{id}/merge: a retry replays the surviving event instead of a 410', async () => {
    const duplicate = (await t.http.post('/v1/events').send(eventBody()).expect(201)).body;
    const survivor = (await t.http.post('/v1/events').send(eventBody()).expect(201)).body;
    const key = `merge-${unique()}`;
    const merge = () => post(`/v1/events/${duplicate.id}/merge`, key, { into: survivor.id }).set('If-Match', '"1"');
    const first = await merge().expect(200);
    expect(first.body).toMatchObject({ id: survivor.id, version: 2 });
    const counts = await t.rowCounts();
    expectReplayOf(await merge(), first);
    expect(await t.rowCounts()).toEqual(counts);
    await expectProblem(
      t.http.post(`/v1/events/${duplicate.id}/merge`).set('If-Match', '"1"').send({ into: survivor.id }),
      410,
    );
  });

  it('POST /v1/events/{id}/relations honours the key like every other POST', async () => {
    const event = (await t.http.post('/v1/events').send(eventBody()).expect(201)).body;
    const other = (await t.http.post('/v1/events').send(eventBody()).expect(201)).body;
    const path = `/v1/events/${event.id}/relations`;
    const body = { event_id: other.id, relation: 'follows' };
    const key = `relation-${unique()}`;
    const first = await post(path, key, body).set('If-Match', '"1"').expect(201);
    const counts = await t.rowCounts();
    // Were the key ignored, this retry would be a 412: the event is now at version 2.
    expectReplayOf(await post(path, key, body).set('If-Match', '"1"'), first);
    expect(await t.rowCounts()).toEqual(counts);
    // A malformed key is a 400 here too, not a write.
    await expectProblem(
      post(path, 'has space', { event_id: other.id, relation: 'same_subject' }).set('If-Match', '"2"'),
      400,
    );
  });
});

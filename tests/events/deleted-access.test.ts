// Reads of deleted data need the editor role (docs/data-model.md, Deleted data): include_deleted=true on lists,
// exports and stats, a deleted event's revisions and reports, and its past states (as_of). Anonymous
// callers and readers get 403, or for a single read the 410 tombstone; editors read it all.
import type supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBody, expectProblem, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let tag: string;
let deleted: { id: string; reportId: string; createdAt: string };
let live: { id: string; reportId: string };

beforeAll(async () => {
  t = await startTestApp();
  tag = `gone-${unique()}`;
  const gone = await t.http
    .post('/v1/events')
    .send(eventBody({ title: 'An event later deleted', tags: [tag] }))
    .expect(201);
  const kept = await t.http
    .post('/v1/events')
    .send(eventBody({ title: 'An event that stays', tags: [tag] }))
    .expect(201);
  // A moment after the creation, so that as_of falls between it and the deletion.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const createdAt = new Date(Date.parse(gone.body.created_at as string) + 5).toISOString();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await t.http
    .delete(`/v1/events/${gone.body.id}`)
    .set('if-match', gone.headers.etag!)
    .send({ reason: 'duplicate' })
    .expect(204);
  deleted = { id: gone.body.id, reportId: gone.body.reports[0].id, createdAt };
  live = { id: kept.body.id, reportId: kept.body.reports[0].id };
});
afterAll(async () => {
  await t.close();
});

type Agent = ReturnType<typeof supertest>;
const callers = (): [string, Agent][] => [
  ['anonymous', t.anonymous],
  ['reader', t.as.reader],
];

describe('include_deleted=true needs the editor role', () => {
  const paths = () => [
    `/v1/events?tag=${tag}&include_deleted=true`,
    `/v1/events?tag=${tag}&include_deleted=true&format=csv`,
    `/v1/events?tag=${tag}&include_deleted=true&format=ndjson&limit=10`,
    `/v1/stats/events?tag=${tag}&include_deleted=true`,
    `/v1/stats/claims?tag=${tag}&include_deleted=true&measure=killed`,
    `/v1/reports?include_deleted=true`,
  ];

  it('403 for anonymous callers and readers, on lists, exports and stats', async () => {
    for (const [who, http] of callers()) {
      for (const path of paths()) {
        const problem = await expectProblem(http.get(path), 403);
        expect(problem.type, `${who} ${path}`).toBe('/problems/forbidden');
        expect(problem.detail).toMatch(/editor/);
      }
    }
  });

  it('editors list and export deleted events; include_deleted=false and no flag stay open to all', async () => {
    const listed = (await t.http.get(`/v1/events?tag=${tag}&include_deleted=true`).expect(200)).body.data as {
      id: string;
    }[];
    expect(listed.map((e) => e.id).sort()).toEqual([deleted.id, live.id].sort());
    const csv = await t.http.get(`/v1/events?tag=${tag}&include_deleted=true&format=csv`).expect(200);
    expect(csv.text).toContain(deleted.id);
    const stats = (await t.http.get(`/v1/stats/events?tag=${tag}&include_deleted=true`).expect(200)).body.data;
    expect(stats).toEqual([expect.objectContaining({ events: 2 })]);
    for (const [, http] of callers()) {
      for (const flag of ['', '&include_deleted=false']) {
        const open = (await http.get(`/v1/events?tag=${tag}${flag}`).expect(200)).body.data as { id: string }[];
        expect(open.map((e) => e.id)).toEqual([live.id]);
      }
    }
  });
});

describe("a deleted event's revisions, reports and past states", () => {
  it('revisions: 403 for anonymous callers and readers, 200 for editors; a live event is open to all', async () => {
    for (const [, http] of callers()) {
      await expectProblem(http.get(`/v1/events/${deleted.id}/revisions`), 403);
      expect((await http.get(`/v1/events/${live.id}/revisions`).expect(200)).body.data).toHaveLength(1);
    }
    const revisions = (await t.http.get(`/v1/events/${deleted.id}/revisions`).expect(200)).body.data as {
      action: string;
    }[];
    expect(revisions.map((r) => r.action)).toEqual(['created', 'deleted']);
  });

  it('reports of the event: 403 for anonymous callers and readers, 200 for editors', async () => {
    for (const [, http] of callers()) {
      await expectProblem(http.get(`/v1/events/${deleted.id}/reports`), 403);
      expect((await http.get(`/v1/events/${live.id}/reports`).expect(200)).body.data).toHaveLength(1);
    }
    expect((await t.http.get(`/v1/events/${deleted.id}/reports`).expect(200)).body.data).toHaveLength(1);
  });

  it('GET /v1/reports leaves out the reports of deleted events unless an editor asks for them', async () => {
    for (const [, http] of callers()) {
      const ids = ((await http.get('/v1/reports?limit=1000').expect(200)).body.data as { id: string }[]).map(
        (r) => r.id,
      );
      expect(ids).toContain(live.reportId);
      expect(ids).not.toContain(deleted.reportId);
    }
    const all = (
      (await t.http.get('/v1/reports?limit=1000&include_deleted=true').expect(200)).body.data as { id: string }[]
    ).map((r) => r.id);
    expect(all).toEqual(expect.arrayContaining([live.reportId, deleted.reportId]));
  });

  it('a report of a deleted event read alone: the 410 tombstone for anonymous callers and readers, 200 for editors', async () => {
    for (const [, http] of callers()) {
      const problem = await expectProblem(http.get(`/v1/reports/${deleted.reportId}`), 410);
      expect(problem.detail).toContain(deleted.id);
      await http.get(`/v1/reports/${live.reportId}`).expect(200);
    }
    expect((await t.http.get(`/v1/reports/${deleted.reportId}`).expect(200)).body.id).toBe(deleted.reportId);
  });

  it('as_of before the deletion: the 410 tombstone for anonymous callers and readers, the past state for editors', async () => {
    const path = `/v1/events/${deleted.id}?as_of=${encodeURIComponent(deleted.createdAt)}`;
    for (const [, http] of callers()) {
      const problem = await expectProblem(http.get(path), 410);
      expect(problem.reason).toBe('duplicate');
      expect(problem.deleted_at).toEqual(expect.any(String));
      await http.get(`/v1/events/${live.id}?as_of=${encodeURIComponent(new Date().toISOString())}`).expect(200);
    }
    const past = await t.http.get(path).expect(200);
    expect(past.body).toMatchObject({ id: deleted.id, title: 'An event later deleted', deleted_at: null });
  });
});

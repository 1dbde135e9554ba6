import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, expectProblem, reportBody, unique } from '../helpers/fixtures.js';

interface Event {
  id: string;
  title: string;
  version: number;
  updated_at: string;
  deleted_at: string | null;
  tags: string[];
  reports: { id: string; quote: string | null; version: number }[];
  participants: { actor: { id: string; name: string }; role: string }[];
  relations: { event_id: string; relation: string }[];
}

interface Revision {
  version: number;
  action: string;
  author: string;
  at: string;
  changed_fields: string[];
  state: Event & Record<string, unknown>;
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

async function createEvent(overrides: Record<string, unknown> = {}): Promise<Event> {
  return (
    await t.http
      .post('/v1/events')
      .send(eventBody({ title: `History test ${unique()}`, ...overrides }))
      .expect(201)
  ).body;
}

const etag = async (path: string) => (await t.http.get(path).expect(200)).headers.etag as string;

async function revisions(id: string): Promise<Revision[]> {
  return (await t.http.get(`/v1/events/${id}/revisions?limit=1000`).expect(200)).body.data;
}

/** Fields that differ between two states, leaving out those every write changes. */
function differing(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return Object.keys(b)
    .filter(
      (key) =>
        !['version', 'updated_at', 'updated_by'].includes(key) && JSON.stringify(a[key]) !== JSON.stringify(b[key]),
    )
    .sort();
}

describe('revisions', () => {
  it('every change is a revision: who, when, what changed, and the whole state; the last is the current event', async () => {
    const event = await createEvent({ tags: ['one'] });
    await t.http
      .patch(`/v1/events/${event.id}`)
      .set('if-match', '"1"')
      .send({ title: 'Renamed', tags: ['one', 'two'] })
      .expect(200);
    await t.http
      .post(`/v1/events/${event.id}/reports`)
      .send(reportBody({ quote: 'a second report' }))
      .expect(201);
    await t.http
      .patch(`/v1/events/${event.id}`)
      .set('if-match', '"3"')
      .send({ description: 'now described' })
      .expect(200);

    const list = await revisions(event.id);
    expect(list.map((r) => [r.version, r.action])).toEqual([
      [1, 'created'],
      [2, 'updated'],
      [3, 'updated'],
      [4, 'updated'],
    ]);
    expect(
      list.every((r) => r.author === 'test-editor' && r.state.version === r.version && r.at === r.state.updated_at),
    ).toBe(true);
    expect(list[1]!.changed_fields).toEqual(['tags', 'title']);
    // The same reporter again: one more report, but not one more independent reporter.
    expect(list[2]!.changed_fields).toEqual(['report_count', 'reports']);
    expect(list[3]!.changed_fields).toEqual(['description']);
    // Replaying: each revision's changed fields are exactly what differs from the one before.
    for (let i = 1; i < list.length; i++)
      expect(list[i]!.changed_fields).toEqual(differing(list[i - 1]!.state, list[i]!.state));
    expect(list.at(-1)!.state).toEqual((await t.http.get(`/v1/events/${event.id}`).expect(200)).body);
  });

  it('pages with a cursor; 404 for an unknown event; 400 for a cursor of another event', async () => {
    const event = await createEvent();
    for (let version = 1; version <= 4; version++) {
      await t.http
        .patch(`/v1/events/${event.id}`)
        .set('if-match', `"${version}"`)
        .send({ title: `v${version + 1}` })
        .expect(200);
    }
    const first = await t.http.get(`/v1/events/${event.id}/revisions?limit=2`).expect(200);
    expect(first.body.data.map((r: Revision) => r.version)).toEqual([1, 2]);
    const second = await t.http
      .get(`/v1/events/${event.id}/revisions?limit=2&cursor=${first.body.next_cursor}`)
      .expect(200);
    expect(second.body.data.map((r: Revision) => r.version)).toEqual([3, 4]);
    const other = await createEvent();
    await expectProblem(t.http.get(`/v1/events/${other.id}/revisions?cursor=${first.body.next_cursor}`), 400);
    await expectProblem(t.http.get('/v1/events/0193f1a0-0000-7000-8000-00000000dead/revisions'), 404);
  });
});

describe('GET /v1/events/{id}?as_of=', () => {
  it('returns the event as it stood at a past time, 404 before it existed, 410 once deleted', async () => {
    const event = await createEvent({ title: 'First title' });
    await t.http.patch(`/v1/events/${event.id}`).set('if-match', '"1"').send({ title: 'Second title' }).expect(200);
    await t.http
      .delete(`/v1/events/${event.id}`)
      .set('if-match', '"2"')
      .send({ reason: 'duplicate entry' })
      .expect(204);
    const [v1, v2, v3] = await revisions(event.id);

    const at = (time: string) => t.http.get(`/v1/events/${event.id}?as_of=${encodeURIComponent(time)}`);
    const between = new Date((Date.parse(v1!.at) + Date.parse(v2!.at)) / 2).toISOString();
    expect((await at(v1!.at).expect(200)).body).toEqual(v1!.state);
    expect((await at(between).expect(200)).body.title).toBe('First title');
    const second = await at(v2!.at).expect(200);
    expect(second.body.title).toBe('Second title');
    expect(second.headers.etag).toBe('"2"');
    expect((await expectProblem(at(v3!.at), 410)).deleted_at).toBe(v3!.state.deleted_at);
    await expectProblem(at(new Date(Date.parse(v1!.at) - 1).toISOString()), 404);
    await expectProblem(at('2024-12-26'), 400);
    await expectProblem(t.http.get(`/v1/events/0193f1a0-0000-7000-8000-00000000dead?as_of=2025-01-01T00:00:00Z`), 404);
  });
});

describe('DELETE /v1/events/{id}', () => {
  it('soft-deletes: 410 with the tombstone, out of lists unless include_deleted=true, rows kept', async () => {
    const tag = `del-${unique()}`;
    const event = await createEvent({ tags: [tag] });
    const before = await t.rowCounts();
    await expectProblem(t.http.delete(`/v1/events/${event.id}`), 428);
    await t.http.delete(`/v1/events/${event.id}`).set('if-match', '"1"').send({ reason: 'entered twice' }).expect(204);
    const after = await t.rowCounts();
    expect(after).toEqual({ ...before, revisions: before.revisions! + 1 });

    const gone = await expectProblem(t.http.get(`/v1/events/${event.id}`), 410);
    expect(gone).toMatchObject({ deleted_by: 'test-editor', reason: 'entered twice', merged_into: null });
    expect(Date.parse(gone.deleted_at as string)).not.toBeNaN();
    expect((await t.http.get(`/v1/events?tag=${tag}`).expect(200)).body.data).toEqual([]);
    const listed = (await t.http.get(`/v1/events?tag=${tag}&include_deleted=true`).expect(200)).body.data as Event[];
    expect(listed.map((e) => [e.id, e.version, e.deleted_at !== null])).toEqual([[event.id, 2, true]]);
    await expectProblem(t.http.delete(`/v1/events/${event.id}`).set('if-match', '"2"'), 410);
    await expectProblem(t.http.post(`/v1/events/${event.id}/reports`).send(reportBody()), 410);
  });
});

describe('relations', () => {
  it('adds and removes a relation with the If-Match of the event', async () => {
    const [a, b] = [await createEvent(), await createEvent()];
    const added = await t.http
      .post(`/v1/events/${a.id}/relations`)
      .set('if-match', '"1"')
      .send({ event_id: b.id, relation: 'follows' })
      .expect(201);
    expect(added.body.relations).toEqual([{ event_id: b.id, relation: 'follows' }]);
    expect(added.headers.etag).toBe('"2"');
    await expectProblem(
      t.http.post(`/v1/events/${a.id}/relations`).set('if-match', '"2"').send({ event_id: b.id, relation: 'follows' }),
      409,
    );
    await expectProblem(
      t.http.post(`/v1/events/${a.id}/relations`).set('if-match', '"2"').send({ event_id: a.id, relation: 'follows' }),
      422,
    );
    await expectProblem(
      t.http.post(`/v1/events/${a.id}/relations`).set('if-match', '"1"').send({ event_id: b.id, relation: 'part_of' }),
      412,
    );
    await expectProblem(t.http.post(`/v1/events/${a.id}/relations`).send({ event_id: b.id, relation: 'part_of' }), 428);

    await expectProblem(t.http.delete(`/v1/events/${a.id}/relations/precedes/${b.id}`).set('if-match', '"2"'), 404);
    const removed = await t.http
      .delete(`/v1/events/${a.id}/relations/follows/${b.id}`)
      .set('if-match', '"2"')
      .expect(200);
    expect(removed.body.relations).toEqual([]);
    expect(removed.body.version).toBe(3);
  });
});

describe('POST /v1/events/{id}/merge', () => {
  it('moves every live report, participant and tag to the survivor and tombstones the duplicate', async () => {
    const actor = { name: `Merged unit ${unique()}`, kind: 'unit' };
    const survivor = await createEvent({ tags: ['kept'], reports: [reportBody({ quote: 'survivor report' })] });
    const duplicate = await createEvent({
      tags: ['kept', 'extra'],
      participants: [{ actor, role: 'victim' }],
      reports: [reportBody({ quote: 'duplicate report 1' }), reportBody({ quote: 'duplicate report 2' })],
    });
    const before = await t.rowCounts();

    await expectProblem(t.http.post(`/v1/events/${duplicate.id}/merge`).send({ into: survivor.id }), 428);
    await expectProblem(
      t.http.post(`/v1/events/${duplicate.id}/merge`).set('if-match', '"1"').send({ into: duplicate.id }),
      422,
    );
    const ghost = '0193f1a0-0000-7000-8000-00000000dead';
    const unknown = await expectProblem(
      t.http.post(`/v1/events/${duplicate.id}/merge`).set('if-match', '"1"').send({ into: ghost }),
      400,
    );
    expect(unknown.errors?.[0]?.path).toBe('/into');
    expect(await t.rowCounts()).toEqual(before);

    const merged = await t.http
      .post(`/v1/events/${duplicate.id}/merge`)
      .set('if-match', '"1"')
      .send({ into: survivor.id })
      .expect(200);
    const result = merged.body as Event;
    expect(result.id).toBe(survivor.id);
    expect(result.version).toBe(2);
    expect(result.reports.map((r) => r.quote).sort()).toEqual([
      'duplicate report 1',
      'duplicate report 2',
      'survivor report',
    ]);
    expect(result.participants.map((p) => p.actor.name)).toEqual([actor.name]);
    expect(result.tags).toEqual(['kept', 'extra']);
    expect(result.reports.filter((r) => r.quote?.startsWith('duplicate')).map((r) => r.version)).toEqual([2, 2]);

    const gone = await expectProblem(t.http.get(`/v1/events/${duplicate.id}`), 410);
    expect(gone.merged_into).toBe(survivor.id);
    const duplicateHistory = await revisions(duplicate.id);
    expect(duplicateHistory.map((r) => r.action)).toEqual(['created', 'deleted']);
    expect(duplicateHistory[0]!.state.reports).toHaveLength(2);
    expect((await revisions(survivor.id)).map((r) => r.changed_fields.includes('reports'))).toEqual([true, true]);
    expect((await t.rowCounts()).reports).toBe(before.reports);
  });
});

describe('concurrent merges', () => {
  it('two events merged into each other at once: one merge wins, the other is refused, never a 500', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = [await createEvent(), await createEvent()];
      const merge = (from: Event, into: Event) =>
        t.http.post(`/v1/events/${from.id}/merge`).set('if-match', '"1"').send({ into: into.id });
      const statuses = (await Promise.all([merge(a, b), merge(b, a)])).map((r) => r.status).sort();
      // The loser finds its own event merged away (410) or changed (412), or the survivor it named deleted (400).
      expect([
        [200, 400],
        [200, 410],
        [200, 412],
      ]).toContainEqual(statuses);
      const live = await t.db.pool.query('SELECT id FROM events WHERE id = ANY($1) AND deleted_at IS NULL', [
        [a.id, b.id],
      ]);
      expect(live.rowCount).toBe(1);
    }
  });
});

describe('reports: PATCH and DELETE', () => {
  it('edits a report with its If-Match; the event gets a new version showing the change', async () => {
    const event = await createEvent({ reports: [reportBody({ quote: 'original' }), reportBody({ quote: 'other' })] });
    const report = event.reports.find((r) => r.quote === 'original')!;
    await expectProblem(t.http.patch(`/v1/reports/${report.id}`).send({ quote: 'x' }), 428);
    const edited = await t.http
      .patch(`/v1/reports/${report.id}`)
      .set('if-match', '"1"')
      .set('content-type', 'application/merge-patch+json')
      .send(
        JSON.stringify({
          quote: 'corrected',
          stance: 'disputes',
          credibility: null,
          via: [{ name: 'a friendly country', kind: 'group' }],
        }),
      )
      .expect(200);
    expect(edited.headers.etag).toBe('"2"');
    expect(edited.body).toMatchObject({
      quote: 'corrected',
      stance: 'disputes',
      credibility: null,
      reliability: 'B',
      version: 2,
    });
    expect(edited.body.via.map((a: { name: string }) => a.name)).toEqual(['a friendly country']);
    const after = (await t.http.get(`/v1/events/${event.id}`).expect(200)).body as Event;
    expect(after.version).toBe(2);
    expect(after.reports.find((r) => r.id === report.id)?.quote).toBe('corrected');
    await expectProblem(t.http.patch(`/v1/reports/${report.id}`).set('if-match', '"1"').send({ quote: 'stale' }), 412);
  });

  it("withdraws a report (410 after), but never an event's last live report (422), and nothing changes then", async () => {
    const event = await createEvent({ reports: [reportBody({ quote: 'first' }), reportBody({ quote: 'second' })] });
    const [first, second] = event.reports;
    await t.http
      .delete(`/v1/reports/${first!.id}`)
      .set('if-match', '"1"')
      .send({ reason: 'misattributed' })
      .expect(204);
    expect((await expectProblem(t.http.get(`/v1/reports/${first!.id}`), 410)).reason).toBe('misattributed');
    const before = await t.rowCounts();
    await expectProblem(t.http.delete(`/v1/reports/${second!.id}`).set('if-match', '"1"'), 422);
    expect(await t.rowCounts()).toEqual(before);
    expect(
      (await t.http.get(`/v1/events/${event.id}`).expect(200)).body.reports.map((r: { quote: string }) => r.quote),
    ).toEqual(['second']);
  });
});

describe('PATCH /v1/actors/{id}', () => {
  it('renames an actor everywhere it is shown; each event showing it gets a new version', async () => {
    const name = `Agency ${unique()}`;
    const event = await createEvent({ reports: [reportBody({ reporter: { name, kind: 'agency' } })] });
    const actorId = (await t.http.get(`/v1/reports/${event.reports[0]!.id}`).expect(200)).body.reporter.id as string;
    await expectProblem(t.http.patch(`/v1/actors/${actorId}`).send({ name: 'x' }), 428);
    const renamed = await t.http
      .patch(`/v1/actors/${actorId}`)
      .set('if-match', await etag(`/v1/actors/${actorId}`))
      .send({ name: `${name} (renamed)`, aliases: ['ARN'], external_ids: { wikidata: 'Q1' } })
      .expect(200);
    expect(renamed.body).toMatchObject({
      name: `${name} (renamed)`,
      aliases: ['ARN'],
      external_ids: { wikidata: 'Q1' },
      version: 2,
    });
    const shown = (await t.http.get(`/v1/events/${event.id}`).expect(200)).body;
    expect(shown.version).toBe(2);
    expect(shown.reports[0].reporter.name).toBe(`${name} (renamed)`);
    expect(shown.reports[0].version).toBe(2);

    const removedKey = await t.http
      .patch(`/v1/actors/${actorId}`)
      .set('if-match', '"2"')
      .send({ external_ids: { wikidata: null } })
      .expect(200);
    expect(removedKey.body.external_ids).toEqual({});
    const other = (
      await t.http
        .post('/v1/actors')
        .send({ name: `Clash ${unique()}`, kind: 'agency' })
        .expect(201)
    ).body;
    const clash = await expectProblem(
      t.http.patch(`/v1/actors/${actorId}`).set('if-match', '"3"').send({ name: other.name.toUpperCase() }),
      409,
    );
    expect(clash.existing_id).toBe(other.id);
  });
});

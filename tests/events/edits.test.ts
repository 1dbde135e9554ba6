import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, expectProblem, unique } from '../helpers/fixtures.js';

interface Event {
  id: string;
  title: string;
  description: string | null;
  status: string;
  status_source: string;
  occurred: { start: string; end: string; precision: string };
  location: Record<string, unknown>;
  participants: { actor: { name: string }; role: string }[];
  figures: { measure: string; best: number | null }[];
  tags: string[];
  version: number;
  updated_at: string;
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
      .send(eventBody({ title: `Edit test ${unique()}`, ...overrides }))
      .expect(201)
  ).body;
}

const patch = (id: string, version: number | string, body: unknown) =>
  t.http
    .patch(`/v1/events/${id}`)
    .set('if-match', typeof version === 'number' ? `"${version}"` : version)
    .set('content-type', 'application/merge-patch+json')
    .send(JSON.stringify(body));

async function revisionCount(id: string): Promise<number> {
  const result = await t.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM revisions WHERE resource_id = $1`,
    [id],
  );
  return result.rows[0]!.n;
}

describe('PATCH /v1/events/{id}', () => {
  it('applies a merge patch: fields left out stay, null clears, objects merge, arrays are replaced', async () => {
    const event = await createEvent({
      description: 'first account',
      tags: ['a', 'b'],
      participants: [{ actor: { name: 'Ukrainian Special Operations Forces', kind: 'military' }, role: 'perpetrator' }],
      figures: [{ measure: 'captured', value: 1, qualifier: 'exact' }],
    });
    const response = await patch(event.id, event.version, {
      description: null,
      location: { admin2: 'Sudzha', lat: 51.19, lon: 35.27 },
      occurred: { end: '2024-12-27', precision: 'range' },
      tags: ['pow'],
      figures: [{ measure: 'captured', value: 2, qualifier: 'exact' }],
    }).expect(200);
    const edited: Event = response.body;
    expect(response.headers.etag).toBe('"2"');
    expect(edited.version).toBe(2);
    expect(edited.title).toBe(event.title);
    expect(edited.description).toBeNull();
    expect(edited.location).toMatchObject({
      admin1: 'Kursk Oblast',
      admin2: 'Sudzha',
      country: 'RUS',
      lat: 51.19,
      lon: 35.27,
    });
    expect(edited.occurred).toEqual({ start: '2024-12-26', end: '2024-12-27', precision: 'range' });
    expect(edited.tags).toEqual(['pow']);
    expect(edited.figures.map((f) => f.best)).toEqual([2]);
    expect(edited.participants.map((p) => p.actor.name)).toEqual(['Ukrainian Special Operations Forces']);
    expect(new Date(edited.updated_at).getTime()).toBeGreaterThan(new Date(event.updated_at).getTime());
    expect((await t.http.get(`/v1/events/${event.id}`).expect(200)).body).toEqual(edited);
  });

  it('accepts plain application/json too, and null location clears every location field', async () => {
    const event = await createEvent();
    const edited = (
      await t.http.patch(`/v1/events/${event.id}`).set('if-match', '"1"').send({ location: null }).expect(200)
    ).body as Event;
    expect(edited.location).toEqual({
      name: null,
      admin1: null,
      admin2: null,
      admin3: null,
      country: null,
      lat: null,
      lon: null,
      precision: 'unknown',
    });
  });

  it('location.admin3: set by POST, changed and kept by merge patches, cleared with null, like admin2', async () => {
    const event = await createEvent({
      location: {
        admin1: 'Kharkiv Oblast',
        admin2: 'Kharkivskyi',
        admin3: 'Kharkivska',
        country: 'UKR',
        precision: 'admin1',
      },
    });
    expect(event.location).toMatchObject({ admin2: 'Kharkivskyi', admin3: 'Kharkivska' });
    expect((await t.http.get(`/v1/events/${event.id}`).expect(200)).body.location.admin3).toBe('Kharkivska');

    const changed = (await patch(event.id, 1, { location: { admin3: '  Chuhuivska ' } }).expect(200)).body as Event;
    expect(changed.location).toMatchObject({ admin1: 'Kharkiv Oblast', admin2: 'Kharkivskyi', admin3: 'Chuhuivska' });
    const kept = (await patch(event.id, 2, { location: { admin2: 'Chuhuivskyi' } }).expect(200)).body as Event;
    expect(kept.location).toMatchObject({ admin2: 'Chuhuivskyi', admin3: 'Chuhuivska' });
    const cleared = (await patch(event.id, 3, { location: { admin3: null } }).expect(200)).body as Event;
    expect(cleared.location).toMatchObject({ admin2: 'Chuhuivskyi', admin3: null });
    expect((await t.http.get(`/v1/events/${event.id}`).expect(200)).body).toEqual(cleared);

    // The same rules as admin2: trimmed, 1 to 200 characters; a refused value changes nothing.
    const before = await t.rowCounts();
    for (const admin3 of ['', ' ', 'x'.repeat(201), 7]) {
      const problem = await expectProblem(patch(event.id, 4, { location: { admin3 } }), 400);
      expect(problem.errors?.map((e) => e.path)).toContain('/location/admin3');
      const posted = await expectProblem(
        t.http.post('/v1/events').send(eventBody({ location: { admin3, precision: 'unknown' } })),
        400,
      );
      expect(posted.errors?.map((e) => e.path)).toContain('/location/admin3');
    }
    expect(await t.rowCounts()).toEqual(before);
  });

  it('replaces participants, finding or creating actors by name', async () => {
    const name = `Unit ${unique()}`;
    const event = await createEvent();
    const edited = (
      await patch(event.id, 1, {
        participants: [
          { actor: { name, kind: 'unit' }, role: 'perpetrator' },
          { actor: { name: "Korean People's Army", kind: 'military' }, role: 'victim' },
        ],
      }).expect(200)
    ).body as Event;
    expect(edited.participants.map((p) => [p.actor.name, p.role])).toEqual([
      [name, 'perpetrator'],
      ["Korean People's Army", 'victim'],
    ]);
  });

  it('428 without If-Match, 412 with a stale one (naming the current version), and nothing changes', async () => {
    const event = await createEvent();
    await patch(event.id, 1, { title: 'Second title' }).expect(200);
    const before = await t.rowCounts();

    const missing = await expectProblem(t.http.patch(`/v1/events/${event.id}`).send({ title: 'x' }), 428);
    expect(missing.type).toBe('/problems/precondition-required');
    const stale = await patch(event.id, 1, { title: 'Third title' });
    const problem = await expectProblem(Promise.resolve(stale), 412);
    expect(problem.current_version).toBe(2);
    expect(stale.headers.etag).toBe('"2"');
    await expectProblem(patch(event.id, 'W/"2"', { title: 'weak tags never match' }), 412);

    expect(await t.rowCounts()).toEqual(before);
    expect((await t.http.get(`/v1/events/${event.id}`).expect(200)).body.title).toBe('Second title');
  });

  it('If-Match accepts a list of tags and *', async () => {
    const event = await createEvent();
    await patch(event.id, '"7", "1"', { title: 'listed' }).expect(200);
    await patch(event.id, '*', { title: 'any version' }).expect(200);
    expect((await t.http.get(`/v1/events/${event.id}`).expect(200)).headers.etag).toBe('"3"');
  });

  it('ten concurrent PATCHes with one ETag: exactly one wins, nine get 412', async () => {
    const event = await createEvent();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => patch(event.id, 1, { title: `Racer ${i}` })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(412)]);
    const winner = responses.find((r) => r.status === 200)!;
    const stored = (await t.http.get(`/v1/events/${event.id}`).expect(200)).body as Event;
    expect(stored.title).toBe(winner.body.title);
    expect(stored.version).toBe(2);
    expect(await revisionCount(event.id)).toBe(2);
  });

  it('304 for If-None-Match with the current ETag, 200 once the event changed', async () => {
    const event = await createEvent();
    await t.http.get(`/v1/events/${event.id}`).set('if-none-match', '"1"').expect(304);
    await patch(event.id, 1, { title: 'changed' }).expect(200);
    const fresh = await t.http.get(`/v1/events/${event.id}`).set('if-none-match', '"1"').expect(200);
    expect(fresh.headers.etag).toBe('"2"');
  });

  it('a rejected patch changes nothing: no rows, no revision, same version', async () => {
    const event = await createEvent();
    const before = await t.rowCounts();
    const cases: [unknown, number, string][] = [
      [{ title: null }, 400, '/title'],
      [{ occurred: { start: '2025-01-01' } }, 400, '/occurred/end'],
      [{ location: { lat: null } }, 400, '/location/lon'],
      [{ type: 'no_such_type' }, 400, '/type'],
      [{ unknown_field: 1 }, 400, ''],
      [
        { participants: [{ actor: { id: '0193f1a0-0000-7000-8000-00000000dead' }, role: 'victim' }] },
        400,
        '/participants/0/actor/id',
      ],
      [{ reports: [] }, 400, ''],
    ];
    for (const [body, status, path] of cases) {
      const problem = await expectProblem(patch(event.id, 1, body), status);
      if (path) expect(problem.errors?.map((e) => e.path)).toContain(path);
    }
    await expectProblem(
      t.http.patch(`/v1/events/${event.id}`).set('if-match', '"1"').set('content-type', 'text/plain').send('x'),
      415,
    );
    expect(await t.rowCounts()).toEqual(before);
    expect((await t.http.get(`/v1/events/${event.id}`).expect(200)).headers.etag).toBe('"1"');
  });

  it('404 for an unknown event, 410 for a deleted one', async () => {
    await expectProblem(patch('0193f1a0-0000-7000-8000-00000000dead', 1, { title: 'x' }), 404);
    const event = await createEvent();
    await t.http.delete(`/v1/events/${event.id}`).set('if-match', '"1"').expect(204);
    await expectProblem(patch(event.id, 2, { title: 'x' }), 410);
  });
});

describe('status from the evidence', () => {
  const agency = (name: string) => ({ name, kind: 'agency' });

  it('reported with one source; corroborated once a second, unrelated reporter asserts it; back when withdrawn', async () => {
    const event = await createEvent({ reports: [{ reporter: agency(`Agency ${unique()}`) }] });
    expect([event.status, event.status_source]).toEqual(['reported', 'evidence']);
    expect(event).toMatchObject({ report_count: 1, independent_reporter_count: 1 });

    const second = await t.http
      .post(`/v1/events/${event.id}/reports`)
      .send({ reporter: agency(`Outlet ${unique()}`) })
      .expect(201);
    const corroborated = (await t.http.get(`/v1/events/${event.id}`).expect(200)).body;
    expect(corroborated).toMatchObject({
      status: 'corroborated',
      report_count: 2,
      independent_reporter_count: 2,
      version: 2,
    });

    await t.http
      .delete(`/v1/reports/${second.body.id}`)
      .set('if-match', second.headers.etag as string)
      .expect(204);
    expect((await t.http.get(`/v1/events/${event.id}`).expect(200)).body).toMatchObject({
      status: 'reported',
      report_count: 1,
      version: 3,
    });
  });

  it('reports citing the same source, and denials, do not corroborate', async () => {
    const source = agency(`Source ${unique()}`);
    const event = await createEvent({
      reports: [
        { reporter: agency(`Paper ${unique()}`), via: [source] },
        { reporter: agency(`Wire ${unique()}`), via: [agency(`Ministry ${unique()}`), source] },
        { reporter: agency(`Belligerent ${unique()}`), stance: 'denies' },
      ],
    });
    expect(event).toMatchObject({ status: 'reported', report_count: 3, independent_reporter_count: 1 });
  });

  it("an editor's status stays whatever the reports; null hands it back to the evidence", async () => {
    const event = await createEvent({
      status: 'contested',
      reports: [{ reporter: agency(`A ${unique()}`) }, { reporter: agency(`B ${unique()}`) }],
    });
    expect([event.status, event.status_source]).toEqual(['contested', 'editor']);
    const derived = (await patch(event.id, 1, { status: null }).expect(200)).body as Event;
    expect([derived.status, derived.status_source]).toEqual(['corroborated', 'evidence']);
    const confirmed = (await patch(event.id, 2, { status: 'confirmed' }).expect(200)).body as Event;
    expect([confirmed.status, confirmed.status_source]).toEqual(['confirmed', 'editor']);
  });
});

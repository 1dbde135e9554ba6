// External ids of events: { source: id } written on POST and PATCH, served in the JSON, the
// revisions and every export, found by the external_id filter; a pair names one event only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEvents } from '../../src/modules/imports/import.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { deriveAfterRawWrites, eventBody, expectProblem, unique } from '../helpers/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

async function create(externalIds: Record<string, string> | undefined, overrides: Record<string, unknown> = {}) {
  return (
    await t.http
      .post('/v1/events')
      .send(eventBody({ ...(externalIds ? { external_ids: externalIds } : {}), ...overrides }))
      .expect(201)
  ).body as { id: string; version: number; external_ids: Record<string, string> };
}

const patch = (id: string, version: number, body: Record<string, unknown>) =>
  t.http
    .patch(`/v1/events/${id}`)
    .set('if-match', `"${version}"`)
    .set('content-type', 'application/merge-patch+json')
    .send(body);

describe('external_ids', () => {
  it('round trip: written on POST, served in GET, lists, NDJSON and CSV exports; {} when none', async () => {
    const acled = `NGA${unique()}`;
    const event = await create({ acled, ucdp: '1234' });
    expect(event.external_ids).toEqual({ acled, ucdp: '1234' });
    expect((await t.http.get(`/v1/events/${event.id}`).expect(200)).body.external_ids).toEqual({ acled, ucdp: '1234' });
    expect((await create(undefined)).external_ids).toEqual({});

    const listed = (await t.http.get(`/v1/events?external_id=acled:${acled}`).expect(200)).body.data;
    expect(listed.map((e: { id: string }) => e.id)).toEqual([event.id]);
    const ndjson = (await t.http.get(`/v1/events?external_id=acled:${acled}&format=ndjson`).expect(200)).text;
    expect(JSON.parse(ndjson.trim()).external_ids).toEqual({ acled, ucdp: '1234' });
    const csv = (await t.http.get(`/v1/events?external_id=acled:${acled}&format=csv`).expect(200)).text.split('\r\n');
    const column = csv[0]!.split(',').indexOf('external_ids');
    expect(column).toBeGreaterThan(0);
    expect(csv[1]).toContain(`acled:${acled}; ucdp:1234`);
  });

  it('409 naming the holder when another event has the pair; nothing is written', async () => {
    const acled = `NGA${unique()}`;
    const holder = await create({ acled });
    const before = await t.rowCounts();
    const problem = await expectProblem(
      t.http.post('/v1/events').send(eventBody({ external_ids: { acled, ucdp: unique() } })),
      409,
    );
    expect(problem.existing_id).toBe(holder.id);
    expect(problem.detail).toContain(holder.id);
    expect(problem.errors).toEqual([
      { path: '/external_ids/acled', in: 'body', message: `acled:${acled} belongs to the event ${holder.id}` },
    ]);
    expect(await t.rowCounts()).toEqual(before);
    // The same id in another source is another pair.
    await create({ ucdp: acled });
  });

  it('an import skips a line whose pair a racing writer took after the batch was checked, and writes the others', async () => {
    const [acled, other] = [`RACE${unique()}`, `RACE${unique()}`];
    const holder = await create(undefined);
    // The racer claims the pair in a transaction still open while the import checks its batch.
    const racer = await t.db.pool.connect();
    try {
      await racer.query('BEGIN');
      await racer.query(`INSERT INTO event_external_ids (source, external_id, event_id) VALUES ('acled', $1, $2)`, [
        acled,
        holder.id,
      ]);
      const lines = [
        eventBody({ title: 'Raced', external_ids: { acled } }),
        eventBody({ title: 'Not raced', external_ids: { acled: other } }),
      ];
      const importing = importEvents(
        t.db,
        'test-editor',
        (async function* () {
          for (const [i, value] of lines.entries()) yield { line: i + 1, value };
        })(),
        { atomic: false },
      );
      // The import's claim of the pair waits on the racer's uncommitted key.
      for (let i = 0; i < 100; i++) {
        const { rows } = await t.db.pool.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
        );
        if (rows[0]!.waiting > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await racer.query('COMMIT');
      expect(await importing).toEqual({ accepted: 1, rejected: 0, skipped: 1, errors: [] });
    } finally {
      racer.release();
    }
    await deriveAfterRawWrites(t.db.pool, [holder.id]);
    const found = async (id: string) =>
      (await t.http.get(`/v1/events?external_id=acled:${id}`).expect(200)).body.data.map(
        (e: { title: string; id: string }) => [e.id, e.title],
      );
    expect(await found(acled)).toEqual([[holder.id, expect.any(String)]]);
    expect(await found(other)).toEqual([[expect.any(String), 'Not raced']]);
  });

  it('PATCH merges source by source (null removes one, a new value replaces it), 409 on a clash', async () => {
    const [a, b] = [`A${unique()}`, `B${unique()}`];
    const event = await create({ acled: a, ucdp: '7' });
    const patched = (await patch(event.id, 1, { external_ids: { ucdp: null, gdelt: 'g1' } }).expect(200)).body;
    expect(patched.external_ids).toEqual({ acled: a, gdelt: 'g1' });
    const moved = (await patch(event.id, 2, { external_ids: { acled: b } }).expect(200)).body;
    expect(moved.external_ids).toEqual({ acled: b, gdelt: 'g1' });
    // The released id can be taken by another event; the taken one cannot.
    await create({ acled: a });
    const other = await create(undefined);
    const problem = await expectProblem(patch(other.id, 1, { external_ids: { acled: b } }), 409);
    expect(problem.existing_id).toBe(event.id);
    expect((await t.http.get(`/v1/events/${other.id}`).expect(200)).body.version).toBe(1);
    // Setting the pair the event has already is no clash.
    await patch(event.id, 3, { external_ids: { acled: b } }).expect(200);
  });

  it('is part of the revisions: state and changed_fields', async () => {
    const event = await create({ acled: `R${unique()}` });
    await patch(event.id, 1, { external_ids: { ucdp: 'u' } }).expect(200);
    await patch(event.id, 2, { title: 'Renamed' }).expect(200);
    const revisions = (await t.http.get(`/v1/events/${event.id}/revisions`).expect(200)).body.data;
    expect(revisions[0].changed_fields).toContain('external_ids');
    expect(revisions[1].changed_fields).toEqual(['external_ids']);
    expect(revisions[1].state.external_ids).toEqual({ acled: event.external_ids.acled, ucdp: 'u' });
    expect(revisions[2].changed_fields).toEqual(['title']);
  });

  it('a deleted event keeps its ids (a re-import does not bring it back); a merge hands them to the survivor', async () => {
    const [gone, dup, kept] = [`G${unique()}`, `D${unique()}`, `K${unique()}`];
    const deleted = await create({ acled: gone });
    await t.http.delete(`/v1/events/${deleted.id}`).set('if-match', '"1"').expect(204);
    const problem = await expectProblem(
      t.http.post('/v1/events').send(eventBody({ external_ids: { acled: gone } })),
      409,
    );
    expect(problem.existing_id).toBe(deleted.id);
    expect((await t.http.get(`/v1/events?external_id=acled:${gone}`).expect(200)).body.data).toEqual([]);
    expect(
      (await t.http.get(`/v1/events?external_id=acled:${gone}&include_deleted=true`).expect(200)).body.data,
    ).toHaveLength(1);

    const survivor = await create({ ucdp: kept });
    const duplicate = await create({ acled: dup, ucdp: `other-${kept}` });
    const merged = (
      await t.http
        .post(`/v1/events/${duplicate.id}/merge`)
        .set('if-match', '"1"')
        .send({ into: survivor.id })
        .expect(200)
    ).body;
    // acled moves (the survivor had none); ucdp stays with the duplicate (the survivor has its own).
    expect(merged.external_ids).toEqual({ acled: dup, ucdp: kept });
    const found = (await t.http.get(`/v1/events?external_id=acled:${dup}`).expect(200)).body.data;
    expect(found.map((e: { id: string }) => e.id)).toEqual([survivor.id]);
  });

  it('the filter takes several pairs (commas mean OR) and refuses a malformed one', async () => {
    const [x, y] = [`X${unique()}`, `Y${unique()}`];
    const one = await create({ acled: x });
    const two = await create({ ucdp: y });
    const listed = (
      await t.http.get(`/v1/events?external_id=acled:${x},ucdp:${y},acled:none&sort=-created`).expect(200)
    ).body.data;
    expect(listed.map((e: { id: string }) => e.id)).toEqual([two.id, one.id]);
    // An id may hold a colon: only the first one separates the source.
    const colon = await create({ gdelt: `a:b:${x}` });
    expect((await t.http.get(`/v1/events?external_id=gdelt:a:b:${x}`).expect(200)).body.data[0].id).toBe(colon.id);
    for (const bad of ['acled', 'ACLED:1', ':1', 'acled:']) {
      const problem = await expectProblem(t.http.get(`/v1/events?external_id=${encodeURIComponent(bad)}`), 400);
      expect(problem.errors?.[0]).toMatchObject({ path: '/external_id', in: 'query' });
    }
  });

  it('400 for a source that is not a lower-case name, a blank id or one with a comma', async () => {
    for (const [ids, path] of [
      [{ ACLED: '1' }, '/external_ids/ACLED'],
      [{ acled: ' ' }, '/external_ids/acled'],
      [{ acled: 'a,b' }, '/external_ids/acled'],
    ] as const) {
      const problem = await expectProblem(t.http.post('/v1/events').send(eventBody({ external_ids: ids })), 400);
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    }
  });
});

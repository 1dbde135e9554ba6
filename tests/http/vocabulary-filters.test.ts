// A mistyped vocabulary value in a filter is a 400 naming the value and the known ones, never an
// empty 200: on lists, exports, stats and the reports listing. Event types come from the stored
// vocabulary (admins extend it), the rest are fixed enums.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStatusSchema, ParticipantRoleSchema } from '../../src/modules/events/schemas.js';
import { MEASURES } from '../../src/modules/figures/schemas.js';
import { StanceSchema } from '../../src/modules/reports/schemas.js';
import { GROUP_KEYS } from '../../src/modules/stats/schemas.js';
import { eventBody, expectProblem, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.http.post('/v1/events').send(eventBody()).expect(201);
});
afterAll(async () => {
  await t.close();
});

const knownTypes = async () =>
  ((await t.http.get('/v1/event-types').expect(200)).body.data as { code: string }[]).map((e) => e.code);

/** The 400 of `path` must name `bad` under /`parameter` and list every one of `known`. */
async function expectUnknown(path: string, parameter: string, bad: string, known: readonly string[]) {
  expect(known.length).toBeGreaterThan(1);
  const problem = await expectProblem(t.http.get(path), 400);
  const violation = problem.errors?.find((e) => e.path === `/${parameter}`);
  expect(violation, JSON.stringify(problem)).toBeDefined();
  expect(violation!.in).toBe('query');
  expect(violation!.message).toContain(`"${bad}"`);
  for (const value of known) expect(violation!.message).toContain(value);
}

const PLACES = [
  '/v1/events?',
  '/v1/events?format=ndjson&',
  '/v1/events?format=csv&',
  '/v1/events?format=geojson&',
  '/v1/stats/events?',
  '/v1/stats/claims?measure=killed&',
];

describe('unknown vocabulary values in filters', () => {
  for (const place of PLACES) {
    it(`type on ${place}`, async () => {
      await expectUnknown(`${place}type=captur`, 'type', 'captur', await knownTypes());
      // One bad value among good ones is named alone.
      await expectUnknown(`${place}type=capture,strik`, 'type', 'strik', await knownTypes());
    });
    it(`status, role and stance on ${place}`, async () => {
      await expectUnknown(`${place}status=confrimed`, 'status', 'confrimed', EventStatusSchema.options);
      await expectUnknown(`${place}role=victm`, 'role', 'victm', ParticipantRoleSchema.options);
      await expectUnknown(`${place}stance=deny`, 'stance', 'deny', StanceSchema.options);
    });
  }

  it('measure and group_by on stats, stance on the reports listing', async () => {
    await expectUnknown('/v1/stats/events?measure=kiled', 'measure', 'kiled', MEASURES);
    await expectUnknown('/v1/stats/claims?measure=kiled', 'measure', 'kiled', MEASURES);
    await expectUnknown('/v1/stats/events?group_by=period,contry', 'group_by', 'contry', GROUP_KEYS);
    await expectUnknown('/v1/reports?stance=asserted', 'stance', 'asserted', StanceSchema.options);
  });

  it('a type an admin adds is known at once; known values still filter', async () => {
    const code = `t_${unique()}`;
    await t.as.admin
      .post('/v1/event-types')
      .send({ code, label: 'A new type', description: 'Added by an admin' })
      .expect((r) => expect([200, 201]).toContain(r.status));
    expect((await t.http.get(`/v1/events?type=${code}`).expect(200)).body.data).toEqual([]);
    expect(
      (await t.http.get('/v1/events?type=capture&status=reported,corroborated').expect(200)).body.data.length,
    ).toBeGreaterThan(0);
  });

  it('a type another instance adds is known at once, though this one has the vocabulary in memory; an unknown one stays a 400', async () => {
    // This instance has seen the vocabulary (it keeps the codes seen, which only grow).
    expect((await t.http.get('/v1/events?type=capture').expect(200)).body.data.length).toBeGreaterThan(0);
    const code = `t_${unique()}`;
    await expectUnknown(`/v1/events?type=capture,${code}`, 'type', code, await knownTypes());
    // Added behind this instance's back, as another instance of the service would.
    await t.db.pool.query(
      `INSERT INTO event_types (code, label, description) VALUES ($1, 'Added elsewhere', 'By another instance')`,
      [code],
    );
    const page = (await t.http.get(`/v1/events?type=capture,${code}`).expect(200)).body.data as { type: string }[];
    expect(page.length).toBeGreaterThan(0);
    expect(page.every((event) => event.type === 'capture')).toBe(true);
    await expectUnknown(`/v1/events?type=${code},captur`, 'type', 'captur', await knownTypes());
  });
});

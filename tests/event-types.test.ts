import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { expectProblem } from './helpers/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

/** The seeded vocabulary (the first migration), then ACLED's sub-event types (migration acled_event_types). */
const SEEDED = [
  'capture',
  'death',
  'deployment',
  'casualty_claim',
  'battle',
  'attack',
  'strike',
  'friendly_fire',
  'atrocity_allegation',
  'equipment_transfer',
  'prisoner_exchange',
  'statement',
  'other',
  'territory_regained',
  'territory_taken',
  'shelling',
  'explosive_device',
  'grenade',
  'suicide_bomb',
  'chemical_weapon',
  'abduction',
  'sexual_violence',
  'protest',
  'protest_intervention',
  'excessive_force',
  'riot',
  'mob_violence',
  'agreement',
  'arrest',
  'group_change',
  'weapons_disrupted',
  'base_established',
  'looting',
  'territory_transfer',
];

interface EventType {
  code: string;
  label: string;
  description: string;
  acled_event_type: string | null;
  acled_sub_event_type: string | null;
}

describe('GET /v1/event-types', () => {
  it('lists the seeded codes, each with a label and a description', async () => {
    const response = await t.http.get('/v1/event-types').expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const types: EventType[] = response.body.data;
    expect(types.map((type) => type.code).sort()).toEqual([...SEEDED].sort());
    for (const type of types) {
      expect(Object.keys(type).sort()).toEqual([
        'acled_event_type',
        'acled_sub_event_type',
        'code',
        'description',
        'label',
      ]);
      expect(type.label.trim()).not.toBe('');
      expect(type.description.trim()).not.toBe('');
      // ACLED's two columns go together: a sub-event type only under an event type.
      expect(type.acled_event_type === null).toBe(type.acled_sub_event_type === null);
    }
    expect(new Set(types.map((type) => type.label)).size).toBe(types.length);
  });

  it('maps strike to an ACLED type and sub-event type', async () => {
    const types: EventType[] = (await t.http.get('/v1/event-types').expect(200)).body.data;
    expect(types.find((type) => type.code === 'strike')).toMatchObject({
      label: 'Strike',
      acled_event_type: 'Explosions/Remote violence',
      acled_sub_event_type: 'Air/drone strike',
    });
    expect(types.find((type) => type.code === 'battle')).toMatchObject({
      acled_event_type: 'Battles',
      acled_sub_event_type: 'Armed clash',
    });
    expect(types.find((type) => type.code === 'capture')).toMatchObject({ label: 'Capture' });
  });

  it('lists the codes in a stable order', async () => {
    const first = (await t.http.get('/v1/event-types').expect(200)).body.data.map((type: EventType) => type.code);
    const second = (await t.http.get('/v1/event-types').expect(200)).body.data.map((type: EventType) => type.code);
    expect(second).toEqual(first);
    expect(first).toEqual([...first].sort());
  });

  it('is the vocabulary writes are checked against', async () => {
    const types: EventType[] = (await t.http.get('/v1/event-types').expect(200)).body.data;
    const problem = await expectProblem(
      t.http.post('/v1/events').send({
        type: 'skirmish',
        title: 'Unknown type',
        occurred: { start: '2024-12-26' },
        reports: [{ reporter: { name: 'Someone', kind: 'person' } }],
      }),
      400,
    );
    for (const type of types) expect(problem.errors![0]!.message).toContain(type.code);
  });
});

describe('POST /v1/event-types', () => {
  it('lets an admin extend the vocabulary; the new code is listed and accepted by writes', async () => {
    const body = { code: 'mine_incident', label: 'Mine incident', description: 'A landmine or naval mine going off.' };
    await expectProblem(t.http.post('/v1/event-types').send(body), 403);
    await expectProblem(t.anonymous.post('/v1/event-types').send(body), 401);
    const created = await t.as.admin.post('/v1/event-types').send(body).expect(201);
    expect(created.body).toEqual({ ...body, acled_event_type: null, acled_sub_event_type: null });
    await expectProblem(t.as.admin.post('/v1/event-types').send(body), 409);
    await expectProblem(t.as.admin.post('/v1/event-types').send({ ...body, code: 'Has Spaces' }), 400);
    const codes = ((await t.http.get('/v1/event-types').expect(200)).body.data as EventType[]).map((type) => type.code);
    expect(codes).toContain('mine_incident');
    await t.http
      .post('/v1/events')
      .send({
        type: 'mine_incident',
        title: 'A mine',
        occurred: { start: '2025-02-01' },
        reports: [{ reporter: { name: 'Someone', kind: 'person' } }],
      })
      .expect(201);
  });
});

// GET /v1/events?format=acled-csv: ACLED's codebook columns, in ACLED's order, for events
// written here; every mapping of docs/acled.md (types and the type= tag, time and geo
// precision, sides of participants, sources, fatalities, kept acled: tags) checked on
// values; the filters, the sort and pages apply as to every export.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBody, nextLink, postEvent, reportBody, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { exportAcled, type AcledRow } from './acled-helpers.js';

let t: TestApp;
const ids: Record<string, string> = {};
const run = unique();
const name = (text: string) => `${text} ${run}`;
const actor = (text: string, kind = 'group') => ({ name: name(text), kind });

async function post(key: string, body: Record<string, unknown>): Promise<void> {
  ids[key] = await postEvent(t.http, key, body);
}

const NOTES = 'Troops clashed at dawn, "heavily";\nthree were killed, by one count.';

beforeAll(async () => {
  t = await startTestApp();
  await post(
    'battle',
    eventBody({
      type: 'battle',
      title: 'A clash',
      description: NOTES,
      occurred: { start: '2025-01-10', precision: 'day' },
      location: {
        name: 'Sudzha',
        admin1: 'Kursk Oblast',
        admin2: 'Sudzhansky',
        admin3: 'Sudzhanskaya hromada',
        country: 'RUS',
        lat: 51.19,
        lon: 35.27,
        precision: 'exact',
      },
      participants: [
        { actor: actor('Supporting unit', 'unit'), role: 'supporter' },
        { actor: actor('First force', 'military'), role: 'perpetrator' },
        { actor: actor('Second force', 'military'), role: 'target' },
        { actor: actor('Civilians nearby'), role: 'victim' },
        { actor: actor('Sender state', 'state'), role: 'sender' },
      ],
      figures: [
        { measure: 'killed', low: 3, best: 5, high: 8 },
        { measure: 'wounded', value: 12, qualifier: 'exact' },
      ],
      reports: [
        reportBody({ reporter: actor('Outlet A', 'media') }),
        reportBody({ reporter: actor('Agency B', 'agency'), stance: 'denies' }),
        reportBody({ reporter: actor('Outlet A', 'media'), stated_at: '2025-01-11' }),
      ],
      tags: ['frontline', 'kursk'],
    }),
  );
  await post(
    'capture',
    eventBody({
      type: 'capture',
      title: 'Soldier captured, "reportedly"',
      occurred: { start: '2025-01-06', end: '2025-01-12', precision: 'week' },
      location: { admin1: 'Kursk Oblast', country: 'RUS', precision: 'near' },
      participants: [{ actor: actor('Captured soldier', 'person'), role: 'victim' }],
      reports: [reportBody({ reporter: actor('Outlet A', 'media') })],
    }),
  );
  await post(
    'deployment',
    eventBody({
      type: 'deployment',
      title: 'Troops deployed',
      description: 'Troops were sent.',
      occurred: { start: '2025-02-01', end: '2025-02-28', precision: 'month' },
      location: { admin1: 'Kursk Oblast', country: 'RUS', lat: 51.7, lon: 36.2, precision: 'admin1' },
      figures: [
        { measure: 'killed', value: 40, qualifier: 'approximately' },
        { measure: 'killed', value: 9, qualifier: 'at_most', subject: actor('Other side') },
      ],
      reports: [reportBody()],
      tags: ['type=battle'],
    }),
  );
  await post(
    'strike-year',
    eventBody({
      type: 'strike',
      description: 'A strike some time in 2024.',
      occurred: { start: '2024-01-01', end: '2024-12-31', precision: 'year' },
      location: { country: 'UKR', lat: 48.5, lon: 35, precision: 'country' },
      figures: [{ measure: 'killed', value: 0, qualifier: 'exact' }],
      reports: [reportBody()],
    }),
  );
  await post(
    'range-short',
    eventBody({
      type: 'prisoner_exchange',
      description: 'An exchange over three days.',
      occurred: { start: '2025-03-01', end: '2025-03-03', precision: 'range' },
      location: { name: 'Somewhere at sea', precision: 'water' },
      reports: [reportBody()],
    }),
  );
  await post(
    'range-one-day',
    eventBody({
      type: 'attack',
      description: 'An attack on one day given as a range.',
      occurred: { start: '2025-03-05', end: '2025-03-05', precision: 'range' },
      location: { admin2: 'Some district', country: 'UKR', lat: 47.1, lon: 37.5, precision: 'admin2' },
      reports: [reportBody()],
    }),
  );
  await post(
    'range-long',
    eventBody({
      type: 'other',
      description: 'Something over six weeks.',
      occurred: { start: '2025-03-01', end: '2025-04-15', precision: 'range' },
      location: { precision: 'unknown' },
      reports: [reportBody()],
    }),
  );
  // As an ACLED import leaves them: ACLED's types kept in acled: tags while the type is still the one read from them.
  await post(
    'kept-types',
    eventBody({
      type: 'other',
      description: 'A strategic development of ACLED type Other, kept from an ACLED import.',
      occurred: { start: '2025-04-02', precision: 'day' },
      reports: [reportBody()],
      tags: [
        'acled:event_type=Strategic developments',
        'acled:sub_event_type=Other',
        'acled:source_scale=New media-National',
        'crowd size=no report',
      ],
    }),
  );
  // Imported before the vocabulary had a type for shelling: still `other`, with the types kept.
  await post(
    'kept-before',
    eventBody({
      type: 'other',
      description: 'Shelling, kept from an ACLED import before the shelling type.',
      occurred: { start: '2025-04-02', precision: 'day' },
      reports: [reportBody()],
      tags: ['acled:event_type=Explosions/Remote violence', 'acled:sub_event_type=Shelling/artillery/missile attack'],
    }),
  );
  await post(
    'retyped',
    eventBody({
      type: 'battle',
      description: 'Shelling from an ACLED import, since retyped as a battle.',
      occurred: { start: '2025-04-03', precision: 'day' },
      reports: [reportBody()],
      tags: ['acled:event_type=Explosions/Remote violence', 'acled:sub_event_type=Shelling/artillery/missile attack'],
    }),
  );
});

afterAll(async () => {
  await t?.close();
});

async function rowsById(query = ''): Promise<Map<string, AcledRow>> {
  const { rows } = await exportAcled(t, query);
  return new Map(rows.map((row) => [row.event_id_cnty, row]));
}

describe('format=acled-csv', () => {
  it("writes ACLED's columns for an event: types, actors by side, sources once each, the conservative fatalities", async () => {
    const row = (await rowsById()).get(ids.battle!)!;
    const event = (await t.anonymous.get(`/v1/events/${ids.battle}`)).body;
    expect(row).toEqual({
      event_id_cnty: ids.battle,
      event_date: '2025-01-10',
      year: '2025',
      time_precision: '1',
      disorder_type: 'Political violence',
      event_type: 'Battles',
      sub_event_type: 'Armed clash',
      actor1: name('First force'),
      assoc_actor_1: `${name('Sender state')}; ${name('Supporting unit')}`,
      actor2: name('Second force'),
      assoc_actor_2: name('Civilians nearby'),
      iso: '643',
      country: 'Russia',
      admin1: 'Kursk Oblast',
      admin2: 'Sudzhansky',
      admin3: 'Sudzhanskaya hromada',
      location: 'Sudzha',
      latitude: '51.19',
      longitude: '35.27',
      geo_precision: '1',
      source: `${name('Outlet A')}; ${name('Agency B')}`,
      source_scale: '',
      notes: NOTES,
      fatalities: '3',
      tags: 'frontline; kursk',
      timestamp: String(Math.floor(Date.parse(event.updated_at) / 1000)),
    });
  });

  it('writes the type in a type= tag when ACLED types would not give it back, and the title when there is no description', async () => {
    const rows = await rowsById();
    const capture = rows.get(ids.capture!)!;
    expect([capture.event_type, capture.sub_event_type, capture.disorder_type]).toEqual(['', '', '']);
    expect(capture.tags).toBe('type=capture');
    expect(capture.notes).toBe('Soldier captured, "reportedly"');
    expect([capture.actor1, capture.assoc_actor_1, capture.actor2]).toEqual(['', '', name('Captured soldier')]);
    expect([capture.latitude, capture.longitude, capture.geo_precision, capture.location]).toEqual(['', '', '2', '']);
    expect(capture.fatalities).toBe('0');
    // Strategic developments / Other is a catch-all: the tag names our type; a tag that looks like one but is ours stays first.
    const deployment = rows.get(ids.deployment!)!;
    expect([deployment.event_type, deployment.sub_event_type, deployment.disorder_type]).toEqual([
      'Strategic developments',
      'Other',
      'Strategic developments',
    ]);
    expect(deployment.tags).toBe('type=battle; type=deployment');
    const exchange = rows.get(ids['range-short']!)!;
    expect([exchange.event_type, exchange.sub_event_type, exchange.tags]).toEqual([
      'Strategic developments',
      'Agreement',
      'type=prisoner_exchange',
    ]);
    // A type whose pair the vocabulary gives back needs no tag; nor does `other` without ACLED types.
    expect(rows.get(ids['strike-year']!)!.tags).toBe('');
    expect(rows.get(ids['range-long']!)!.tags).toBe('');
  });

  it('maps occurred to event_date and time_precision: the start, and the precision (a range by its length)', async () => {
    const rows = await rowsById();
    const dates = (key: string) => [
      rows.get(ids[key]!)!.event_date,
      rows.get(ids[key]!)!.time_precision,
      rows.get(ids[key]!)!.year,
    ];
    expect(dates('battle')).toEqual(['2025-01-10', '1', '2025']);
    expect(dates('capture')).toEqual(['2025-01-06', '2', '2025']);
    expect(dates('deployment')).toEqual(['2025-02-01', '3', '2025']);
    expect(dates('strike-year')).toEqual(['2024-01-01', '3', '2024']);
    expect(dates('range-short')).toEqual(['2025-03-01', '2', '2025']);
    expect(dates('range-one-day')).toEqual(['2025-03-05', '1', '2025']);
    expect(dates('range-long')).toEqual(['2025-03-01', '3', '2025']);
  });

  it('maps location precision to geo_precision, and the country to ISO numeric and name', async () => {
    const rows = await rowsById();
    const geo = (key: string) => rows.get(ids[key]!)!.geo_precision;
    expect([
      geo('battle'),
      geo('capture'),
      geo('range-one-day'),
      geo('deployment'),
      geo('strike-year'),
      geo('range-short'),
    ]).toEqual(['1', '2', '2', '3', '3', '3']);
    expect(geo('range-long')).toBe('');
    const ukraine = rows.get(ids['strike-year']!)!;
    expect([ukraine.iso, ukraine.country]).toEqual(['804', 'Ukraine']);
    const nowhere = rows.get(ids['range-short']!)!;
    expect([nowhere.iso, nowhere.country, nowhere.location]).toEqual(['', '', 'Somewhere at sea']);
  });

  it('sums the low (else best) of the curated killed figures; an upper bound alone or an exact 0 gives 0', async () => {
    const rows = await rowsById();
    expect(rows.get(ids.deployment!)!.fatalities).toBe('40');
    expect(rows.get(ids['strike-year']!)!.fatalities).toBe('0');
  });

  it('writes types and source_scale kept in acled: tags back to their columns while the type is the one read from them', async () => {
    const rows = await rowsById();
    const kept = rows.get(ids['kept-types']!)!;
    expect([kept.event_type, kept.sub_event_type, kept.disorder_type, kept.source_scale, kept.tags]).toEqual([
      'Strategic developments',
      'Other',
      'Strategic developments',
      'New media-National',
      'crowd size=no report',
    ]);
    // The vocabulary now reads these types as shelling, so the type= tag keeps the event's own.
    const before = rows.get(ids['kept-before']!)!;
    expect([before.event_type, before.sub_event_type, before.tags]).toEqual([
      'Explosions/Remote violence',
      'Shelling/artillery/missile attack',
      'type=other',
    ]);
    const retyped = rows.get(ids.retyped!)!;
    expect([retyped.event_type, retyped.sub_event_type, retyped.tags]).toEqual(['Battles', 'Armed clash', '']);
  });

  it('applies the filters and the sort, and pages with limit like every export', async () => {
    const battles = await rowsById('type=battle');
    expect([...battles.keys()].sort()).toEqual([ids.battle, ids.retyped].sort());
    const inUkraine = await rowsById('country=UKR&occurred_from=2024-06-01&occurred_to=2025-03-04');
    expect([...inUkraine.keys()]).toEqual([ids['strike-year']]);
    const tagged = await rowsById('tag=frontline');
    expect([...tagged.keys()]).toEqual([ids.battle]);
    const { rows: oldestFirst } = await exportAcled(t, 'sort=occurred');
    expect(oldestFirst.map((row) => row.event_id_cnty)).toEqual([
      ids['strike-year'],
      ids.capture,
      ids.battle,
      ids.deployment,
      ids['range-short'],
      ids['range-long'],
      ids['range-one-day'],
      ids['kept-types'],
      ids['kept-before'],
      ids.retyped,
    ]);
    const none = await exportAcled(t, 'type=death');
    expect(none.rows).toEqual([]);

    const first = await t.anonymous.get('/v1/events?format=acled-csv&sort=occurred&limit=2').buffer(true);
    expect(first.status).toBe(200);
    const next = nextLink(first.headers.link);
    expect(next).toContain('format=acled-csv');
    const second = await t.anonymous.get(new URL(next).pathname + new URL(next).search).buffer(true);
    const pageIds = [first.text, second.text].flatMap((text) =>
      text
        .split('\r\n')
        .slice(1, -1)
        .map((line) => line.split(',')[0]),
    );
    expect(pageIds).toEqual(oldestFirst.slice(0, 4).map((row) => row.event_id_cnty));
  });

  it('is chosen by format= only: Accept text/csv keeps the service CSV, and a bad filter is a 400', async () => {
    const csv = await t.anonymous.get('/v1/events').set('accept', 'text/csv').buffer(true);
    expect(csv.status).toBe(200);
    expect(csv.text.startsWith('id,type,status,')).toBe(true);
    const bad = await t.anonymous.get('/v1/events?format=acled-csv&occurred_from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
  });
});

// GET /v1/events filters (docs/data-model.md, Lists, filters and pages): each alone, combined with AND across
// parameters and OR within one, and their validation. Every event of every list
// response is parsed with EventSchema and compared with GET /v1/events/{id}: the
// list is PostgreSQL-built JSON sent without the schema serializer.
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSchema } from '../../src/modules/events/schemas.js';
import { actorBody, deriveAfterRawWrites, documentBody, eventBody, expectProblem } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Event = ReturnType<typeof EventSchema.parse>;

let t: TestApp;
/** Fixture events by name; every event of this file's database is one of them, and no test writes. */
const byKey = new Map<string, Event>();
const keyOfId = new Map<string, string>();
/** Actor and document ids by name. */
const ids: Record<string, string> = {};
/** An instant after every fixture was written and before one of them was touched. */
let touchedSince: string;

/** 100 km due north of (50, 30) along the meridian. */
const NORTH_LAT = 50 + (100 / 6371.0088) * (180 / Math.PI);

const report = (reporter: string, overrides: Record<string, unknown> = {}) => ({
  reporter: { id: ids[reporter] },
  reporter_role: 'unknown',
  stance: 'asserts',
  reliability: null,
  ...overrides,
});

function fixtures(): Record<string, Record<string, unknown>> {
  return {
    capture: {
      type: 'capture',
      status: 'reported',
      title: 'Capture of two North Korean soldiers',
      occurred: { start: '2024-12-26', precision: 'day' },
      location: { name: 'Sudzha', admin1: 'Kursk Oblast', country: 'RUS', lat: 51.6, lon: 36.1, precision: 'exact' },
      participants: [
        { actor: { id: ids.ukr }, role: 'perpetrator' },
        { actor: { id: ids.kpa }, role: 'victim' },
      ],
      figures: [{ measure: 'captured', value: 2, qualifier: 'exact' }],
      reports: [
        report('nis', {
          reliability: 'B',
          via: [{ id: ids.friend }, { id: ids.isw }],
          document: { id: ids.docA },
          quote: 'Two soldiers were taken prisoner',
          stated_at: '2024-12-27',
        }),
      ],
      tags: ['pow', 'north-korea'],
    },
    deploy: {
      type: 'deployment',
      status: 'corroborated',
      title: 'Troops sent to the border',
      description: 'Troops were stationed in garrisons near the front',
      occurred: { start: '2024-11-01', end: '2024-11-30', precision: 'month' },
      location: { admin1: 'Kursk Oblast', country: 'RUS', lat: 51.7, lon: 36.2, precision: 'admin1' },
      participants: [{ actor: { id: ids.kpa }, role: 'subject' }],
      reports: [
        report('nis', { reliability: 'A', document: { id: ids.docB } }),
        report('mod', { stance: 'denies', reliability: 'C', via: [{ id: ids.isw }] }),
      ],
      tags: ['north-korea'],
    },
    death: {
      type: 'death',
      status: 'confirmed',
      title: 'Crew killed in the north',
      description: 'Reported after the capture of a drone operator',
      occurred: { start: '2024-10-31', precision: 'day' },
      location: {
        admin1: 'Kharkiv Oblast',
        admin2: 'Kharkivskyi',
        admin3: 'Kharkivska',
        country: 'UKR',
        lat: 50.0,
        lon: 36.23,
        precision: 'admin1',
      },
      participants: [{ actor: { id: ids.ukr }, role: 'target' }],
      reports: [report('mod', { reliability: 'D', via: [{ id: ids.isw }], quote: 'The crew was ambushed at dawn' })],
      tags: ['drone'],
    },
    fiji: {
      type: 'strike',
      status: 'contested',
      title: 'Strike east of the antimeridian',
      occurred: { start: '2025-01-15' },
      location: { country: 'FJI', lat: -17, lon: 175, precision: 'near' },
      reports: [report('isw', { reliability: 'F' })],
      tags: ['pacific'],
    },
    samoa: {
      type: 'strike',
      status: 'discounted',
      title: 'Strike west of the antimeridian',
      occurred: { start: '2025-01-16' },
      location: { country: 'WSM', lat: -14, lon: -175, precision: 'near' },
      reports: [report('isw', { stance: 'unclear', reliability: 'E' })],
      tags: ['pacific'],
    },
    gulf: {
      type: 'other',
      status: 'retracted',
      title: 'Incident at sea',
      occurred: { start: '2025-01-17' },
      location: { name: 'Gulf of Guinea', lat: 0, lon: 0, precision: 'water' },
      reports: [report('friend', { stance: 'disputes' })],
    },
    kyiv: {
      type: 'attack',
      status: 'reported',
      title: 'Attack in the capital',
      occurred: { start: '2025-02-01' },
      location: { admin1: 'Kyiv', admin3: 'Kyivska', country: 'UKR', lat: 50, lon: 30, precision: 'exact' },
      reports: [report('isw', { reliability: 'C' })],
    },
    north: {
      type: 'attack',
      status: 'reported',
      title: 'Attack one hundred kilometres north',
      occurred: { start: '2025-02-01' },
      location: { admin1: 'Chernihiv Oblast', country: 'UKR', lat: NORTH_LAT, lon: 30, precision: 'exact' },
      reports: [report('isw')],
    },
    datelineEast: {
      type: 'other',
      status: 'reported',
      title: 'Sighting just west of the date line',
      occurred: { start: '2025-02-02' },
      location: { lat: 60, lon: 179.9, precision: 'exact' },
      reports: [report('isw')],
    },
    datelineFar: {
      type: 'other',
      status: 'reported',
      title: 'Sighting further west of the date line',
      occurred: { start: '2025-02-02' },
      location: { lat: 60, lon: 179.5, precision: 'exact' },
      reports: [report('isw')],
    },
    pole: {
      type: 'other',
      status: 'reported',
      title: 'Sighting near the pole',
      occurred: { start: '2025-02-03' },
      location: { lat: 89.5, lon: 0, precision: 'exact' },
      reports: [report('isw')],
    },
    nowhere: {
      type: 'statement',
      status: 'reported',
      title: 'Statement on prisoner swaps',
      occurred: { start: '2023-06-01' },
      location: undefined,
      reports: [
        report('nis', {
          reliability: 'B',
          via: [{ id: ids.friend }],
          quote: 'Soldiers captured last week were exchanged',
        }),
      ],
    },
    withdrawn: {
      type: 'other',
      status: 'reported',
      title: 'Event whose first report was withdrawn',
      occurred: { start: '2023-01-01' },
      location: undefined,
      reports: [
        report('nis', { reliability: 'A', quote: 'A narwhal was seen' }),
        report('mod', { quote: 'Nothing unusual' }),
      ],
    },
  };
}

beforeAll(async () => {
  t = await startTestApp();
  for (const [name, kind, country] of [
    ['ukr', 'military', 'UKR'],
    ['kpa', 'military', 'PRK'],
    ['nis', 'agency', 'KOR'],
    ['mod', 'agency', 'RUS'],
    ['isw', 'media', null],
    ['friend', 'group', null],
    ['late', 'media', null],
  ] as const) {
    ids[name] = (await t.http.post('/v1/actors').send(actorBody({ kind, country })).expect(201)).body.id;
  }
  ids.docA = (await t.http.post('/v1/documents').send(documentBody()).expect(201)).body.id;
  ids.docB = (await t.http.post('/v1/documents').send(documentBody()).expect(201)).body.id;

  for (const [key, body] of Object.entries(fixtures())) {
    const response = await t.http.post('/v1/events').send(eventBody(body)).expect(201);
    keyOfId.set(response.body.id, key);
  }
  // The narwhal report is withdrawn (there is no delete endpoint yet: SQL).
  const withdrawn = [...keyOfId].find(([, key]) => key === 'withdrawn')![0];
  await t.db.pool.query(`UPDATE reports SET deleted_at = now() WHERE event_id = $1 AND quote LIKE '%narwhal%'`, [
    withdrawn,
  ]);
  // What withdrawing a report does to the event's derived columns (there is no DELETE endpoint yet).
  await deriveAfterRawWrites(t.db.pool, [withdrawn]);

  // Adding a report moves one event's updated_at past touchedSince.
  await new Promise((resolve) => setTimeout(resolve, 20));
  touchedSince = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const gulf = [...keyOfId].find(([, key]) => key === 'gulf')![0];
  await t.http
    .post(`/v1/events/${gulf}/reports`)
    .send(report('late', { stance: 'unclear' }))
    .expect(201);

  for (const [id, key] of keyOfId) byKey.set(key, (await t.http.get(`/v1/events/${id}`).expect(200)).body);
});
afterAll(async () => {
  await t.close();
});

const ALL = () => [...byKey.keys()];

/** Checks a list response's events against EventSchema and against GET /v1/events/{id}; returns their names in order. */
function namesOf(response: Response): string[] {
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return (response.body.data as unknown[]).map((item) => {
    const event = EventSchema.parse(item);
    const key = keyOfId.get(event.id);
    if (!key) throw new Error(`the list returned an event that is not a fixture: ${event.id}`);
    expect(item).toEqual(byKey.get(key));
    return key;
  });
}

/** The names of the events matching a query string, in the order served (one page of up to 1000). */
async function names(query: string): Promise<string[]> {
  const response = await t.http.get(`/v1/events?limit=1000&${query}`).expect(200);
  expect(response.body.next_cursor).toBeNull();
  return namesOf(response);
}

/** The names matching a query, as a sorted set. */
async function matching(query: string): Promise<string[]> {
  return (await names(query)).sort();
}

const sorted = (list: string[]) => [...list].sort();

async function expectQueryProblem(query: string, path: string) {
  const problem = await expectProblem(t.http.get(`/v1/events?${query}`), 400);
  expect(problem.type).toBe('/problems/invalid-input');
  expect(problem.errors).toContainEqual(expect.objectContaining({ path, in: 'query' }));
  return problem;
}

describe('fixture sanity', () => {
  it('lists every fixture without filters, each valid and equal to its GET', async () => {
    expect(await matching('')).toEqual(sorted(ALL()));
    expect(byKey.get('withdrawn')!.reports).toHaveLength(1);
    expect(byKey.get('gulf')!.reports).toHaveLength(2);
  });
});

describe('type and status', () => {
  it('type: one code, commas and repeated parameters mean OR', async () => {
    expect(await matching('type=capture')).toEqual(['capture']);
    expect(await matching('type=strike,death')).toEqual(['death', 'fiji', 'samoa']);
    expect(await matching('type=strike&type=death')).toEqual(['death', 'fiji', 'samoa']);
    expect(await matching('type=prisoner_exchange')).toEqual([]);
  });

  it('status: one value, commas and repeated parameters mean OR', async () => {
    expect(await matching('status=contested')).toEqual(['fiji']);
    expect(await matching('status=confirmed,corroborated')).toEqual(['death', 'deploy']);
    expect(await matching('status=confirmed&status=corroborated&status=retracted')).toEqual([
      'death',
      'deploy',
      'gulf',
    ]);
  });

  it('AND across parameters', async () => {
    expect(await matching('type=strike&status=contested')).toEqual(['fiji']);
    expect(await matching('type=strike&status=confirmed')).toEqual([]);
    expect(await matching('type=attack,strike&status=reported,discounted')).toEqual(['kyiv', 'north', 'samoa']);
  });

  it('400 naming /status for an unknown status', async () => {
    await expectQueryProblem('status=rumoured', '/status');
    await expectQueryProblem('status=reported,rumoured', '/status');
  });
});

describe('occurred_from and occurred_to: interval overlap', () => {
  it('a month-long event matches a one-day window inside it', async () => {
    expect(await matching('occurred_from=2024-11-15&occurred_to=2024-11-15')).toEqual(['deploy']);
  });

  it('an event ending the day before the window does not match', async () => {
    // death is on 2024-10-31, the day before; deploy covers the whole window.
    expect(await matching('occurred_from=2024-11-01&occurred_to=2024-11-30')).toEqual(['deploy']);
    expect(await matching('occurred_from=2024-10-31&occurred_to=2024-10-31')).toEqual(['death']);
  });

  it('both bounds are inclusive', async () => {
    // deploy ends on the window's first day; capture starts on its last.
    expect(await matching('occurred_from=2024-11-30&occurred_to=2024-12-26')).toEqual(['capture', 'deploy']);
    expect(await matching('occurred_from=2024-11-30&occurred_to=2024-12-25')).toEqual(['deploy']);
    expect(await matching('occurred_from=2024-12-01&occurred_to=2024-12-26')).toEqual(['capture']);
  });

  it('an open-ended window: only occurred_from', async () => {
    const expected = ALL().filter((k) => byKey.get(k)!.occurred.end >= '2024-11-30');
    expect(expected).toContain('deploy');
    expect(expected).not.toContain('death');
    expect(await matching('occurred_from=2024-11-30')).toEqual(sorted(expected));
  });

  it('an open-ended window: only occurred_to', async () => {
    expect(await matching('occurred_to=2024-10-31')).toEqual(['death', 'nowhere', 'withdrawn']);
    expect(await matching('occurred_to=2024-11-01')).toEqual(['death', 'deploy', 'nowhere', 'withdrawn']);
  });

  it('400 naming /occurred_to when from is after to', async () => {
    const problem = await expectQueryProblem('occurred_from=2024-12-02&occurred_to=2024-12-01', '/occurred_to');
    expect(problem.errors).toHaveLength(1);
  });

  it.each([
    ['occurred_from=2024-13-01', '/occurred_from'],
    ['occurred_from=2024-02-30', '/occurred_from'],
    ['occurred_to=yesterday', '/occurred_to'],
    ['occurred_to=2024-12-26T00:00:00Z', '/occurred_to'],
  ])('400 for %s naming %s', async (query, path) => {
    await expectQueryProblem(query, path);
  });
});

describe('country and admin1', () => {
  it('country: one and several', async () => {
    expect(await matching('country=RUS')).toEqual(['capture', 'deploy']);
    expect(await matching('country=RUS,UKR')).toEqual(['capture', 'death', 'deploy', 'kyiv', 'north']);
    expect(await matching('country=RUS&country=FJI')).toEqual(['capture', 'deploy', 'fiji']);
  });

  it('admin1: exact names, OR within', async () => {
    expect(await matching('admin1=Kursk Oblast')).toEqual(['capture', 'deploy']);
    expect(await matching('admin1=Kursk Oblast,Kharkiv Oblast')).toEqual(['capture', 'death', 'deploy']);
    expect(await matching('admin1=Kursk')).toEqual([]);
  });

  it('admin3: exact names, OR within, AND with admin1', async () => {
    expect(await matching('admin3=Kharkivska')).toEqual(['death']);
    expect(await matching('admin3=Kharkivska,Kyivska')).toEqual(['death', 'kyiv']);
    expect(await matching('admin3=Kharkivska&admin3=Kyivska')).toEqual(['death', 'kyiv']);
    expect(await matching('admin3=Kharkiv')).toEqual([]);
    expect(await matching('admin1=Kyiv&admin3=Kharkivska,Kyivska')).toEqual(['kyiv']);
  });

  it('country and admin1 combine with AND', async () => {
    expect(await matching('country=UKR&admin1=Kursk Oblast')).toEqual([]);
    expect(await matching('country=UKR&admin1=Kyiv,Kursk Oblast')).toEqual(['kyiv']);
  });

  it('400 naming /country for a code that is not alpha-3', async () => {
    await expectQueryProblem('country=ru', '/country');
  });
});

describe('bbox', () => {
  it('matches events inside the box and leaves out those outside or without coordinates', async () => {
    expect(await matching('bbox=36,51,37,52')).toEqual(['capture', 'deploy']);
    expect(await matching('bbox=29,49,31,52')).toEqual(['kyiv', 'north']);
    const withCoordinates = ALL().filter((k) => byKey.get(k)!.location.lat !== null);
    expect(withCoordinates).not.toContain('nowhere');
    expect(await matching('bbox=-180,-90,180,90')).toEqual(sorted(withCoordinates));
  });

  it('edges are inclusive', async () => {
    // capture sits on the south-west corner, deploy on the north-east one.
    expect(await matching('bbox=36.1,51.6,36.2,51.7')).toEqual(['capture', 'deploy']);
    expect(await matching('bbox=36.11,51.6,36.2,51.69')).toEqual([]);
  });

  it('a box across the antimeridian (minLon > maxLon) matches lon 175 and -175, not 0', async () => {
    expect(await matching('bbox=170,-20,-170,20')).toEqual(['fiji', 'samoa']);
    // The same box the other way round is the rest of the world.
    const rest = await matching('bbox=-170,-20,170,20');
    expect(rest).toContain('gulf');
    expect(rest).not.toContain('fiji');
    expect(rest).not.toContain('samoa');
  });

  it('combines with other filters', async () => {
    expect(await matching('bbox=170,-20,-170,20&status=contested')).toEqual(['fiji']);
  });

  it.each([
    ['181,0,190,10', 'a longitude beyond 180'],
    ['0,-91,10,10', 'a latitude beyond -90'],
    ['0,0,10,91', 'a latitude beyond 90'],
    ['1,2,3', 'three numbers'],
    ['1,2,3,4,5', 'five numbers'],
    ['a,b,c,d', 'words'],
    ['0,10,10,0', 'minLat above maxLat'],
  ])('400 naming /bbox for %s (%s)', async (bbox) => {
    await expectQueryProblem(`bbox=${bbox}`, '/bbox');
  });
});

describe('near and radius_km (great-circle)', () => {
  it('a point 100 km away matches radius 150 and not 50', async () => {
    expect(await matching('near=50,30&radius_km=150')).toEqual(['kyiv', 'north']);
    expect(await matching('near=50,30&radius_km=50')).toEqual(['kyiv']);
    expect(await matching('near=50,30&radius_km=99')).toEqual(['kyiv']);
    expect(await matching('near=50,30&radius_km=101')).toEqual(['kyiv', 'north']);
  });

  it('near the antimeridian: distances are measured across it', async () => {
    // From lon -179.9, lon 179.9 is 0.2 degrees (11 km at lat 60) and 179.5 is 0.6 degrees (33 km).
    expect(await matching('near=60,-179.9&radius_km=20')).toEqual(['datelineEast']);
    expect(await matching('near=60,-179.9&radius_km=40')).toEqual(['datelineEast', 'datelineFar']);
    expect(await matching('near=60,179.9&radius_km=5')).toEqual(['datelineEast']);
  });

  it('near a pole: across the pole is one degree of latitude (111 km), whatever the longitudes', async () => {
    expect(await matching('near=89.5,180&radius_km=150')).toEqual(['pole']);
    expect(await matching('near=89.5,180&radius_km=100')).toEqual([]);
    expect(await matching('near=90,0&radius_km=60')).toEqual(['pole']);
  });

  it('combines with other filters', async () => {
    expect(await matching('near=50,30&radius_km=150&occurred_to=2025-01-31')).toEqual([]);
    expect(await matching('near=50,30&radius_km=150&admin1=Kyiv')).toEqual(['kyiv']);
  });

  it('400 naming /radius_km for near without radius_km', async () => {
    await expectQueryProblem('near=50,30', '/radius_km');
  });

  it('400 naming /near for radius_km without near', async () => {
    await expectQueryProblem('radius_km=10', '/near');
  });

  it.each([
    ['near=91,0&radius_km=10', '/near'],
    ['near=0,181&radius_km=10', '/near'],
    ['near=50&radius_km=10', '/near'],
    ['near=50,30&radius_km=0', '/radius_km'],
    ['near=50,30&radius_km=-5', '/radius_km'],
    ['near=50,30&radius_km=far', '/radius_km'],
  ])('400 for %s naming %s', async (query, path) => {
    await expectQueryProblem(query, path);
  });
});

describe('actor and role', () => {
  it('actor alone: events the actor takes part in, in any role', async () => {
    expect(await matching(`actor=${ids.ukr}`)).toEqual(['capture', 'death']);
    expect(await matching(`actor=${ids.kpa}`)).toEqual(['capture', 'deploy']);
    expect(await matching(`actor=${ids.ukr}&actor=${ids.kpa}`)).toEqual(['capture', 'death', 'deploy']);
  });

  it('role alone: events with a participant in that role', async () => {
    expect(await matching('role=victim')).toEqual(['capture']);
    expect(await matching('role=target,subject')).toEqual(['death', 'deploy']);
  });

  it('actor and role: that actor in that role (one and the same participant)', async () => {
    expect(await matching(`actor=${ids.kpa}&role=victim`)).toEqual(['capture']);
    // In capture ukr is the perpetrator and kpa the victim: no match for ukr as victim.
    expect(await matching(`actor=${ids.ukr}&role=victim`)).toEqual([]);
    expect(await matching(`actor=${ids.ukr},${ids.kpa}&role=subject,target`)).toEqual(['death', 'deploy']);
  });

  it('400 naming /actor for a bad uuid and /role for an unknown role', async () => {
    await expectQueryProblem('actor=ukr', '/actor');
    await expectQueryProblem('role=boss', '/role');
  });
});

describe('report filters', () => {
  it('reporter: events with a live report by that actor', async () => {
    // withdrawn's report by nis is deleted, so withdrawn is not nis's.
    expect(await matching(`reporter=${ids.nis}`)).toEqual(['capture', 'deploy', 'nowhere']);
    expect(await matching(`reporter=${ids.mod}`)).toEqual(['death', 'deploy', 'withdrawn']);
    expect(await matching(`reporter=${ids.nis}&reporter=${ids.friend}`)).toEqual([
      'capture',
      'deploy',
      'gulf',
      'nowhere',
    ]);
  });

  it('via: the actor anywhere in the chain', async () => {
    // isw is second in capture's chain, first in death's and in that of deploy's denial.
    expect(await matching(`via=${ids.isw}`)).toEqual(['capture', 'death', 'deploy']);
    expect(await matching(`via=${ids.friend}`)).toEqual(['capture', 'nowhere']);
    expect(await matching(`via=${ids.nis}`)).toEqual([]);
  });

  it('document', async () => {
    expect(await matching(`document=${ids.docA}`)).toEqual(['capture']);
    expect(await matching(`document=${ids.docA},${ids.docB}`)).toEqual(['capture', 'deploy']);
  });

  it('stance', async () => {
    expect(await matching('stance=denies')).toEqual(['deploy']);
    expect(await matching('stance=disputes,unclear')).toEqual(['gulf', 'samoa']);
    expect(await matching('stance=unclear')).toEqual(['gulf', 'samoa']);
  });

  it('min_reliability: A..F, graded that or better; F only with min_reliability=F; ungraded never', async () => {
    expect(await matching('min_reliability=A')).toEqual(['deploy']);
    expect(await matching('min_reliability=B')).toEqual(['capture', 'deploy', 'nowhere']);
    expect(await matching('min_reliability=C')).toEqual(['capture', 'deploy', 'kyiv', 'nowhere']);
    expect(await matching('min_reliability=D')).toEqual(['capture', 'death', 'deploy', 'kyiv', 'nowhere']);
    expect(await matching('min_reliability=E')).toEqual(['capture', 'death', 'deploy', 'kyiv', 'nowhere', 'samoa']);
    expect(await matching('min_reliability=F')).toEqual([
      'capture',
      'death',
      'deploy',
      'fiji',
      'kyiv',
      'nowhere',
      'samoa',
    ]);
  });

  it('the report filters hold for one and the same report', async () => {
    // deploy: nis asserts (A), mod denies (C). Nobody both is nis and denies.
    expect(await matching(`reporter=${ids.nis}&stance=denies`)).toEqual([]);
    expect(await matching(`reporter=${ids.mod}&stance=denies`)).toEqual(['deploy']);
    expect(await matching(`reporter=${ids.mod}&min_reliability=A`)).toEqual([]);
    expect(await matching(`reporter=${ids.nis}&min_reliability=A`)).toEqual(['deploy']);
    expect(await matching(`stance=denies&min_reliability=B`)).toEqual([]);
    expect(await matching(`document=${ids.docB}&reporter=${ids.mod}`)).toEqual([]);
    // capture's one report is by nis, via isw, in docA.
    expect(await matching(`reporter=${ids.nis}&via=${ids.isw}&document=${ids.docA}`)).toEqual(['capture']);
    expect(await matching(`reporter=${ids.mod}&via=${ids.isw}`)).toEqual(['death', 'deploy']);
    // deploy has a report by nis and one via isw, but not one by nis via isw.
    expect(await matching(`reporter=${ids.nis}&via=${ids.isw}`)).toEqual(['capture']);
    expect(await matching(`reporter=${ids.nis}&stance=denies,asserts&via=${ids.isw}`)).toEqual(['capture']);
  });

  it('a withdrawn (deleted) report counts for nothing', async () => {
    expect(await matching(`min_reliability=A&reporter=${ids.nis}`)).toEqual(['deploy']);
    expect(await matching('q=narwhal')).toEqual([]);
    expect(await matching('q=unusual')).toEqual(['withdrawn']);
  });

  it.each([
    ['reporter=not-a-uuid', '/reporter'],
    ['via=123', '/via'],
    ['document=0193f1a0-0000-7000-8000', '/document'],
    ['stance=agrees', '/stance'],
    ['min_reliability=G', '/min_reliability'],
    ['min_reliability=b', '/min_reliability'],
  ])('400 for %s naming %s', async (query, path) => {
    await expectQueryProblem(query, path);
  });
});

describe('q: full text', () => {
  it('searches titles, descriptions and report quotes with English stemming', async () => {
    // "captured" finds capture's title ("Capture"), death's description ("capture") and nowhere's quote ("captured").
    expect(await matching('q=captured')).toEqual(['capture', 'death', 'nowhere']);
    expect(await matching('q=garrison')).toEqual(['deploy']);
    expect(await matching('q=ambushed')).toEqual(['death']);
    expect(await matching('q=ambush')).toEqual(['death']);
    expect(await matching('q=xylophone')).toEqual([]);
  });

  it('web-search syntax: words are ANDed, quotes make a phrase, a minus excludes', async () => {
    expect(await matching('q=capture drone')).toEqual(['death']);
    expect(await matching('q=capture -drone')).toEqual(['capture', 'nowhere']);
    expect(await matching('q="prisoner swaps"')).toEqual(['nowhere']);
  });

  it('combines with other filters', async () => {
    expect(await matching('q=capture&type=capture,statement')).toEqual(['capture', 'nowhere']);
  });

  it('sort=relevance ranks a title match first, then a description match, then a match only in a report quote', async () => {
    // death was created after capture, so an order that fell back on the id alone would put it first.
    expect(await names('q=capture&sort=relevance')).toEqual(['capture', 'death', 'nowhere']);
  });

  it('sort=relevance: a cursor walk gives the same order, each event once', async () => {
    const whole = await names('q=capture&sort=relevance');
    const walked: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response: Response = await t.http
        .get('/v1/events')
        .query({ q: 'capture', sort: 'relevance', limit: 1, ...(cursor ? { cursor } : {}) })
        .expect(200);
      walked.push(...namesOf(response));
      cursor = response.body.next_cursor;
      if (!cursor) break;
    }
    expect(walked).toEqual(whole);
  });

  it('400 naming /sort for sort=relevance without q', async () => {
    await expectQueryProblem('sort=relevance', '/sort');
  });

  it('400 naming /q for an empty q', async () => {
    await expectQueryProblem('q=', '/q');
  });
});

describe('tag and updated_since', () => {
  it('tag: one, or several meaning OR', async () => {
    expect(await matching('tag=pow')).toEqual(['capture']);
    expect(await matching('tag=north-korea')).toEqual(['capture', 'deploy']);
    expect(await matching('tag=pow,drone')).toEqual(['capture', 'death']);
    expect(await matching('tag=pacific&tag=drone')).toEqual(['death', 'fiji', 'samoa']);
    expect(await matching('tag=pow&tag=pacific&type=strike')).toEqual(['fiji', 'samoa']);
  });

  it('updated_since: events changed at or after the instant', async () => {
    expect(await matching(`updated_since=${touchedSince}`)).toEqual(['gulf']);
    const gulf = byKey.get('gulf')!;
    expect(await matching(`updated_since=${gulf.updated_at}`)).toEqual(['gulf']);
    const justAfter = new Date(Date.parse(gulf.updated_at) + 1).toISOString();
    expect(await matching(`updated_since=${justAfter}`)).toEqual([]);
    expect(await matching('updated_since=2000-01-01T00:00:00Z')).toEqual(sorted(ALL()));
  });

  it('updated_since accepts an offset', async () => {
    const instant = new Date(touchedSince);
    const local = new Date(instant.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    expect(await matching(`updated_since=${encodeURIComponent(local)}`)).toEqual(['gulf']);
  });

  it('400 naming /updated_since for a date without a time', async () => {
    await expectQueryProblem('updated_since=2024-12-26', '/updated_since');
  });
});

describe('count', () => {
  it('count=true adds total, the number of matching events, whatever the limit and cursor', async () => {
    const first = await t.http.get('/v1/events?type=strike,attack&count=true&limit=1').expect(200);
    expect(first.body.total).toBe(4);
    expect(first.body.data).toHaveLength(1);
    const second = await t.http
      .get('/v1/events')
      .query({ type: 'strike,attack', count: 'true', limit: 1, cursor: first.body.next_cursor })
      .expect(200);
    expect(second.body.total).toBe(4);
    expect(namesOf(second)).toHaveLength(1);
    const all = await t.http.get('/v1/events?count=true').expect(200);
    expect(all.body.total).toBe(byKey.size);
    const none = await t.http.get('/v1/events?count=true&type=prisoner_exchange').expect(200);
    expect(none.body).toEqual({ data: [], next_cursor: null, total: 0 });
  });

  it('no total without count, nor with count=false', async () => {
    const plain = await t.http.get('/v1/events?type=strike').expect(200);
    expect(plain.body).not.toHaveProperty('total');
    const off = await t.http.get('/v1/events?type=strike&count=false').expect(200);
    expect(off.body).not.toHaveProperty('total');
  });

  it('400 naming /count for a value other than true or false', async () => {
    await expectQueryProblem('count=yes', '/count');
  });
});

describe('sorts over filtered results', () => {
  const keyOf: Record<string, (e: Event) => string> = {
    '-occurred': (e) => e.occurred.start,
    occurred: (e) => e.occurred.start,
    '-updated': (e) => e.updated_at,
    '-created': (e) => e.created_at,
  };

  /** The promised order: the sort key, then the id, both in the sort's direction. */
  function expectedOrder(sort: string, keys: string[]): string[] {
    const sign = sort.startsWith('-') ? -1 : 1;
    const cmp = (a: string, b: string) => (a < b ? -sign : a > b ? sign : 0);
    return [...keys].sort((a, b) => {
      const x = byKey.get(a)!;
      const y = byKey.get(b)!;
      return cmp(keyOf[sort]!(x), keyOf[sort]!(y)) || cmp(x.id, y.id);
    });
  }

  it('the default is -occurred', async () => {
    expect(await names('')).toEqual(expectedOrder('-occurred', ALL()));
    expect(await names('type=other,attack')).toEqual(
      expectedOrder('-occurred', ['gulf', 'kyiv', 'north', 'datelineEast', 'datelineFar', 'pole', 'withdrawn']),
    );
  });

  it.each(['-occurred', 'occurred', '-updated', '-created'])(
    'sort=%s orders by its key, then by id; pages of 2 give the same',
    async (sort) => {
      const subset = ALL().filter((k) => byKey.get(k)!.location.lat !== null);
      const whole = await names(`sort=${sort}&bbox=-180,-90,180,90`);
      expect(whole).toEqual(expectedOrder(sort, subset));
      const walked: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 20; page++) {
        const response: Response = await t.http
          .get('/v1/events')
          .query({ sort, bbox: '-180,-90,180,90', limit: 2, ...(cursor ? { cursor } : {}) })
          .expect(200);
        walked.push(...namesOf(response));
        cursor = response.body.next_cursor;
        if (!cursor) break;
      }
      expect(walked).toEqual(whole);
    },
  );

  it('ties on the occurred date are broken by id in the sort direction', async () => {
    // kyiv and north share 2025-02-01; datelineEast and datelineFar share 2025-02-02.
    const desc = await names('type=attack&sort=-occurred');
    const asc = await names('type=attack&sort=occurred');
    const [a, b] = [byKey.get('kyiv')!.id, byKey.get('north')!.id].sort();
    expect(desc.map((k) => byKey.get(k)!.id)).toEqual([b, a]);
    expect(asc.map((k) => byKey.get(k)!.id)).toEqual([a, b]);
  });

  it('400 naming /sort for an unknown sort', async () => {
    await expectQueryProblem('sort=title', '/sort');
    await expectQueryProblem('sort=-relevance', '/sort');
  });
});

describe('validation', () => {
  it.each([
    ['occurred_from=26-12-2024', '/occurred_from'],
    ['reporter=nis', '/reporter'],
    ['status=unknown', '/status'],
    ['sort=newest', '/sort'],
    ['limit=0', '/limit'],
    ['limit=1001', '/limit'],
    ['limit=abc', '/limit'],
    ['tag=', '/tag'],
  ])('%s is a 400 problem naming %s in the query', async (query, path) => {
    await expectQueryProblem(query, path);
  });

  it('names every invalid parameter at once', async () => {
    const problem = await expectQueryProblem('status=nope&occurred_from=never&limit=0', '/status');
    const paths = problem.errors!.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/status', '/occurred_from', '/limit']));
    expect(problem.errors!.every((e) => e.in === 'query')).toBe(true);
  });
});

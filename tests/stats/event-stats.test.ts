// GET /v1/stats/events against a reference: for each query, the events the list returns
// with the same filters, aggregated here in plain code. The queries cover the three
// sources the service reads (daily rollups, event_stats alone, events joined), so each
// must agree with the list. Then the null handling, fill, writes and bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBody, expectProblem, postEvent, reportBody, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

interface Figure {
  measure: string;
  low: number | null;
  best: number | null;
  high: number | null;
}
interface Actor {
  id: string;
  name: string;
}
interface Event {
  id: string;
  type: string;
  status: string;
  version: number;
  occurred: { start: string; end: string };
  location: { country: string | null; admin1: string | null; admin3: string | null };
  participants: { actor: Actor; role: string }[];
  figures: Figure[];
  reports: { reporter: Actor }[];
  report_count: number;
}
interface Sums {
  low: number | null;
  best: number | null;
  high: number | null;
  low_n: number;
  best_n: number;
  high_n: number;
}
interface Row {
  [key: string]: unknown;
  events: number;
  reports: number;
  figures: Record<string, Sums>;
}

let t: TestApp;
const tag = `stats-${unique()}`;

// A small deterministic generator, so the fixture has every combination without being written out.
let seed = 20261127;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const REPORTERS = [
  { name: `Ministry of Defence ${tag}`, kind: 'state', country: 'RUS' },
  { name: `Monitoring mission ${tag}`, kind: 'agency' },
  { name: `Wire service ${tag}`, kind: 'media' },
];
const PARTIES = [
  { name: `Army A ${tag}`, kind: 'military', country: 'RUS' },
  { name: `Army B ${tag}`, kind: 'military', country: 'UKR' },
];
const PLACES = [
  { country: 'UKR', admin1: 'Donetsk Oblast', admin3: 'Bakhmutska', lat: 48.0, lon: 37.8, precision: 'admin1' },
  { country: 'UKR', admin1: 'Kharkiv Oblast', admin3: 'Kharkivska', lat: 49.99, lon: 36.23, precision: 'admin1' },
  { country: 'RUS', admin1: 'Kursk Oblast', lat: 51.6, lon: 36.1, precision: 'admin1' },
  { country: 'RUS' },
  {},
];
/** Figures chosen so every bound is sometimes missing: sums must count only the bounds given. */
const FIGURE_CHOICES: Record<string, unknown>[][] = [
  [],
  [{ measure: 'killed', value: 3, qualifier: 'exact' }],
  [{ measure: 'killed', value: 10, qualifier: 'approximately' }],
  [{ measure: 'killed', low: 2, high: 9 }],
  [
    { measure: 'killed', value: 5, qualifier: 'at_least' },
    { measure: 'wounded', value: 12, qualifier: 'exact' },
  ],
  [{ measure: 'wounded', text: 'dozens' }],
  [
    { measure: 'killed', best: 4 },
    { measure: 'killed', low: 1, best: 2, high: 3 },
  ],
];

function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function fixtureBody(i: number) {
  const start = addDays('2024-01-01', Math.floor(random() * 540));
  const span = random() < 0.2 ? Math.floor(random() * 40) + 1 : 0;
  const reporters = REPORTERS.filter(() => random() < 0.5);
  if (reporters.length === 0) reporters.push(pick(REPORTERS));
  return eventBody({
    type: pick(['capture', 'strike', 'battle', 'death']),
    title: `Stats fixture ${i} ${tag}`,
    ...(random() < 0.3 ? { status: pick(['confirmed', 'contested']) } : {}),
    occurred: span ? { start, end: addDays(start, span), precision: 'range' } : { start, precision: 'day' },
    location: pick(PLACES),
    participants:
      random() < 0.7
        ? [
            { actor: PARTIES[0], role: 'perpetrator' },
            ...(random() < 0.5 ? [{ actor: PARTIES[1], role: 'target' }] : []),
          ]
        : [],
    figures: pick(FIGURE_CHOICES),
    tags: [tag, ...(random() < 0.5 ? ['front'] : [])],
    reports: reporters.flatMap((reporter) =>
      Array.from({ length: random() < 0.3 ? 2 : 1 }, () =>
        reportBody({ reporter, stance: pick(['asserts', 'asserts', 'denies']) }),
      ),
    ),
  });
}

/** Every event the list returns for the filters (as the stats must see them). */
async function listAll(query: string): Promise<Event[]> {
  const events: Event[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page += 1) {
    const response: { body: { data: Event[]; next_cursor: string | null } } = await t.http
      .get(`/v1/events?limit=1000&${query}${cursor ? `&cursor=${cursor}` : ''}`)
      .expect(200);
    events.push(...response.body.data);
    cursor = response.body.next_cursor;
    if (!cursor) return events;
  }
  throw new Error('more pages than expected');
}

// ------------------------------------------------------------ the reference

function periodOf(day: string, interval: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (interval === 'week') date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  if (interval === 'month') date.setUTCDate(1);
  if (interval === 'year') date.setUTCMonth(0, 1);
  return date.toISOString().slice(0, 10);
}

/** An event's sums per measure: each bound summed over its figures, null when none gives it. */
function eventFigureSums(event: Event): Map<string, { low: number | null; best: number | null; high: number | null }> {
  const sums = new Map<string, { low: number | null; best: number | null; high: number | null }>();
  for (const figure of event.figures) {
    const current = sums.get(figure.measure) ?? { low: null, best: null, high: null };
    for (const bound of ['low', 'best', 'high'] as const) {
      if (figure[bound] !== null) current[bound] = (current[bound] ?? 0) + figure[bound];
    }
    sums.set(figure.measure, current);
  }
  return sums;
}

/** The groups an event counts in, with the reports it adds to each. */
function memberships(
  event: Event,
  groups: string[],
  interval: string,
  roles?: string[],
): { keys: Record<string, unknown>; reports: number }[] {
  let out: { keys: Record<string, unknown>; reports: number }[] = [{ keys: {}, reports: event.report_count }];
  for (const group of groups) {
    const next: typeof out = [];
    for (const m of out) {
      if (group === 'period')
        next.push({ ...m, keys: { ...m.keys, period: periodOf(event.occurred.start, interval) } });
      if (group === 'type') next.push({ ...m, keys: { ...m.keys, type: event.type } });
      if (group === 'status') next.push({ ...m, keys: { ...m.keys, status: event.status } });
      if (group === 'country') next.push({ ...m, keys: { ...m.keys, country: event.location.country } });
      if (group === 'admin1') next.push({ ...m, keys: { ...m.keys, admin1: event.location.admin1 } });
      if (group === 'admin3') next.push({ ...m, keys: { ...m.keys, admin3: event.location.admin3 } });
      if (group === 'reporter') {
        const counts = new Map<string, number>();
        for (const report of event.reports) counts.set(report.reporter.id, (counts.get(report.reporter.id) ?? 0) + 1);
        for (const [id, reports] of counts) next.push({ keys: { ...m.keys, reporter: id }, reports });
      }
      if (group === 'actor') {
        const ids = new Set(event.participants.filter((p) => !roles || roles.includes(p.role)).map((p) => p.actor.id));
        for (const id of ids) next.push({ ...m, keys: { ...m.keys, actor: id } });
      }
    }
    out = next;
  }
  return out;
}

function expectedStats(events: Event[], groups: string[], interval = 'month', roles?: string[]): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const event of events) {
    for (const { keys, reports } of memberships(event, groups, interval, roles)) {
      const id = JSON.stringify(keys);
      const row = rows.get(id) ?? { ...keys, events: 0, reports: 0, figures: {} };
      row.events += 1;
      row.reports += reports;
      for (const [measure, sums] of eventFigureSums(event)) {
        const total = (row.figures[measure] ??= { low: null, best: null, high: null, low_n: 0, best_n: 0, high_n: 0 });
        for (const bound of ['low', 'best', 'high'] as const) {
          if (sums[bound] === null) continue;
          total[bound] = (total[bound] ?? 0) + sums[bound];
          total[`${bound}_n`] += 1;
        }
      }
      rows.set(id, row);
    }
  }
  return rows;
}

/** The service's rows keyed like the reference's (actor objects reduced to their ids). */
function byKeys(rows: Row[], groups: string[]): Map<string, Row> {
  return new Map(
    rows.map((row) => {
      const keys: Record<string, unknown> = {};
      for (const group of groups) {
        const value = row[group];
        keys[group] = group === 'reporter' || group === 'actor' ? (value as Actor).id : value;
      }
      return [JSON.stringify(keys), { ...row, ...keys }];
    }),
  );
}

async function expectStatsToMatchList(filters: string, groups: string[], interval?: string, roles?: string[]) {
  const events = await listAll(filters);
  const query = [filters, groups.length ? `group_by=${groups.join(',')}` : '', interval ? `interval=${interval}` : '']
    .filter(Boolean)
    .join('&');
  const response = await t.http.get(`/v1/stats/events?${query}`).expect(200);
  const expected = expectedStats(events, groups, interval, roles);
  if (groups.length === 0 && expected.size === 0) expected.set('{}', { events: 0, reports: 0, figures: {} });
  expect(byKeys(response.body.data, groups)).toEqual(expected);
  return { events, rows: response.body.data as Row[] };
}

beforeAll(async () => {
  t = await startTestApp();
  for (let i = 0; i < 45; i += 1) await t.http.post('/v1/events').send(fixtureBody(i)).expect(201);
});
afterAll(async () => {
  await t.close();
});

describe('GET /v1/stats/events agrees with the events the list returns', () => {
  // From the daily rollups: grouping by period and type, filtering by type and the occurred window.
  it.each([
    ['', ['period', 'type'], 'month'],
    ['', [], undefined],
    ['', ['type'], undefined],
    ['type=strike,capture', ['period'], 'year'],
    ['occurred_from=2024-06-10&occurred_to=2024-12-20', ['period', 'type'], 'week'],
    ['occurred_from=2024-03-01', ['type', 'period'], 'day'],
    ['occurred_to=2024-09-30&type=battle', ['period', 'type'], 'month'],
  ])('rollup shape: %s grouped by %j', async (filters, groups, interval) => {
    const { rows } = await expectStatsToMatchList(filters, groups, interval);
    expect(rows.length).toBeGreaterThan(0);
  });

  // From event_stats alone: the other columns it holds.
  it.each([
    ['', ['status', 'country']],
    ['status=confirmed,contested', ['admin1']],
    ['country=UKR&occurred_from=2024-05-01', ['period', 'status']],
    ['admin1=Kursk Oblast', ['type', 'country', 'admin1']],
    ['', ['admin3']],
    ['admin3=Bakhmutska,Kharkivska', ['admin1', 'admin3', 'type']],
  ])('event_stats shape: %s grouped by %j', async (filters, groups) => {
    await expectStatsToMatchList(filters.replace(' ', '%20'), groups, groups.includes('period') ? 'month' : undefined);
  });

  // Joined to the events: filters the stats rows do not hold, and reporter and actor groups.
  it.each([
    [`tag=front`, ['period', 'type'], undefined],
    [`tag=front&admin3=Kharkivska`, ['admin3', 'status'], undefined],
    [`q=fixture`, ['status'], undefined],
    ['bbox=30,45,40,55', ['country', 'type'], undefined],
    ['stance=denies', ['reporter'], undefined],
    ['', ['reporter', 'type'], undefined],
    ['', ['actor'], undefined],
    ['role=target', ['actor'], ['target']],
  ] as [string, string[], string[] | undefined][])('joined shape: %s grouped by %j', async (filters, groups, roles) => {
    await expectStatsToMatchList(filters, groups, undefined, roles);
  });

  it('counts an event that starts before the window and reaches into it, in the period of its start', async () => {
    const body = {
      ...fixtureBody(100),
      type: 'deployment',
      occurred: { start: '2023-11-20', end: '2024-02-10', precision: 'range' },
      figures: [{ measure: 'personnel', value: 1500, qualifier: 'approximately' }],
    };
    await t.http.post('/v1/events').send(body).expect(201);
    const { rows } = await expectStatsToMatchList('occurred_from=2024-02-01&occurred_to=2024-02-29&type=deployment', [
      'period',
      'type',
    ]);
    expect(rows).toEqual([
      {
        period: '2023-11-01',
        type: 'deployment',
        events: 1,
        reports: body.reports.length,
        figures: { personnel: { low: null, best: 1500, high: null, low_n: 0, best_n: 1, high_n: 0 } },
      },
    ]);
  });
});

describe('sums', () => {
  it('adds only the bounds given, counting the events that gave each', async () => {
    const type = 'prisoner_exchange';
    const bodies = [
      [{ measure: 'killed', value: 3, qualifier: 'exact' }],
      [{ measure: 'killed', low: 2, high: 9 }],
      [{ measure: 'killed', text: 'several' }],
      [],
    ];
    for (const figures of bodies) {
      await t.http
        .post('/v1/events')
        .send(eventBody({ type, title: `Sums ${unique()}`, occurred: { start: '2019-05-05' }, figures }))
        .expect(201);
    }
    const response = await t.http.get(`/v1/stats/events?type=${type}&group_by=type`).expect(200);
    expect(response.body.data).toEqual([
      {
        type,
        events: 4,
        reports: 4,
        // The event that only says "several" has the measure but no bound; the one without figures has neither.
        figures: { killed: { low: 5, best: 3, high: 12, low_n: 2, best_n: 1, high_n: 2 } },
      },
    ]);
    const killedOnly = await t.http.get(`/v1/stats/events?type=${type}&measure=wounded`).expect(200);
    expect(killedOnly.body.data).toEqual([{ events: 4, reports: 4, figures: {} }]);
  });

  it('answers one row of zeros when nothing matches', async () => {
    const response = await t.http.get('/v1/stats/events?occurred_from=1990-01-01&occurred_to=1990-12-31').expect(200);
    expect(response.body.data).toEqual([{ events: 0, reports: 0, figures: {} }]);
    const grouped = await t.http
      .get('/v1/stats/events?occurred_from=1990-01-01&occurred_to=1990-12-31&group_by=type')
      .expect(200);
    expect(grouped.body.data).toEqual([]);
  });
});

describe('fill', () => {
  it('adds the empty periods of the window with zeros, for every series', async () => {
    const query =
      'occurred_from=2024-01-01&occurred_to=2024-12-31&type=strike,battle&group_by=period,type&interval=month';
    const plain = (await t.http.get(`/v1/stats/events?${query}`).expect(200)).body.data as Row[];
    const filled = (await t.http.get(`/v1/stats/events?${query}&fill=true`).expect(200)).body.data as Row[];
    const types = [...new Set(plain.map((row) => row.type))].sort();
    expect(types.length).toBeGreaterThan(0);
    expect(filled).toHaveLength(12 * types.length);
    const months = Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, '0')}-01`);
    expect(filled.map((row) => [row.period, row.type])).toEqual(
      months.flatMap((month) => types.map((type) => [month, type])),
    );
    for (const row of filled) {
      const found = plain.find((p) => p.period === row.period && p.type === row.type);
      expect(row).toEqual(found ?? { period: row.period, type: row.type, events: 0, reports: 0, figures: {} });
    }
  });

  it('spans the periods found when the window is open, and weeks start on Monday', async () => {
    const type = 'friendly_fire';
    for (const start of ['2022-03-02', '2022-03-24']) {
      await t.http
        .post('/v1/events')
        .send(eventBody({ type, title: `Fill ${unique()}`, occurred: { start } }))
        .expect(201);
    }
    const response = await t.http
      .get(`/v1/stats/events?type=${type}&group_by=period&interval=week&fill=true`)
      .expect(200);
    // 2022-03-02 is a Wednesday: its week starts on Monday 2022-02-28; 2022-03-24 is in the week of 2022-03-21.
    expect(response.body.data.map((row: Row) => [row.period, row.events])).toEqual([
      ['2022-02-28', 1],
      ['2022-03-07', 0],
      ['2022-03-14', 0],
      ['2022-03-21', 1],
    ]);
  });

  it('with no event at all gives every period of the window with zeros', async () => {
    const response = await t.http
      .get('/v1/stats/events?occurred_from=1990-01-01&occurred_to=1992-06-30&group_by=period&interval=year&fill=true')
      .expect(200);
    expect(response.body.data).toEqual(
      ['1990', '1991', '1992'].map((y) => ({ period: `${y}-01-01`, events: 0, reports: 0, figures: {} })),
    );
  });
});

describe('writes change the stats at once', () => {
  it('follows a new report, a change of type and a deletion', async () => {
    const created = (
      await t.http
        .post('/v1/events')
        .send(
          eventBody({
            type: 'atrocity_allegation',
            title: `Writes ${unique()}`,
            occurred: { start: '2018-07-07' },
            figures: [{ measure: 'killed', value: 7, qualifier: 'exact' }],
          }),
        )
        .expect(201)
    ).body as Event;
    const stats = async (type: string) =>
      (
        await t.http
          .get(`/v1/stats/events?type=${type}&occurred_to=2018-12-31&group_by=period,type&interval=year`)
          .expect(200)
      ).body.data as Row[];
    expect(await stats('atrocity_allegation')).toEqual([
      {
        period: '2018-01-01',
        type: 'atrocity_allegation',
        events: 1,
        reports: 1,
        figures: { killed: { low: 7, best: 7, high: 7, low_n: 1, best_n: 1, high_n: 1 } },
      },
    ]);
    await t.http
      .post(`/v1/events/${created.id}/reports`)
      .send(reportBody({ stance: 'denies' }))
      .expect(201);
    expect((await stats('atrocity_allegation'))[0]).toMatchObject({ events: 1, reports: 2 });

    const current = (await t.http.get(`/v1/events/${created.id}`).expect(200)).body as Event;
    await t.http
      .patch(`/v1/events/${created.id}`)
      .set('if-match', `"${current.version}"`)
      .send({ type: 'attack', occurred: { start: '2018-08-08', end: '2018-08-08', precision: 'day' } })
      .expect(200);
    expect(await stats('atrocity_allegation')).toEqual([]);
    expect(await stats('attack')).toEqual([
      expect.objectContaining({ period: '2018-01-01', type: 'attack', events: 1, reports: 2 }),
    ]);

    const patched = (await t.http.get(`/v1/events/${created.id}`).expect(200)).body as Event;
    await t.http
      .delete(`/v1/events/${created.id}`)
      .set('if-match', `"${patched.version}"`)
      .send({ reason: 'duplicate' })
      .expect(204);
    expect(await stats('attack')).toEqual([]);
    const withDeleted = await t.http
      .get('/v1/stats/events?type=attack&occurred_to=2018-12-31&include_deleted=true')
      .expect(200);
    expect(withDeleted.body.data).toEqual([expect.objectContaining({ events: 1, reports: 2 })]);
  });
});

describe('group_by=admin3 follows the writes', () => {
  it('moves an event between admin3 groups as a patch changes and clears it', async () => {
    const id = await postEvent(
      t.http,
      'admin3',
      eventBody({
        type: 'statement',
        title: `Admin3 ${unique()}`,
        occurred: { start: '2017-03-03' },
        location: { admin1: 'Kharkiv Oblast', admin3: 'Iziumska', country: 'UKR', precision: 'admin1' },
      }),
    );
    const groups = async () =>
      (
        (await t.http.get('/v1/stats/events?type=statement&occurred_to=2017-12-31&group_by=admin3').expect(200)).body
          .data as Row[]
      ).map((row) => [row.admin3, row.events]);
    expect(await groups()).toEqual([['Iziumska', 1]]);
    const patch = (version: number, admin3: string | null) =>
      t.http.patch(`/v1/events/${id}`).set('if-match', `"${version}"`).send({ location: { admin3 } }).expect(200);
    await patch(1, 'Balakliiska');
    expect(await groups()).toEqual([['Balakliiska', 1]]);
    await patch(2, null);
    expect(await groups()).toEqual([[null, 1]]);
  });
});

describe('bad input', () => {
  it.each([
    ['group_by=period,period', '/group_by'],
    ['group_by=location', '/group_by'],
    ['interval=month', '/interval'],
    ['group_by=type&fill=true', '/fill'],
    ['group_by=period&interval=decade', '/interval'],
    ['measure=dead', '/measure'],
    ['occurred_from=2024-02-30', '/occurred_from'],
    ['sort=-occurred', '/sort'],
  ])('%s is a 400 naming %s', async (query, path) => {
    const problem = await expectProblem(t.http.get(`/v1/stats/events?${query}`), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it('refuses a fill that would give too many rows', async () => {
    const problem = await expectProblem(
      t.http.get(
        '/v1/stats/events?occurred_from=1900-01-01&occurred_to=2024-01-01&group_by=period&interval=day&fill=true',
      ),
      400,
    );
    expect(problem.errors?.[0]?.path).toBe('/fill');
  });
});

// GET /v1/reports: the report filters, stated_at bounds (a date includes its whole
// day, in UTC, whatever the database session's time zone), the sorts and a
// pagination walk. Every item is parsed with ReportSchema and compared with its GET.
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportSchema } from '../../src/modules/reports/schemas.js';
import { actorBody, documentBody, eventBody, expectProblem, nextLink } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Report = ReturnType<typeof ReportSchema.parse>;

let t: TestApp;
const ids: Record<string, string> = {};
/** Live reports by name (their quote); every live report of this file's database is one of them. */
const byName = new Map<string, Report>();
const nameOfId = new Map<string, string>();

const ref = (name: string) => ({ id: ids[name] });

beforeAll(async () => {
  t = await startTestApp();
  for (const name of ['alpha', 'beta', 'v1', 'v2']) {
    ids[name] = (await t.http.post('/v1/actors').send(actorBody()).expect(201)).body.id;
  }
  ids.d1 = (await t.http.post('/v1/documents').send(documentBody()).expect(201)).body.id;
  ids.d2 = (await t.http.post('/v1/documents').send(documentBody()).expect(201)).body.id;

  const report = (name: string, reporter: string, more: Record<string, unknown>) => ({
    reporter: ref(reporter),
    quote: name,
    stance: 'asserts',
    reliability: null,
    ...more,
  });
  const bodies = [
    [
      report('r1', 'alpha', {
        reliability: 'B',
        via: [ref('v1'), ref('v2')],
        document: ref('d1'),
        stated_at: '2024-12-27',
      }),
      report('r2', 'beta', { stance: 'denies', reliability: 'D', stated_at: '2024-12-27T23:30:00Z' }),
    ],
    [
      report('r3', 'alpha', {
        stance: 'disputes',
        reliability: 'F',
        document: ref('d2'),
        stated_at: '2024-12-28T00:00:00+00:00',
      }),
      report('r4', 'beta', { stance: 'unclear', via: [ref('v2')] }),
    ],
    [
      report('r5', 'alpha', { reliability: 'A', stated_at: '2024-12-26T12:00:00+02:00' }),
      report('withdrawn', 'alpha', {
        reliability: 'A',
        via: [ref('v1')],
        document: ref('d1'),
        stated_at: '2024-12-27',
      }),
    ],
  ];
  for (const reports of bodies) await t.http.post('/v1/events').send(eventBody({ reports })).expect(201);
  const { rows: withdrawn } = await t.db.pool.query<{ id: string; version: number }>(
    `SELECT id, version FROM reports WHERE quote = 'withdrawn'`,
  );
  for (const { id, version } of withdrawn) {
    await t.http.delete(`/v1/reports/${id}`).set('if-match', `"${version}"`).send({ reason: 'test' }).expect(204);
  }

  // A database whose default time zone is far from UTC: the service pins its sessions to UTC, so
  // date bounds still mean UTC days.
  const { rows: database } = await t.db.pool.query<{ name: string }>('SELECT current_database() AS name');
  await t.db.pool.query(`ALTER DATABASE ${database[0]!.name} SET timezone TO 'Pacific/Kiritimati'`);
  const idle = await Promise.all(Array.from({ length: t.db.pool.totalCount }, () => t.db.pool.connect()));
  for (const client of idle) client.release(true);
  const check = await t.db.pool.query<{ tz: string }>("SELECT current_setting('timezone') AS tz");
  expect(check.rows[0]!.tz).toBe('UTC');

  const { rows: live } = await t.db.pool.query<{ id: string; quote: string }>(
    'SELECT id, quote FROM reports WHERE deleted_at IS NULL',
  );
  for (const row of live) {
    nameOfId.set(row.id, row.quote);
    byName.set(row.quote, ReportSchema.parse((await t.http.get(`/v1/reports/${row.id}`).expect(200)).body));
  }
});
afterAll(async () => {
  await t.close();
});

/** Checks each item against ReportSchema and its GET; returns the names in the order served. */
function namesOf(response: Response): string[] {
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return (response.body.data as unknown[]).map((item) => {
    const report = ReportSchema.parse(item);
    const name = nameOfId.get(report.id);
    if (!name) throw new Error(`listed a report that is not a live fixture: ${report.id}`);
    expect(item).toEqual(byName.get(name));
    return name;
  });
}

async function matching(query: string): Promise<string[]> {
  const response = await t.http.get(`/v1/reports?limit=1000&${query}`).expect(200);
  expect(response.body.next_cursor).toBeNull();
  return namesOf(response).sort();
}

async function expectQueryProblem(query: string, path: string) {
  const problem = await expectProblem(t.http.get(`/v1/reports?${query}`), 400);
  expect(problem.errors).toContainEqual(expect.objectContaining({ path, in: 'query' }));
}

describe('GET /v1/reports filters', () => {
  it('without filters: every live report, a withdrawn one left out', async () => {
    expect(await matching('')).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(byName.get('r1')!.stated_at).toBe('2024-12-27');
    expect(byName.get('r5')!.stated_at).toBe('2024-12-26T10:00:00.000Z');
  });

  it('reporter: one, several, repeated', async () => {
    expect(await matching(`reporter=${ids.alpha}`)).toEqual(['r1', 'r3', 'r5']);
    expect(await matching(`reporter=${ids.beta}`)).toEqual(['r2', 'r4']);
    expect(await matching(`reporter=${ids.alpha},${ids.beta}`)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(await matching(`reporter=${ids.v1}`)).toEqual([]);
  });

  it('via: the actor anywhere in the chain', async () => {
    // v2 is second in r1's chain and first in r4's.
    expect(await matching(`via=${ids.v2}`)).toEqual(['r1', 'r4']);
    expect(await matching(`via=${ids.v1}`)).toEqual(['r1']);
  });

  it('document', async () => {
    expect(await matching(`document=${ids.d1}`)).toEqual(['r1']);
    expect(await matching(`document=${ids.d1}&document=${ids.d2}`)).toEqual(['r1', 'r3']);
  });

  it('stance', async () => {
    expect(await matching('stance=denies')).toEqual(['r2']);
    expect(await matching('stance=asserts,unclear')).toEqual(['r1', 'r4', 'r5']);
  });

  it('min_reliability: that grade or better; ungraded never', async () => {
    expect(await matching('min_reliability=A')).toEqual(['r5']);
    expect(await matching('min_reliability=B')).toEqual(['r1', 'r5']);
    expect(await matching('min_reliability=E')).toEqual(['r1', 'r2', 'r5']);
    expect(await matching('min_reliability=F')).toEqual(['r1', 'r2', 'r3', 'r5']);
  });

  it('filters combine with AND', async () => {
    expect(await matching(`reporter=${ids.alpha}&stance=disputes`)).toEqual(['r3']);
    expect(await matching(`reporter=${ids.beta}&min_reliability=B`)).toEqual([]);
    expect(await matching(`via=${ids.v2}&reporter=${ids.beta}`)).toEqual(['r4']);
  });
});

describe('stated_from and stated_to', () => {
  it('date bounds include the whole UTC day', async () => {
    // r1 is 2024-12-27 (midnight UTC), r2 2024-12-27T23:30Z, r3 2024-12-28T00:00Z, r5 2024-12-26T10:00Z; r4 has no date.
    expect(await matching('stated_from=2024-12-27')).toEqual(['r1', 'r2', 'r3']);
    expect(await matching('stated_to=2024-12-27')).toEqual(['r1', 'r2', 'r5']);
    expect(await matching('stated_from=2024-12-27&stated_to=2024-12-27')).toEqual(['r1', 'r2']);
    expect(await matching('stated_from=2024-12-26&stated_to=2024-12-26')).toEqual(['r5']);
    expect(await matching('stated_from=2024-12-28')).toEqual(['r3']);
  });

  it('date-time bounds are instants, inclusive', async () => {
    expect(await matching('stated_from=2024-12-27T23:30:00Z')).toEqual(['r2', 'r3']);
    expect(await matching('stated_from=2024-12-27T23:30:00.001Z')).toEqual(['r3']);
    expect(await matching('stated_to=2024-12-27T23:30:00Z')).toEqual(['r1', 'r2', 'r5']);
    expect(await matching('stated_to=2024-12-27T23:29:59Z')).toEqual(['r1', 'r5']);
  });

  it('date-time bounds with an offset', async () => {
    expect(await matching(`stated_to=${encodeURIComponent('2024-12-26T11:59:59+02:00')}`)).toEqual([]);
    expect(await matching(`stated_to=${encodeURIComponent('2024-12-26T12:00:00+02:00')}`)).toEqual(['r5']);
  });

  it('a date-time from and a date to on the same day: the window runs to the end of that day', async () => {
    expect(await matching('stated_from=2024-12-27T12:00:00Z&stated_to=2024-12-27')).toEqual(['r2']);
  });

  it('400 naming /stated_to when from is after to', async () => {
    await expectQueryProblem('stated_from=2024-12-28&stated_to=2024-12-27', '/stated_to');
    await expectQueryProblem('stated_from=2024-12-27T12:00:00Z&stated_to=2024-12-27T11:00:00Z', '/stated_to');
    await expectQueryProblem('stated_from=2024-12-28T00:00:00Z&stated_to=2024-12-27', '/stated_to');
  });

  it.each([
    ['stated_from=2024-13-01', '/stated_from'],
    ['stated_to=tomorrow', '/stated_to'],
    ['stated_from=2024-12-27T25:00:00Z', '/stated_from'],
  ])('400 for %s naming %s', async (query, path) => {
    await expectQueryProblem(query, path);
  });
});

describe('sorts and pagination', () => {
  const byId = (a: string, b: string) => (byName.get(a)!.id < byName.get(b)!.id ? -1 : 1);

  it('-created is the default: newest first; created is oldest first', async () => {
    const all = [...byName.keys()];
    const newestFirst = [...all].sort(byId).reverse();
    const first = await t.http.get('/v1/reports').expect(200);
    expect(namesOf(first)).toEqual(newestFirst);
    const explicit = await t.http.get('/v1/reports?sort=-created').expect(200);
    expect(namesOf(explicit)).toEqual(newestFirst);
    const oldest = await t.http.get('/v1/reports?sort=created').expect(200);
    expect(namesOf(oldest)).toEqual([...all].sort(byId));
    // Creation order is the order written: r1 first, r5 last.
    expect(namesOf(oldest)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it.each(['-created', 'created'])(
    'sort=%s: a walk with limit 2 gives every report exactly once, in order',
    async (sort) => {
      const walked: string[] = [];
      let path: string | null = `/v1/reports?sort=${sort}&limit=2`;
      for (let page = 0; path && page < 10; page++) {
        const response: Response = await t.http.get(path).expect(200);
        walked.push(...namesOf(response));
        if (response.body.next_cursor === null) {
          expect(response.headers.link).toBeUndefined();
          path = null;
        } else {
          expect(response.body.data).toHaveLength(2);
          const url = new URL(nextLink(response.headers.link));
          expect(url.searchParams.get('cursor')).toBe(response.body.next_cursor);
          path = url.pathname + url.search;
        }
      }
      const expected = ['r1', 'r2', 'r3', 'r4', 'r5'];
      expect(walked).toEqual(sort === 'created' ? expected : [...expected].reverse());
    },
  );

  it('a walk keeps the filters', async () => {
    const first = await t.http.get(`/v1/reports?reporter=${ids.alpha}&limit=2&sort=created`).expect(200);
    expect(namesOf(first)).toEqual(['r1', 'r3']);
    const second = await t.http.get(nextLink(first.headers.link).replace(/^https?:\/\/[^/]+/, '')).expect(200);
    expect(namesOf(second)).toEqual(['r5']);
    expect(second.body.next_cursor).toBeNull();
  });

  it('400 naming /sort for an unknown sort, /limit out of range', async () => {
    await expectQueryProblem('sort=stated', '/sort');
    await expectQueryProblem('limit=0', '/limit');
    await expectQueryProblem('limit=1001', '/limit');
  });

  it('400 naming /cursor for a cursor of another sort, another resource, or garbage', async () => {
    const created = await t.http.get('/v1/reports?sort=created&limit=2').expect(200);
    await expectQueryProblem(`sort=-created&cursor=${created.body.next_cursor}`, '/cursor');
    const events = await t.http.get('/v1/events?limit=1').expect(200);
    await expectQueryProblem(`cursor=${events.body.next_cursor}`, '/cursor');
    await expectQueryProblem('cursor=garbage', '/cursor');
    const shaped = Buffer.from(JSON.stringify(['-created', null, 'not-a-uuid'])).toString('base64url');
    await expectQueryProblem(`cursor=${shaped}`, '/cursor');
  });

  it.each([
    ['reporter=alpha', '/reporter'],
    ['via=1', '/via'],
    ['document=x', '/document'],
    ['stance=maybe', '/stance'],
    ['min_reliability=Z', '/min_reliability'],
    ['colour=red', '/colour'],
  ])('400 for %s naming %s', async (query, path) => {
    await expectQueryProblem(query, path);
  });
});

import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { cursorOf, eventBody, expectProblem, nextLink, reportBody, unique } from '../helpers/fixtures.js';

interface Event {
  id: string;
  type: string;
  title: string;
  occurred: { start: string };
  created_at: string;
  updated_at: string;
  version: number;
}

let t: TestApp;
/** Every event of this file's database, as created in beforeAll; no test writes events. */
let events: Event[];
/** The event whose updated_at was moved past every other's by adding a report. */
let touched: Event;

// Dates chosen so several events share a start date: the id must break those ties.
const FIXTURES: [type: string, start: string][] = [
  ['capture', '2024-12-26'],
  ['death', '2024-12-27'],
  ['capture', '2024-12-26'],
  ['strike', '2025-01-03'],
  ['battle', '2024-11-05'],
  ['capture', '2024-12-26'],
  ['death', '2025-01-03'],
  ['statement', '2024-10-01'],
  ['strike', '2024-12-31'],
];

beforeAll(async () => {
  t = await startTestApp();
  events = [];
  for (const [type, start] of FIXTURES) {
    const response = await t.http
      .post('/v1/events')
      .send(eventBody({ type, title: `${type} ${start} ${unique()}`, occurred: { start } }))
      .expect(201);
    events.push(response.body);
  }
  // The first event created gets a second report, so it is the most recently updated but not the most recently created.
  await t.http
    .post(`/v1/events/${events[0]!.id}/reports`)
    .send(reportBody({ stance: 'disputes' }))
    .expect(201);
  touched = (await t.http.get(`/v1/events/${events[0]!.id}`).expect(200)).body;
  events[0] = touched;
});
afterAll(async () => {
  await t.close();
});

const desc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);
const asc = (a: string, b: string) => -desc(a, b);

/** The order each sort promises: its key, then the id in the same direction. */
function expectedOrder(sort: string, subset: Event[] = events): string[] {
  const key: Record<string, (e: Event) => string> = {
    '-occurred': (e) => e.occurred.start,
    occurred: (e) => e.occurred.start,
    '-updated': (e) => e.updated_at,
    '-created': (e) => e.created_at,
  };
  const compare = sort.startsWith('-') ? desc : asc;
  return [...subset].sort((a, b) => compare(key[sort]!(a), key[sort]!(b)) || compare(a.id, b.id)).map((e) => e.id);
}

/** Follows next_cursor from the first page to the last, checking each page's envelope and Link header. */
async function walk(query: Record<string, string>) {
  const pages: Event[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const response: Response = await t.http
      .get('/v1/events')
      .query({ ...query, ...(cursor ? { cursor } : {}) })
      .expect(200);
    pages.push(response.body.data);
    cursor = response.body.next_cursor;
    if (cursor === null) {
      expect(response.headers.link).toBeUndefined();
      return pages;
    }
    expect(cursorOf(nextLink(response.headers.link))).toBe(cursor);
  }
  throw new Error('pagination did not end');
}

describe('GET /v1/events ordering', () => {
  it('sorts by -occurred by default: newest occurrence first, ties broken by id', async () => {
    const response = await t.http.get('/v1/events').expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const ids = response.body.data.map((e: Event) => e.id);
    expect(ids).toEqual(expectedOrder('-occurred'));
    // The fixtures really do contain ties, so the id order is exercised.
    const starts = response.body.data.map((e: Event) => e.occurred.start);
    expect(new Set(starts).size).toBeLessThan(starts.length);
    expect(starts[0]).toBe('2025-01-03');
    expect(starts.at(-1)).toBe('2024-10-01');
    expect(response.body.next_cursor).toBeNull();
    expect(response.headers.link).toBeUndefined();
  });

  it('gives the same order for an explicit sort=-occurred', async () => {
    const response = await t.http.get('/v1/events?sort=-occurred').expect(200);
    expect(response.body.data.map((e: Event) => e.id)).toEqual(expectedOrder('-occurred'));
  });

  it('sorts by occurred: oldest occurrence first', async () => {
    const response = await t.http.get('/v1/events?sort=occurred').expect(200);
    const ids = response.body.data.map((e: Event) => e.id);
    expect(ids).toEqual(expectedOrder('occurred'));
    expect(response.body.data[0].occurred.start).toBe('2024-10-01');
  });

  it('sorts by -updated: the event that just got a report comes first', async () => {
    const response = await t.http.get('/v1/events?sort=-updated').expect(200);
    const ids = response.body.data.map((e: Event) => e.id);
    expect(ids).toEqual(expectedOrder('-updated'));
    expect(ids[0]).toBe(touched.id);
    expect(touched.version).toBe(2);
  });

  it('sorts by -created: the last event created comes first, the touched one last', async () => {
    const response = await t.http.get('/v1/events?sort=-created').expect(200);
    const ids = response.body.data.map((e: Event) => e.id);
    expect(ids).toEqual(expectedOrder('-created'));
    expect(ids[0]).toBe(events.at(-1)!.id);
    expect(ids.at(-1)).toBe(touched.id);
  });

  it('400 for an unknown sort', async () => {
    const problem = await expectProblem(t.http.get('/v1/events?sort=title'), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/sort', in: 'query' }));
  });
});

describe('GET /v1/events filters', () => {
  it('filters by one type', async () => {
    const response = await t.http.get('/v1/events?type=capture').expect(200);
    const ids = response.body.data.map((e: Event) => e.id);
    const captures = events.filter((e) => e.type === 'capture');
    expect(captures).toHaveLength(3);
    expect(ids).toEqual(expectedOrder('-occurred', captures));
  });

  it('filters by several comma-separated types, combined with OR', async () => {
    const response = await t.http.get('/v1/events?type=death,strike').expect(200);
    const ids = response.body.data.map((e: Event) => e.id);
    const wanted = events.filter((e) => e.type === 'death' || e.type === 'strike');
    expect(wanted).toHaveLength(4);
    expect(ids).toEqual(expectedOrder('-occurred', wanted));
  });

  it('returns an empty page for a type no event has', async () => {
    const response = await t.http.get('/v1/events?type=prisoner_exchange').expect(200);
    expect(response.body).toEqual({ data: [], next_cursor: null });
  });

  it('400 for a malformed type list', async () => {
    const problem = await expectProblem(t.http.get('/v1/events?type=capture,,death'), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/type', in: 'query' }));
  });

  it('400 naming an unknown query parameter', async () => {
    const problem = await expectProblem(t.http.get('/v1/events?colour=red'), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/colour', in: 'query' }));
  });
});

describe('GET /v1/events limit', () => {
  it('accepts 1 and 1000', async () => {
    const one = await t.http.get('/v1/events?limit=1').expect(200);
    expect(one.body.data).toHaveLength(1);
    expect(one.body.next_cursor).toEqual(expect.any(String));
    const many = await t.http.get('/v1/events?limit=1000').expect(200);
    expect(many.body.data).toHaveLength(events.length);
    expect(many.body.next_cursor).toBeNull();
  });

  it.each(['0', '1001', '-1', '2.5', 'ten'])('400 naming /limit in the query for limit=%s', async (limit) => {
    const problem = await expectProblem(t.http.get(`/v1/events?limit=${limit}`), 400);
    expect(problem.type).toBe('/problems/invalid-input');
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/limit', in: 'query' }));
  });
});

describe('GET /v1/events keyset pagination', () => {
  it.each(['-occurred', 'occurred', '-updated', '-created'])(
    'walks every page of sort %s: each event once, in order',
    async (sort) => {
      const pages = await walk({ sort, limit: '2' });
      expect(pages).toHaveLength(Math.ceil(events.length / 2));
      for (const page of pages.slice(0, -1)) expect(page).toHaveLength(2);
      const ids = pages.flat().map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expectedOrder(sort));
    },
  );

  it('keeps the filters on every page', async () => {
    const pages = await walk({ type: 'capture,death', limit: '2' });
    const wanted = events.filter((e) => e.type === 'capture' || e.type === 'death');
    expect(pages.flat().map((e) => e.id)).toEqual(expectedOrder('-occurred', wanted));
    expect(pages.length).toBe(3);
  });

  it('a page that exactly ends the data still says next_cursor null on the page after', async () => {
    const first = await t.http.get(`/v1/events?limit=${events.length - 1}`).expect(200);
    const second = await t.http
      .get('/v1/events')
      .query({ limit: events.length - 1, cursor: first.body.next_cursor })
      .expect(200);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    const exact = await t.http.get(`/v1/events?limit=${events.length}`).expect(200);
    expect(exact.body.next_cursor).toBeNull();
  });

  it('gives a Link rel="next" header whose URL carries the cursor and the same filters, and following it gives the next page', async () => {
    const first = await t.http.get('/v1/events?type=capture,death,strike&sort=occurred&limit=2').expect(200);
    const link = nextLink(first.headers.link);
    const url = new URL(link);
    expect(url.pathname).toBe('/v1/events');
    expect(url.searchParams.get('cursor')).toBe(first.body.next_cursor);
    expect(url.searchParams.get('type')).toBe('capture,death,strike');
    expect(url.searchParams.get('sort')).toBe('occurred');
    expect(url.searchParams.get('limit')).toBe('2');

    const second = await t.http.get(url.pathname + url.search).expect(200);
    const wanted = expectedOrder(
      'occurred',
      events.filter((e) => ['capture', 'death', 'strike'].includes(e.type)),
    );
    expect(first.body.data.map((e: Event) => e.id)).toEqual(wanted.slice(0, 2));
    expect(second.body.data.map((e: Event) => e.id)).toEqual(wanted.slice(2, 4));

    // The second page's link replaces the cursor rather than adding a second one.
    const third = new URL(nextLink(second.headers.link));
    expect(third.searchParams.getAll('cursor')).toEqual([second.body.next_cursor]);
    expect(third.searchParams.get('type')).toBe('capture,death,strike');
  });
});

describe('GET /v1/events with a tampered cursor', () => {
  const b64 = (value: unknown) =>
    Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const someId = '0193f1a0-0000-7000-8000-000000000000';

  const cases: [string, () => string][] = [
    [
      'random base64url',
      () => Buffer.from(Array.from({ length: 24 }, (_, i) => (i * 37 + 11) % 256)).toString('base64url'),
    ],
    ['not base64url at all', () => '!!!not-a-cursor***'],
    ['base64url of plain text', () => b64('hello there')],
    ['an object instead of a tuple', () => b64({ sort: '-occurred', key: '2024-12-26', id: someId })],
    ['a tuple of the wrong length', () => b64(['-occurred', '2024-12-26'])],
    ['a key that is not a date', () => b64(['-occurred', 'yesterday', someId])],
    ['a key of the wrong type', () => b64(['-occurred', 20241226, someId])],
    ['an id that is not a uuid', () => b64(['-occurred', '2024-12-26', 'abc'])],
    ['an id that is SQL', () => b64(['-occurred', '2024-12-26', "x' OR 1=1 --"])],
    ['a date beyond what the database holds', () => b64(['-occurred', '+275760-09-13T00:00:00.000Z', someId])],
    ['a date before what the database holds', () => b64(['-occurred', '-271821-04-20T00:00:00.000Z', someId])],
    ['year zero, which the database does not have', () => b64(['-occurred', '0000-01-01', someId])],
    ['a day that does not exist', () => b64(['-occurred', '2024-02-30', someId])],
    ['a date-time key for a date sort', () => b64(['-occurred', '2024-12-26T00:00:00.000Z', someId])],
  ];

  it.each(cases)('400 problem+json naming /cursor for %s', async (_name, make) => {
    const problem = await expectProblem(t.http.get('/v1/events').query({ cursor: make() }), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/cursor', in: 'query' }));
  });

  it.each([
    ['a date key for a time sort', ['-created', '2024-12-26', someId]],
    ['a time key before what the database holds', ['-created', '-271821-04-20T00:00:00.000Z', someId]],
    ['a time key in another notation', ['-updated', 'Thu, 26 Dec 2024 10:00:00 GMT', someId]],
  ])('400 naming /cursor for %s', async (_name, tuple) => {
    const sort = tuple[0]!;
    const problem = await expectProblem(t.http.get('/v1/events').query({ sort, cursor: b64(tuple) }), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/cursor', in: 'query' }));
  });

  it('400 for a cursor issued for another sort', async () => {
    const first = await t.http.get('/v1/events?sort=-created&limit=2').expect(200);
    const problem = await expectProblem(
      t.http.get('/v1/events').query({ sort: '-updated', limit: 2, cursor: first.body.next_cursor }),
      400,
    );
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/cursor', in: 'query' }));
    // The default sort is -occurred: a -created cursor is not one of its cursors either.
    await expectProblem(t.http.get('/v1/events').query({ cursor: first.body.next_cursor }), 400);
  });

  it('400 for a cursor from another resource', async () => {
    await t.http
      .post('/v1/actors')
      .send({ name: `Cursor source A ${unique()}`, kind: 'group' })
      .expect(201);
    await t.http
      .post('/v1/actors')
      .send({ name: `Cursor source B ${unique()}`, kind: 'group' })
      .expect(201);
    const actors = await t.http.get('/v1/actors?limit=1').expect(200);
    expect(actors.body.next_cursor).toEqual(expect.any(String));
    await expectProblem(t.http.get('/v1/events').query({ cursor: actors.body.next_cursor }), 400);
  });

  it('400 for an empty cursor', async () => {
    const problem = await expectProblem(t.http.get('/v1/events?cursor='), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/cursor', in: 'query' }));
  });
});

describe('GET /v1/events/{id}', () => {
  it('returns one event with its ETag', async () => {
    const event = events[3]!;
    const response = await t.http.get(`/v1/events/${event.id}`).expect(200);
    expect(response.body).toEqual(event);
    expect(response.headers.etag).toBe(`"${event.version}"`);
  });

  it('404 problem+json for an unknown uuid', async () => {
    const id = '0193f1a0-0000-7000-8000-0000000000ff';
    const problem = await expectProblem(t.http.get(`/v1/events/${id}`), 404);
    expect(problem.type).toBe('/problems/not-found');
    expect(problem.instance).toBe(`/v1/events/${id}`);
  });

  it('400 naming /id in the path for an id that is not a uuid', async () => {
    const problem = await expectProblem(t.http.get('/v1/events/not-a-uuid'), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/id', in: 'path' }));
  });

  it('304 with no body for If-None-Match with the current ETag; 200 for another tag', async () => {
    const event = events[1]!;
    const etag = (await t.http.get(`/v1/events/${event.id}`).expect(200)).headers.etag as string;
    expect(etag).toBe('"1"');

    const notModified = await t.http.get(`/v1/events/${event.id}`).set('If-None-Match', etag).expect(304);
    expect(notModified.text ?? '').toBe('');
    expect(notModified.body).toEqual({});
    expect(notModified.headers.etag).toBe(etag);
    expect(notModified.headers['content-length'] ?? '0').toBe('0');

    // Among a list of tags, and weak-compared as RFC 9110 asks for If-None-Match.
    await t.http.get(`/v1/events/${event.id}`).set('If-None-Match', `"7", ${etag}`).expect(304);
    await t.http.get(`/v1/events/${event.id}`).set('If-None-Match', `W/${etag}`).expect(304);

    const other = await t.http.get(`/v1/events/${event.id}`).set('If-None-Match', '"2"').expect(200);
    expect(other.body.id).toBe(event.id);
  });

  it('an ETag goes stale when the event changes', async () => {
    // The touched event is at version 2 after its second report: version 1's tag no longer matches.
    const response = await t.http.get(`/v1/events/${touched.id}`).set('If-None-Match', '"1"').expect(200);
    expect(response.headers.etag).toBe('"2"');
    expect(response.body.reports).toHaveLength(2);
  });
});

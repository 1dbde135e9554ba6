// Keyset pagination of GET /v1/events: every event exactly once and in order, for
// every sort, also while events are inserted between page requests; and tampered
// cursors are 400 naming /cursor, never 500.
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSchema } from '../../src/modules/events/schemas.js';
import { eventBody, expectProblem, nextLink, cursorOf } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Event = ReturnType<typeof EventSchema.parse>;

let t: TestApp;
/** The tagged `base` events, as created in beforeAll; later inserts carry other tags. */
let base: Event[];

// Few dates for many events: most of them share their occurred date with others.
const DATES = ['2024-12-24', '2024-12-25', '2024-12-26', '2024-12-27', '2024-12-28'];
const SORTS = ['-occurred', 'occurred', '-updated', '-created'] as const;

async function create(start: string, tag: string): Promise<Event> {
  const response = await t.http
    .post('/v1/events')
    .send(eventBody({ title: `${tag} ${start}`, occurred: { start }, tags: [tag] }))
    .expect(201);
  return EventSchema.parse(response.body);
}

beforeAll(async () => {
  t = await startTestApp();
  base = [];
  for (let i = 0; i < 60; i++) base.push(await create(DATES[(i * 7) % DATES.length]!, 'base'));
});
afterAll(async () => {
  await t.close();
});

const keyOf: Record<(typeof SORTS)[number], (e: Event) => string> = {
  '-occurred': (e) => e.occurred.start,
  occurred: (e) => e.occurred.start,
  '-updated': (e) => e.updated_at,
  '-created': (e) => e.created_at,
};

/** Negative when a comes first in the sort's order: by its key, then by id, both in the sort's direction. */
function compare(sort: (typeof SORTS)[number], a: Event, b: Event): number {
  const sign = sort.startsWith('-') ? -1 : 1;
  const cmp = (x: string, y: string) => (x < y ? -sign : x > y ? sign : 0);
  return cmp(keyOf[sort](a), keyOf[sort](b)) || cmp(a.id, b.id);
}

function expectedOrder(sort: (typeof SORTS)[number], events: Event[]): string[] {
  return [...events].sort((a, b) => compare(sort, a, b)).map((e) => e.id);
}

/**
 * Walks every page of `query`, checking each page's size, envelope, Link header and
 * events; `between` runs after each page. Returns the ids in the order served.
 */
async function walk(
  query: Record<string, string | number>,
  limit: number,
  between?: (page: number, served: string[]) => Promise<void>,
) {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page++) {
    const response: Response = await t.http
      .get('/v1/events')
      .query({ ...query, limit, ...(cursor ? { cursor } : {}) })
      .expect(200);
    const data = response.body.data as unknown[];
    for (const item of data) ids.push(EventSchema.parse(item).id);
    cursor = response.body.next_cursor;
    if (cursor === null) {
      expect(response.headers.link).toBeUndefined();
      return ids;
    }
    expect(data).toHaveLength(limit);
    expect(cursorOf(nextLink(response.headers.link))).toBe(cursor);
    await between?.(page, ids);
  }
  throw new Error('the walk did not end');
}

describe('keyset walk over a stable data set', () => {
  it('the data has many ties on the occurred date', () => {
    const perDate = DATES.map((d) => base.filter((e) => e.occurred.start === d).length);
    expect(perDate.every((n) => n >= 10)).toBe(true);
  });

  it.each(SORTS)(
    'sort=%s with limit 7: every event exactly once, in the order of the key then the id',
    async (sort) => {
      const ids = await walk({ sort, tag: 'base' }, 7);
      expect(ids).toHaveLength(60);
      expect(new Set(ids).size).toBe(60);
      expect(ids).toEqual(expectedOrder(sort, base));
    },
  );

  it('the default sort walks like sort=-occurred', async () => {
    expect(await walk({ tag: 'base' }, 7)).toEqual(expectedOrder('-occurred', base));
  });

  it('a walk with filters keeps them on every page', async () => {
    const subset = base.filter((e) => e.occurred.start >= '2024-12-26');
    const ids = await walk({ sort: 'occurred', tag: 'base', occurred_from: '2024-12-26' }, 7);
    expect(ids).toEqual(expectedOrder('occurred', subset));
  });
});

describe('keyset walk while events are inserted between pages', () => {
  it.each(SORTS)('sort=%s: every event that existed at the start appears exactly once', async (sort) => {
    const tag = `late${sort.replace('-', '_')}`;
    const startSet = [...base];
    const known = new Map(startSet.map((e) => [e.id, e]));
    /** Each insert, with whether it sorts after the last event served when it was made. */
    const inserted: { event: Event; afterCursor: boolean }[] = [];
    const ids = await walk({ sort, tag: `base,${tag}` }, 7, async (_page, served) => {
      const last = known.get(served.at(-1)!)!;
      // Dates before, among and after the existing ones, so for the date sorts some
      // inserts sort before the cursor position and some after it.
      for (const start of ['2024-12-01', DATES[served.length % DATES.length]!, '2025-01-31']) {
        const event = await create(start, tag);
        known.set(event.id, event);
        inserted.push({ event, afterCursor: compare(sort, event, last) > 0 });
      }
    });
    expect(new Set(ids).size).toBe(ids.length);
    const seen = new Set(ids);
    for (const event of startSet) expect(seen.has(event.id)).toBe(true);
    // Keyset semantics: an insert is served exactly when it sorts after the position the walk had reached.
    for (const { event, afterCursor } of inserted) expect(seen.has(event.id)).toBe(afterCursor);
    // And what was served is in the sort's order.
    expect(ids).toEqual(
      expectedOrder(
        sort,
        ids.map((id) => known.get(id)!),
      ),
    );
    const after = inserted.filter((i) => i.afterCursor).length;
    if (sort === '-occurred' || sort === 'occurred') {
      // The test exercises both sides of the cursor.
      expect(after).toBeGreaterThan(0);
      expect(after).toBeLessThan(inserted.length);
    } else {
      // Newer than everything, each insert sorts before the cursor.
      expect(after).toBe(0);
      expect(ids).toEqual(expectedOrder(sort, startSet));
    }
  });
});

describe('tampered cursors', () => {
  const b64 = (value: unknown) =>
    Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const someId = '0193f1a0-0000-7000-8000-000000000001';

  async function expectCursorProblem(query: Record<string, string | number>) {
    const problem = await expectProblem(t.http.get('/v1/events').query(query), 400);
    expect(problem.type).toBe('/problems/invalid-input');
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/cursor', in: 'query' }));
  }

  it.each([
    ['random text', 'this is not a cursor at all'],
    ['random base64url bytes', Buffer.from('\u0000\u00ff\u0010garbage\u0001').toString('base64url')],
    ['base64url JSON: a number', b64(42)],
    ['base64url JSON: null', b64(null)],
    ['base64url JSON: an object', b64({ sort: '-occurred', key: '2024-12-26', id: someId })],
    ['base64url JSON: an empty array', b64([])],
    ['base64url JSON: four items', b64(['-occurred', '2024-12-26', someId, 'extra'])],
    ['base64url JSON: a null key', b64(['-occurred', null, someId])],
    ['base64url JSON: a nested key', b64(['-occurred', ['2024-12-26'], someId])],
    ['an impossible date', b64(['-occurred', '2024-02-30', someId])],
    ['month 13', b64(['-occurred', '2024-13-01', someId])],
    ['a date out of the database range', b64(['-occurred', '99999-01-01', someId])],
    ['an id that is not a uuid', b64(['-occurred', '2024-12-26', 'not-a-uuid'])],
  ])('400 for %s', async (_name, cursor) => {
    await expectCursorProblem({ cursor, limit: 7 });
  });

  it.each([
    ['-created', '2024-02-30T00:00:00.000Z'],
    ['-updated', '2024-12-26T25:00:00.000Z'],
    ['-updated', '2024-12-26'],
    ['occurred', '2024-12-26T00:00:00.000Z'],
  ])('400 for sort=%s with an impossible key %s', async (sort, key) => {
    await expectCursorProblem({ sort, cursor: b64([sort, key, someId]) });
  });

  it('400 for a relevance cursor whose key is not a number', async () => {
    await expectCursorProblem({ q: 'captured', sort: 'relevance', cursor: b64(['relevance', 'high', someId]) });
    await expectCursorProblem({ q: 'captured', sort: 'relevance', cursor: b64(['relevance', 0.5, someId]) });
  });

  it.each(SORTS.flatMap((from) => SORTS.filter((to) => to !== from).map((to) => [from, to])))(
    'a cursor issued for sort=%s is refused for sort=%s',
    async (from, to) => {
      const first = await t.http.get('/v1/events').query({ sort: from, limit: 7 }).expect(200);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      await expectCursorProblem({ sort: to, limit: 7, cursor: first.body.next_cursor });
    },
  );

  it('a genuine cursor still works after the refusals', async () => {
    const first = await t.http.get('/v1/events?sort=-created&tag=base&limit=7').expect(200);
    const second = await t.http
      .get('/v1/events')
      .query({ sort: '-created', tag: 'base', limit: 7, cursor: first.body.next_cursor })
      .expect(200);
    expect(second.body.data.map((e: Event) => e.id)).toEqual(expectedOrder('-created', base).slice(7, 14));
  });
});

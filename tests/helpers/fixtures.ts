// Request bodies written for the tests: a minimal valid event, and variations.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type supertest from 'supertest';
import { insertEvidenceFigures, REFRESH_EVENTS } from '../../src/modules/events/refresh.js';
import { rebuildStats } from '../../src/modules/stats/derive.js';
import { expect } from 'vitest';

/** A short random suffix so names and URLs from different tests never collide. */
export const unique = () => randomBytes(4).toString('hex');

export function reportBody(overrides: Record<string, unknown> = {}) {
  return {
    reporter: { name: "South Korea's National Intelligence Service", kind: 'agency', country: 'KOR' },
    reporter_role: 'third_party',
    stance: 'asserts',
    reliability: 'B',
    credibility: 2,
    ...overrides,
  };
}

export function eventBody(overrides: Record<string, unknown> = {}) {
  return {
    type: 'capture',
    title: 'North Korean soldier captured in the Kursk region',
    occurred: { start: '2024-12-26', precision: 'day' },
    location: { admin1: 'Kursk Oblast', country: 'RUS', lat: 51.6, lon: 36.1, precision: 'admin1' },
    reports: [reportBody()],
    ...overrides,
  };
}

/** An NDJSON body of these lines: objects serialised, strings (malformed lines) as they are. */
export const ndjson = (lines: unknown[]) =>
  `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`;

/** An actor by name, unique to the test that writes it. */
export function actorBody(overrides: Record<string, unknown> = {}) {
  return { name: `Test actor ${unique()}`, kind: 'group', ...overrides };
}

/** A document by URL, unique to the test that writes it. */
export function documentBody(overrides: Record<string, unknown> = {}) {
  return { url: `https://news.example.org/${unique()}`, title: 'A report from the front', ...overrides };
}

interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: {
    type: string;
    title: string;
    status: number;
    detail: string;
    instance: string;
    errors?: { path: string; message: string; in?: string }[];
    [extra: string]: unknown;
  };
}

/**
 * Awaits a request that must fail with `status`, checks that the answer is RFC 9457
 * problem+json with every required field, and returns its body.
 */
export async function expectProblem(request: PromiseLike<unknown>, status: number): Promise<ProblemResponse['body']> {
  const response = (await request) as ProblemResponse;
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
  const contentType = response.headers['content-type'] ?? '';
  if (!/^application\/problem\+json/.test(contentType)) throw new Error(`expected problem+json, got ${contentType}`);
  const body = response.body;
  for (const field of ['type', 'title', 'detail', 'instance'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '')
      throw new Error(`problem field ${field} is missing: ${JSON.stringify(body)}`);
  }
  if (body.status !== status) throw new Error(`problem status ${body.status} differs from HTTP status ${status}`);
  return body;
}

/** The URL of a Link header's rel="next" entry. */
export function nextLink(header: string | undefined): string {
  const match = /^<([^>]+)>;\s*rel="next"$/.exec(header ?? '');
  if (!match?.[1]) throw new Error(`no rel="next" link in ${String(header)}`);
  return match[1];
}

/** The cursor carried by a next-page URL. */
export function cursorOf(url: string): string | null {
  return new URL(url).searchParams.get('cursor');
}

/**
 * Follows a list from `firstPath` through its Link headers to the last page, checking on the
 * way that each Link carries the body's next_cursor and keeps `keptQuery`, and that the last
 * page has no Link. Returns every item in the order served and the number of pages.
 */
export async function walkPages<T>(
  http: ReturnType<typeof supertest>,
  firstPath: string,
  keptQuery: Record<string, string> = {},
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let pages = 0;
  let path: string | null = firstPath;
  while (path) {
    const response: supertest.Response = await http.get(path).expect(200);
    pages++;
    items.push(...(response.body.data as T[]));
    if (response.body.next_cursor) {
      const url = new URL(nextLink(response.headers.link));
      expect(url.searchParams.get('cursor')).toBe(response.body.next_cursor);
      for (const [name, value] of Object.entries(keptQuery)) expect(url.searchParams.get(name)).toBe(value);
      path = url.pathname + url.search;
    } else {
      expect(response.headers.link).toBeUndefined();
      path = null;
    }
  }
  return { items, pages };
}

/** POSTs an event and returns its id; any answer but 201 fails, naming `label` and the answer. */
export async function postEvent(
  http: ReturnType<typeof supertest.agent>,
  label: string,
  body: Record<string, unknown>,
): Promise<string> {
  const response = await http.post('/v1/events').send(body);
  if (response.status !== 201) throw new Error(`${label}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}

/** A supertest parser that reads any body as text, whatever its media type. */
export function asText(res: supertest.Response, done: (error: Error | null, body: string) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  stream.on('end', () => done(null, text));
}

/**
 * What the service's writers do after every change, for tests that write rows with plain SQL:
 * derive the events' figures from their reports, search vector, rendered JSON and CSV record, and the stats tables.
 */
export async function deriveAfterRawWrites(pool: pg.Pool, eventIds: string[]): Promise<void> {
  await pool.query(`DELETE FROM figures WHERE event_id = ANY($1::uuid[]) AND derived`, [eventIds]);
  await pool.query(insertEvidenceFigures('(SELECT id FROM events WHERE id = ANY($1::uuid[]))'), [eventIds]);
  await pool.query(`${REFRESH_EVENTS} WHERE e.id = ANY($1::uuid[])`, [eventIds]);
  await rebuildStats(pool);
}

/**
 * Sends a request again after a 503, as a client honouring Retry-After would: on a saturated machine a
 * write may wait longer for a connection than the pool allows, and is then refused whole (nothing written).
 */
export async function retried(send: () => supertest.Test): Promise<supertest.Response> {
  for (let attempt = 1; ; attempt++) {
    const answer = await send();
    if (answer.status !== 503 || attempt === 5) return answer;
    await new Promise((resolve) => setTimeout(resolve, 1000 * Number(answer.headers['retry-after'] ?? 1)));
  }
}

// Answers for people at a terminal or a spreadsheet (issue 17): GET / is an index of links, every
// JSON answer ends with a newline, `?pretty=true` indents any JSON answer (and is declared for every
// operation), and `bom=true` starts a CSV export with the UTF-8 byte-order mark.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBody, postEvent, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let eventId: string;
const title = `Обстріл Київа — ${unique()}`;

beforeAll(async () => {
  t = await startTestApp({ readAccess: 'key' });
  eventId = await postEvent(t.http, 'the event', eventBody({ title, tags: ['newline'] }));
  await postEvent(t.http, 'a second event, for a next page', eventBody({ tags: ['newline'] }));
});
afterAll(() => t.close());

/** A request's body as raw bytes, whatever its media type. */
function asBytes(res: NodeJS.ReadableStream, done: (error: Error | null, body: Buffer) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

async function raw(agent: TestApp['http'], path: string) {
  const response = await agent
    .get(path)
    .buffer(true)
    .parse(asBytes as never);
  return { status: response.status, type: String(response.headers['content-type']), bytes: response.body as Buffer };
}

describe('GET /', () => {
  it('answers an index of links without a key, even where reads need one, and each link works', async () => {
    const index = await raw(t.anonymous, '/');
    expect(index.status).toBe(200);
    expect(index.type).toMatch(/^application\/json/);
    const { links } = JSON.parse(index.bytes.toString()) as { links: Record<string, string> };
    expect(Object.keys(links).sort()).toEqual(['docs', 'events', 'health', 'openapi', 'ready']);
    for (const [name, url] of Object.entries(links)) {
      const path = new URL(url).pathname;
      const answer = name === 'events' ? await t.http.get(path) : await t.anonymous.get(path).redirects(1);
      expect(answer.status, `${name}: ${url}`).toBe(200);
    }
  });

  it('links from the root when the Host sent is not one a link may carry (a hostile Host was a 500)', async () => {
    const index = await t.anonymous.get('/').set('host', 'evil.example>; rel="prev", <http://evil.example');
    expect(index.status).toBe(200);
    expect(index.body.links).toEqual({
      docs: '/docs',
      openapi: '/openapi.json',
      events: '/v1/events',
      health: '/healthz',
      ready: '/readyz',
    });
  });
});

describe('JSON answers', () => {
  const paths = () => [
    '/',
    '/healthz',
    '/openapi.json',
    '/v1/events?tag=newline',
    `/v1/events/${eventId}`,
    '/v1/event-types',
    '/v1/events?sort=bogus',
    '/v1/nowhere',
  ];

  it('end with a newline: stored pages and events, serialised answers and problems', async () => {
    for (const path of paths()) {
      const { bytes, type } = await raw(t.http, path);
      expect(type, path).toMatch(/^application\/(problem\+)?json/);
      expect(bytes.length, path).toBeGreaterThan(2);
      expect(bytes.at(-1), path).toBe(0x0a);
      expect(bytes.at(-2), path).not.toBe(0x0a);
      expect(() => JSON.parse(bytes.toString()), path).not.toThrow();
    }
  });

  it('are indented with ?pretty=true, the same data as the compact answer', async () => {
    for (const path of paths()) {
      const compact = (await raw(t.http, path)).bytes.toString();
      const pretty = await raw(t.http, `${path}${path.includes('?') ? '&' : '?'}pretty=true`);
      expect(JSON.parse(compact), path).not.toEqual({});
      expect(pretty.bytes.toString(), path).toBe(`${JSON.stringify(JSON.parse(compact), null, 2)}\n`);
      expect(pretty.bytes.toString(), path).not.toBe(compact);
    }
    // The page's Link to the next page keeps it.
    const page = await t.http.get('/v1/events?tag=newline&limit=1&pretty=true');
    expect(page.status).toBe(200);
    expect(page.headers.link).toContain('pretty=true');
    expect((await raw(t.http, '/v1/events?tag=newline&pretty=false')).bytes.toString()).toBe(
      (await raw(t.http, '/v1/events?tag=newline')).bytes.toString(),
    );
  });

  it('refuses a pretty value other than true or false with a 400 naming it', async () => {
    for (const query of ['pretty=yes', 'pretty=true&pretty=true']) {
      const response = await t.http.get(`/v1/events?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.errors, query).toEqual([expect.objectContaining({ in: 'query', path: '/pretty' })]);
    }
  });

  it('declares pretty on every operation of the OpenAPI document', async () => {
    const document = (await t.anonymous.get('/openapi.json').expect(200)).body;
    expect(document.components.parameters.pretty).toMatchObject({ name: 'pretty', in: 'query' });
    const operations = Object.values(
      document.paths as Record<string, Record<string, { parameters?: { $ref?: string }[] }>>,
    ).flatMap((item) => Object.values(item));
    expect(operations.length).toBeGreaterThan(20);
    for (const operation of operations)
      expect(operation.parameters).toContainEqual({ $ref: '#/components/parameters/pretty' });
  });
});

describe('CSV exports with bom=true', () => {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

  it('start with the UTF-8 byte-order mark, then the same CSV as without', async () => {
    for (const format of ['csv', 'acled-csv']) {
      for (const limit of ['', '&limit=10']) {
        const plain = await raw(t.http, `/v1/events?tag=newline&format=${format}${limit}`);
        const marked = await raw(t.http, `/v1/events?tag=newline&format=${format}${limit}&bom=true`);
        expect(marked.status).toBe(200);
        expect(plain.bytes.subarray(0, 3).equals(BOM), format).toBe(false);
        expect(marked.bytes.subarray(0, 3).equals(BOM), format).toBe(true);
        expect(marked.bytes.subarray(3).equals(plain.bytes), format).toBe(true);
        expect(plain.bytes.toString()).toContain(title);
      }
    }
  });

  it('is a 400 for the other formats, also when Accept chose them', async () => {
    for (const format of ['json', 'ndjson', 'geojson']) {
      const response = await t.http.get(`/v1/events?format=${format}&bom=true`);
      expect(response.status, format).toBe(400);
      expect(response.body.errors, format).toEqual([expect.objectContaining({ in: 'query', path: '/bom' })]);
    }
    expect((await t.http.get('/v1/events?bom=true').set('accept', 'application/x-ndjson')).status).toBe(400);
    expect((await t.http.get('/v1/events?bom=true&tag=newline').set('accept', 'text/csv')).status).toBe(200);
  });
});

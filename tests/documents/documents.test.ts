import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { documentBody, expectProblem, unique, walkPages } from '../helpers/fixtures.js';

interface Document {
  id: string;
  url: string;
  title: string | null;
  publisher: string | null;
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const ghost = '0193f1a0-0000-7000-8000-00000000cafe';

async function documentRows(fragment: string): Promise<number> {
  const result = await t.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM documents WHERE url LIKE $1', [
    `%${fragment}%`,
  ]);
  return Number(result.rows[0]!.n);
}

/** Every document a listing query returns, following the Link headers to the end. */
async function listAll(query: Record<string, string>): Promise<Document[]> {
  return (await walkPages<Document>(t.http, `/v1/documents?${new URLSearchParams(query).toString()}`)).items;
}

describe('POST /v1/documents', () => {
  it('creates a document: 201, Location, and every field read back', async () => {
    const body = {
      url: `https://news.example.org/2024/12/${unique()}`,
      title: 'First North Korean soldier captured by Ukraine dies in custody',
      publisher: 'Example News',
      published_at: '2024-12-29T11:30:00+02:00',
      language: 'en-GB',
      archive_url: `https://archive.example.org/${unique()}`,
      content_hash: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    };
    const response = await t.http.post('/v1/documents').send(body).expect(201);
    expect(response.headers.location).toBe(`/v1/documents/${response.body.id}`);
    expect(response.body).toMatchObject({ ...body, published_at: '2024-12-29T09:30:00.000Z', version: 1 });
    const fetched = await t.http.get(response.headers.location!).expect(200);
    expect(fetched.body).toEqual(response.body);
  });

  it('takes a bare date as midnight UTC', async () => {
    const response = await t.http
      .post('/v1/documents')
      .send(documentBody({ published_at: '2024-12-29' }))
      .expect(201);
    expect(response.body.published_at).toBe('2024-12-29T00:00:00.000Z');
  });

  it('finds the same document for the same URL, and for the URL with another #fragment: 200, same id, one row', async () => {
    const path = unique();
    const url = `https://news.example.org/articles/${path}?page=2`;
    const created = await t.http.post('/v1/documents').send({ url, title: 'Original title' }).expect(201);
    for (const again of [url, `${url}#comments`, `${url}#`]) {
      const response = await t.http.post('/v1/documents').send({ url: again, title: 'Another title' }).expect(200);
      expect(response.body.id).toBe(created.body.id);
      expect(response.headers.location).toBe(`/v1/documents/${created.body.id}`);
      // The existing document is not modified, and keeps its URL without a fragment.
      expect(response.body.title).toBe('Original title');
      expect(response.body.url).toBe(url);
    }
    expect(await documentRows(path)).toBe(1);
  });

  it('stores a URL given with a fragment without it', async () => {
    const path = unique();
    const created = await t.http
      .post('/v1/documents')
      .send({ url: `https://example.org/${path}#top` })
      .expect(201);
    expect(created.body.url).toBe(`https://example.org/${path}`);
  });

  it('treats another query string or path as another document', async () => {
    const path = unique();
    const a = await t.http
      .post('/v1/documents')
      .send({ url: `https://example.org/${path}?id=1` })
      .expect(201);
    const b = await t.http
      .post('/v1/documents')
      .send({ url: `https://example.org/${path}?id=2` })
      .expect(201);
    const c = await t.http
      .post('/v1/documents')
      .send({ url: `https://example.org/${path}/more` })
      .expect(201);
    expect(new Set([a.body.id, b.body.id, c.body.id]).size).toBe(3);
    expect(await documentRows(path)).toBe(3);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a non-http URL', { url: 'ftp://files.example.org/report.pdf' }, '/url'],
    ['a javascript: URL', { url: 'javascript:alert(1)' }, '/url'],
    ['a relative URL', { url: '/news/123' }, '/url'],
    ['a missing URL', { url: undefined }, '/url'],
    ['a bad language tag', { language: 'english!' }, '/language'],
    ['a language tag with a bad subtag', { language: 'en-' }, '/language'],
    ['a published_at that is not a date', { published_at: 'Sunday' }, '/published_at'],
    ['a non-http archive URL', { archive_url: 'file:///etc/passwd' }, '/archive_url'],
    ['a content hash without its algorithm', { content_hash: 'deadbeef' }, '/content_hash'],
    ['an unknown field', { author: 'someone' }, '/author'],
  ])('400 naming the field for %s, and nothing is written', async (_name, override, pointer) => {
    const before = await t.rowCounts();
    const body = JSON.parse(JSON.stringify(documentBody(override)));
    const problem = await expectProblem(t.http.post('/v1/documents').send(body), 400);
    expect(problem.type).toBe('/problems/invalid-input');
    expect(problem.errors!.map((e) => e.path)).toContain(pointer);
    expect(problem.errors!.every((e) => e.in === 'body')).toBe(true);
    expect(await t.rowCounts()).toEqual(before);
  });

  it('10 parallel POSTs of the same new URL make exactly one row, and all answer with its id', async () => {
    const path = unique();
    const url = `https://news.example.org/breaking/${path}`;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.http.post('/v1/documents').send({ url: i % 3 === 0 ? url : `${url}#p${i}`, title: `Copy ${i}` }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((status) => status === 200 || status === 201)).toBe(true);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(await documentRows(path)).toBe(1);
  });
});

describe('GET /v1/documents/{id}', () => {
  it('200 with an ETag; 304 for If-None-Match with it; 200 for another tag', async () => {
    const created = await t.http.post('/v1/documents').send(documentBody()).expect(201);
    const response = await t.http.get(`/v1/documents/${created.body.id}`).expect(200);
    expect(response.body).toEqual(created.body);
    expect(response.headers.etag).toBe('"1"');
    const cached = await t.http.get(`/v1/documents/${created.body.id}`).set('If-None-Match', '"1"').expect(304);
    expect(cached.text ?? '').toBe('');
    await t.http.get(`/v1/documents/${created.body.id}`).set('If-None-Match', '"0"').expect(200);
  });

  it('404 for an unknown id, 400 for a non-uuid id', async () => {
    const problem = await expectProblem(t.http.get(`/v1/documents/${ghost}`), 404);
    expect(problem.type).toBe('/problems/not-found');
    const bad = await expectProblem(t.http.get('/v1/documents/https%3A%2F%2Fexample.org'), 400);
    expect(bad.errors).toContainEqual(expect.objectContaining({ path: '/id', in: 'path' }));
  });
});

describe('GET /v1/documents', () => {
  it('q matches titles and URLs, case-insensitively', async () => {
    const tag = unique();
    const byTitle = await t.http
      .post('/v1/documents')
      .send(documentBody({ title: `Drone Strike on Depot ${tag}` }))
      .expect(201);
    const byUrl = await t.http
      .post('/v1/documents')
      .send(documentBody({ url: `https://example.org/drone-strike-${tag}`, title: 'Untitled' }))
      .expect(201);
    await t.http
      .post('/v1/documents')
      .send(documentBody({ title: `Something else ${unique()}` }))
      .expect(201);

    expect((await listAll({ q: `depot ${tag.toUpperCase()}` })).map((d) => d.id)).toEqual([byTitle.body.id]);
    expect((await listAll({ q: `DRONE-STRIKE-${tag}` })).map((d) => d.id)).toEqual([byUrl.body.id]);
    expect((await listAll({ q: tag })).map((d) => d.id).sort()).toEqual([byTitle.body.id, byUrl.body.id].sort());
  });

  it('q treats % and _ literally', async () => {
    const tag = unique();
    const plain = await t.http
      .post('/v1/documents')
      .send(documentBody({ title: `Fifty percent ${tag}` }))
      .expect(201);
    const literal = await t.http
      .post('/v1/documents')
      .send(documentBody({ title: `Up 50%_or so\\ ${tag}` }))
      .expect(201);
    expect(await listAll({ q: `%${tag}` })).toEqual([]);
    expect(await listAll({ q: `_ifty percent ${tag}` })).toEqual([]);
    // Wildcards and backslashes written in q still match themselves.
    expect((await listAll({ q: `50%_or so\\ ${tag}` })).map((d) => d.id)).toEqual([literal.body.id]);
    expect((await listAll({ q: `fifty percent ${tag}` })).map((d) => d.id)).toEqual([plain.body.id]);
  });

  it('filters by exact publisher, combined with q', async () => {
    const tag = unique();
    const publisher = `Kyiv Independent ${tag}`;
    const a = await t.http
      .post('/v1/documents')
      .send(documentBody({ publisher, title: `Alpha ${tag}` }))
      .expect(201);
    const b = await t.http
      .post('/v1/documents')
      .send(documentBody({ publisher, title: `Beta ${tag}` }))
      .expect(201);
    await t.http
      .post('/v1/documents')
      .send(documentBody({ publisher: `Other Wire ${tag}`, title: `Gamma ${tag}` }))
      .expect(201);

    expect((await listAll({ publisher })).map((d) => d.id).sort()).toEqual([a.body.id, b.body.id].sort());
    expect((await listAll({ publisher, q: `beta ${tag}` })).map((d) => d.id)).toEqual([b.body.id]);
    expect(await listAll({ publisher: `Kyiv Independent` })).not.toContainEqual(
      expect.objectContaining({ id: a.body.id }),
    );
  });

  it('pages through every match exactly once, newest first, with a Link to the next page', async () => {
    const tag = unique();
    const created: Document[] = [];
    for (let i = 0; i < 7; i++) {
      created.push(
        (
          await t.http
            .post('/v1/documents')
            .send(documentBody({ title: `Paged ${tag} ${i}` }))
            .expect(201)
        ).body,
      );
    }
    const { items: seen, pages } = await walkPages<Document>(
      t.http,
      `/v1/documents?q=${encodeURIComponent(`paged ${tag}`)}&limit=3`,
      {
        q: `paged ${tag}`,
      },
    );
    expect(pages).toBe(3);
    const ids = seen.map((d) => d.id);
    expect(new Set(ids).size).toBe(7);
    expect(new Set(ids)).toEqual(new Set(created.map((d) => d.id)));
    // Newest first: the ids are time-ordered, and the last one written comes first.
    expect(ids).toEqual([...ids].sort().reverse());
    expect(ids[0]).toBe(created.at(-1)!.id);
  });

  it('400 for limit 1001, a tampered cursor, or an unknown parameter', async () => {
    const limit = await expectProblem(t.http.get('/v1/documents?limit=1001'), 400);
    expect(limit.errors).toContainEqual(expect.objectContaining({ path: '/limit', in: 'query' }));
    const forged = Buffer.from(JSON.stringify(['-created', '2024-01-01', ghost])).toString('base64url');
    const cursor = await expectProblem(t.http.get('/v1/documents').query({ cursor: forged }), 400);
    expect(cursor.errors).toContainEqual(expect.objectContaining({ path: '/cursor', in: 'query' }));
    const unknown = await expectProblem(t.http.get('/v1/documents?language=en'), 400);
    expect(unknown.errors).toContainEqual(expect.objectContaining({ path: '/language', in: 'query' }));
  });
});

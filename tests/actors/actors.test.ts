import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { actorBody, expectProblem, unique, walkPages } from '../helpers/fixtures.js';

interface Actor {
  id: string;
  name: string;
  kind: string;
  country: string | null;
  aliases: string[];
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const ghost = '0193f1a0-0000-7000-8000-00000000beef';

/** How many actor rows have this kind and a name containing `fragment` (case-insensitively). */
async function actorRows(kind: string, fragment: string): Promise<number> {
  const result = await t.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM actors WHERE kind = $1::actor_kind AND name ILIKE $2`,
    [kind, `%${fragment}%`],
  );
  return Number(result.rows[0]!.n);
}

/** Every actor a listing query returns, following the Link headers to the end. */
async function listAll(query: Record<string, string>): Promise<Actor[]> {
  return (await walkPages<Actor>(t.http, `/v1/actors?${new URLSearchParams(query).toString()}`)).items;
}

describe('POST /v1/actors', () => {
  it('creates an actor: 201, Location, ETag, and the stored fields', async () => {
    const body = {
      name: `Main Directorate of Intelligence ${unique()}`,
      kind: 'agency',
      country: 'UKR',
      aliases: ['HUR', 'GUR'],
      external_ids: { wikidata: 'Q4372206' },
    };
    const response = await t.http.post('/v1/actors').send(body).expect(201);
    expect(response.headers.location).toBe(`/v1/actors/${response.body.id}`);
    expect(response.body).toMatchObject({ ...body, version: 1 });
    expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const fetched = await t.http.get(response.headers.location!).expect(200);
    expect(fetched.body).toEqual(response.body);
  });

  it('finds the same actor for the same name and kind: 200, same id, one row', async () => {
    const tag = unique();
    const name = `Korean People's Army ${tag}`;
    const created = await t.http.post('/v1/actors').send({ name, kind: 'military', country: 'PRK' }).expect(201);
    const variants = [
      name,
      name.toUpperCase(),
      name.toLowerCase(),
      `   ${name}\t`,
      name.replace(' People', '   People').replace('Army ', 'Army  '),
      name.replace("'", '\u2019'),
      name.replace("'", '\u2018').toUpperCase(),
    ];
    for (const variant of variants) {
      const again = await t.http.post('/v1/actors').send({ name: variant, kind: 'military' }).expect(200);
      expect(again.body.id).toBe(created.body.id);
      expect(again.headers.location).toBe(`/v1/actors/${created.body.id}`);
      // The existing actor is not modified by a later write that names it.
      expect(again.body.name).toBe(name);
      expect(again.body.country).toBe('PRK');
      expect(again.body.version).toBe(1);
    }
    expect(await actorRows('military', tag)).toBe(1);
  });

  it('treats the same name with another kind as a different actor', async () => {
    const tag = unique();
    const name = `Wagner ${tag}`;
    const military = await t.http.post('/v1/actors').send({ name, kind: 'military' }).expect(201);
    const group = await t.http.post('/v1/actors').send({ name, kind: 'group' }).expect(201);
    expect(group.body.id).not.toBe(military.body.id);
    expect(group.body.kind).toBe('group');
    expect(await actorRows('military', tag)).toBe(1);
    expect(await actorRows('group', tag)).toBe(1);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown kind', { kind: 'militia' }, '/kind'],
    ['a lower-case country', { country: 'ukr' }, '/country'],
    ['a two-letter country', { country: 'UA' }, '/country'],
    ['an unknown field', { rank: 'general' }, '/rank'],
    ['an empty name', { name: '   ' }, '/name'],
    ['a missing kind', { kind: undefined }, '/kind'],
    ['an alias that is not a string', { aliases: [42] }, '/aliases/0'],
    ['a badly named external id system', { external_ids: { WikiData: 'Q1' } }, '/external_ids'],
  ])('400 naming the field for %s, and nothing is written', async (_name, override, pointer) => {
    const before = await t.rowCounts();
    const body = JSON.parse(JSON.stringify(actorBody(override)));
    const problem = await expectProblem(t.http.post('/v1/actors').send(body), 400);
    expect(problem.type).toBe('/problems/invalid-input');
    const paths = problem.errors!.map((e) => e.path);
    expect(paths.some((path) => path === pointer || path.startsWith(`${pointer}/`))).toBe(true);
    expect(problem.errors!.every((e) => e.in === 'body')).toBe(true);
    expect(await t.rowCounts()).toEqual(before);
  });

  it('10 parallel POSTs of the same new actor make exactly one row, and all answer with its id', async () => {
    const tag = unique();
    const name = `Concurrent Brigade ${tag}`;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.http.post('/v1/actors').send({ name: i % 2 === 0 ? name : name.toUpperCase(), kind: 'unit', country: 'RUS' }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((status) => status === 200 || status === 201)).toBe(true);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    const ids = new Set(responses.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(await actorRows('unit', tag)).toBe(1);
  });
});

describe('GET /v1/actors/{id}', () => {
  it('200 with an ETag; 304 for If-None-Match with it; 200 for another tag', async () => {
    const created = await t.http
      .post('/v1/actors')
      .send(actorBody({ kind: 'person' }))
      .expect(201);
    const response = await t.http.get(`/v1/actors/${created.body.id}`).expect(200);
    expect(response.body).toEqual(created.body);
    expect(response.headers.etag).toBe('"1"');
    const cached = await t.http.get(`/v1/actors/${created.body.id}`).set('If-None-Match', '"1"').expect(304);
    expect(cached.text ?? '').toBe('');
    await t.http.get(`/v1/actors/${created.body.id}`).set('If-None-Match', '"5"').expect(200);
  });

  it('404 for an unknown id, 400 for a non-uuid id', async () => {
    const problem = await expectProblem(t.http.get(`/v1/actors/${ghost}`), 404);
    expect(problem.type).toBe('/problems/not-found');
    expect(problem.instance).toBe(`/v1/actors/${ghost}`);
    const bad = await expectProblem(t.http.get('/v1/actors/NIS'), 400);
    expect(bad.errors).toContainEqual(expect.objectContaining({ path: '/id', in: 'path' }));
  });
});

describe('GET /v1/actors', () => {
  it('q matches part of a name, case-insensitively', async () => {
    const tag = unique();
    const target = await t.http
      .post('/v1/actors')
      .send({ name: `Rapid Response Force ${tag}`, kind: 'unit' })
      .expect(201);
    await t.http
      .post('/v1/actors')
      .send({ name: `Unrelated Outfit ${unique()}`, kind: 'unit' })
      .expect(201);
    for (const q of [`response force ${tag}`, `RAPID RESPONSE FORCE ${tag.toUpperCase()}`, tag]) {
      const found = await listAll({ q });
      expect(found.map((a) => a.id)).toEqual([target.body.id]);
    }
  });

  it('q matches an alias, case-insensitively', async () => {
    const tag = unique();
    const target = await t.http
      .post('/v1/actors')
      .send({
        name: `National Intelligence Service ${tag}`,
        kind: 'agency',
        aliases: [`NIS-${tag}`, `Gukjeongwon ${tag}`],
      })
      .expect(201);
    expect(await listAll({ q: `nis-${tag}` })).toEqual([expect.objectContaining({ id: target.body.id })]);
    expect(await listAll({ q: `GUKJEONGWON ${tag.toUpperCase()}` })).toEqual([
      expect.objectContaining({ id: target.body.id }),
    ]);
  });

  it('q matches an alias written with curly quotes or extra spaces, as it matches names', async () => {
    const tag = unique();
    const target = await t.http
      .post('/v1/actors')
      .send({ name: `Supreme Commander ${tag}`, kind: 'person', aliases: [`Kim\u2019s  Guard ${tag}`] })
      .expect(201);
    for (const q of [`Kim\u2019s  Guard ${tag}`, `kim's guard ${tag}`, `KIM\u2019S GUARD`]) {
      const found = await listAll({ q });
      expect(found.map((a) => a.id)).toContain(target.body.id);
    }
  });

  it('q treats % and _ literally', async () => {
    const tag = unique();
    await t.http
      .post('/v1/actors')
      .send({ name: `Percent ${tag}`, kind: 'other' })
      .expect(201);
    expect(await listAll({ q: `%${tag}` })).toEqual([]);
    expect(await listAll({ q: `_ercent ${tag}` })).toEqual([]);
  });

  it('filters by kind and by country, combined with q', async () => {
    const tag = unique();
    const ukrState = await t.http
      .post('/v1/actors')
      .send({ name: `Filter ${tag} Ukraine`, kind: 'state', country: 'UKR' })
      .expect(201);
    const ukrMedia = await t.http
      .post('/v1/actors')
      .send({ name: `Filter ${tag} Kyiv Daily`, kind: 'media', country: 'UKR' })
      .expect(201);
    const rusMedia = await t.http
      .post('/v1/actors')
      .send({ name: `Filter ${tag} Moscow Wire`, kind: 'media', country: 'RUS' })
      .expect(201);
    const ids = (actors: Actor[]) => actors.map((a) => a.id).sort();

    expect(ids(await listAll({ q: tag, kind: 'media' }))).toEqual([ukrMedia.body.id, rusMedia.body.id].sort());
    expect(ids(await listAll({ q: tag, country: 'UKR' }))).toEqual([ukrState.body.id, ukrMedia.body.id].sort());
    expect(ids(await listAll({ q: tag, kind: 'media', country: 'RUS' }))).toEqual([rusMedia.body.id]);
    expect(await listAll({ q: tag, kind: 'person' })).toEqual([]);

    const all = await listAll({ kind: 'media', country: 'UKR' });
    expect(all.every((a) => a.kind === 'media' && a.country === 'UKR')).toBe(true);
    expect(all.map((a) => a.id)).toContain(ukrMedia.body.id);
  });

  it('400 for a bad kind, a lower-case country or an unknown parameter', async () => {
    const kind = await expectProblem(t.http.get('/v1/actors?kind=militia'), 400);
    expect(kind.errors).toContainEqual(expect.objectContaining({ path: '/kind', in: 'query' }));
    const country = await expectProblem(t.http.get('/v1/actors?country=ukr'), 400);
    expect(country.errors).toContainEqual(expect.objectContaining({ path: '/country', in: 'query' }));
    const unknown = await expectProblem(t.http.get('/v1/actors?name=x'), 400);
    expect(unknown.errors).toContainEqual(expect.objectContaining({ path: '/name', in: 'query' }));
  });

  it('pages through every match exactly once, in name order, with a Link to the next page', async () => {
    const tag = unique();
    // Written out of order, with mixed case: the listing orders by the normalised name.
    const suffixes = ['golf', 'Alpha', 'echo', 'Charlie', 'bravo', 'foxtrot', 'Delta'];
    const created: Actor[] = [];
    for (const suffix of suffixes) {
      created.push(
        (
          await t.http
            .post('/v1/actors')
            .send({ name: `Pager ${tag} ${suffix}`, kind: 'unit' })
            .expect(201)
        ).body,
      );
    }
    const { items: seen, pages } = await walkPages<Actor>(
      t.http,
      `/v1/actors?q=${encodeURIComponent(`pager ${tag}`)}&limit=3`,
      {
        q: `pager ${tag}`,
      },
    );
    expect(pages).toBe(3);
    expect(seen.map((a) => a.name.split(' ').at(-1)!.toLowerCase())).toEqual([
      'alpha',
      'bravo',
      'charlie',
      'delta',
      'echo',
      'foxtrot',
      'golf',
    ]);
    expect(new Set(seen.map((a) => a.id))).toEqual(new Set(created.map((a) => a.id)));
  });

  it('400 naming /cursor for a tampered cursor', async () => {
    const forged = Buffer.from(JSON.stringify(['-created', null, ghost])).toString('base64url');
    const problem = await expectProblem(t.http.get('/v1/actors').query({ cursor: forged }), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/cursor', in: 'query' }));
    await expectProblem(t.http.get('/v1/actors').query({ cursor: 'garbage' }), 400);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { actorBody, expectProblem } from '../helpers/fixtures.js';

const SECRET = 'secret-detail-7f3a: password=hunter2';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    extend(app) {
      // Routes that fail the way a bug would, to check what a 500 reveals.
      app.get('/test/throws', async () => {
        throw new Error(`${SECRET} while running SELECT * FROM actors WHERE name = 'x'`);
      });
      app.get('/test/throws-typeerror', async () => {
        const value = JSON.parse('null') as { deep: { field: string } };
        return { field: value.deep.field };
      });
      app.get('/test/bad-sql', async () => {
        await t.db.pool.query(`SELECT ${`'${SECRET}'`} FROM no_such_table_for_tests`);
        return {};
      });
      app.get('/test/bad-prisma', async () => {
        // eslint-disable-next-line raw-sql/unsafe -- the secret is in the SQL text on purpose: the 500 must not echo it
        await t.db.prisma.$queryRawUnsafe(`SELECT '${SECRET}'::integer`);
        return {};
      });
    },
  });
});
afterAll(async () => {
  await t.close();
});

/** What must never appear in a 500: stack frames, the thrown message, SQL. */
function expectNothingLeaked(text: string) {
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain('secret-detail');
  expect(text).not.toMatch(/\bat .+\(.*:\d+:\d+\)/);
  expect(text).not.toMatch(/\.ts:\d+/);
  expect(text).not.toMatch(/node_modules/);
  expect(text).not.toMatch(/\bSELECT\b|\bFROM\b|no_such_table|relation "|syntax error|invalid input syntax/i);
  expect(text).not.toMatch(/TypeError|Cannot read properties/);
}

describe('unknown routes', () => {
  it.each([
    '/nothing-here',
    '/v1/event',
    '/v1/events/0193f1a0-0000-7000-8000-000000000000/nothing',
    '/V1/events',
    '/v1/actors/x/y',
  ])('404 problem+json for %s', async (path) => {
    const problem = await expectProblem(t.http.get(path), 404);
    expect(problem.type).toBe('/problems/not-found');
    expect(problem.title).toBe('Not found');
    expect(problem.instance).toBe(path);
  });

  it('404 for an unknown route whatever the method', async () => {
    await expectProblem(t.http.post('/v2/events').send({}), 404);
    await expectProblem(t.http.delete('/nothing-here'), 404);
  });

  it('leaves the query string out of instance', async () => {
    const problem = await expectProblem(t.http.get('/nothing-here?token=abc'), 404);
    expect(problem.instance).toBe('/nothing-here');
  });
});

describe('wrong method on a known path', () => {
  const allowOf = (header: string | undefined) =>
    (header ?? '')
      .split(',')
      .map((method) => method.trim())
      .filter(Boolean);

  it('405 with Allow for DELETE /v1/event-types', async () => {
    const response = await t.http.delete('/v1/event-types');
    const problem = await expectProblem(Promise.resolve(response), 405);
    expect(problem.type).toBe('/problems/method-not-allowed');
    const allow = allowOf(response.headers.allow);
    // Admins add codes with POST; codes are never deleted.
    expect(allow).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect(allow).not.toContain('DELETE');
  });

  it('405 with Allow listing GET and POST for PUT /v1/events', async () => {
    const response = await t.http.put('/v1/events').send({});
    await expectProblem(Promise.resolve(response), 405);
    const allow = allowOf(response.headers.allow);
    expect(allow).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect(allow).not.toContain('PUT');
  });

  it('405 on a path with a parameter, with the methods of that path', async () => {
    const response = await t.http.post('/v1/actors/0193f1a0-0000-7000-8000-000000000000').send(actorBody());
    const problem = await expectProblem(Promise.resolve(response), 405);
    expect(problem.instance).toBe('/v1/actors/0193f1a0-0000-7000-8000-000000000000');
    const allow = allowOf(response.headers.allow);
    expect(allow).toContain('GET');
    expect(allow).not.toContain('POST');
  });

  it('405 for POST /healthz', async () => {
    const response = await t.http.post('/healthz').send({});
    await expectProblem(Promise.resolve(response), 405);
    expect(allowOf(response.headers.allow)).toContain('GET');
  });
});

describe('request bodies the server cannot read', () => {
  it('400 malformed-request for JSON that does not parse, and nothing is written', async () => {
    const before = await t.rowCounts();
    const problem = await expectProblem(
      t.http.post('/v1/actors').set('Content-Type', 'application/json').send('{"name": "x", "kind": '),
      400,
    );
    expect(problem.type).toBe('/problems/malformed-request');
    expect(problem.instance).toBe('/v1/actors');
    expect(await t.rowCounts()).toEqual(before);
  });

  it('400 malformed-request for JSON with a trailing comma or single quotes', async () => {
    for (const text of ['{"name": "x",}', "{'name': 'x'}", 'undefined']) {
      const problem = await expectProblem(
        t.http.post('/v1/documents').set('Content-Type', 'application/json').send(text),
        400,
      );
      expect(problem.type).toBe('/problems/malformed-request');
    }
  });

  it('400 for an empty body sent as JSON', async () => {
    const problem = await expectProblem(
      t.http.post('/v1/actors').set('Content-Type', 'application/json').send(''),
      400,
    );
    expect(problem.type).toBe('/problems/malformed-request');
  });

  it('400 for a JSON body that is not an object', async () => {
    for (const text of ['[]', '"actor"', '42', 'null']) {
      const problem = await expectProblem(
        t.http.post('/v1/actors').set('Content-Type', 'application/json').send(text),
        400,
      );
      expect(problem.status).toBe(400);
    }
  });

  it('415 for Content-Type text/plain, even when the text is JSON', async () => {
    const before = await t.rowCounts();
    const problem = await expectProblem(
      t.http.post('/v1/actors').set('Content-Type', 'text/plain').send(JSON.stringify(actorBody())),
      415,
    );
    expect(problem.type).toBe('/problems/unsupported-media-type');
    expect(problem.detail).toContain('text/plain');
    expect(await t.rowCounts()).toEqual(before);
  });

  it('415 for a form-encoded or XML body', async () => {
    await expectProblem(t.http.post('/v1/actors').type('form').send({ name: 'x', kind: 'group' }), 415);
    await expectProblem(t.http.post('/v1/events').set('Content-Type', 'application/xml').send('<event/>'), 415);
  });

  it('accepts JSON with a charset parameter', async () => {
    await t.http
      .post('/v1/actors')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify(actorBody()))
      .expect(201);
  });

  it('413 for a body over the limit', async () => {
    const huge = JSON.stringify(actorBody({ aliases: ['x'.repeat(1024 * 1024)] }));
    const problem = await expectProblem(
      t.http.post('/v1/actors').set('Content-Type', 'application/json').send(huge),
      413,
    );
    expect(problem.type).toBe('/problems/payload-too-large');
  });
});

describe('unexpected failures', () => {
  it.each(['/test/throws', '/test/throws-typeerror', '/test/bad-sql', '/test/bad-prisma'])(
    '500 problem+json for %s, with no stack, message or SQL in it',
    async (path) => {
      const response = await t.http.get(path);
      const problem = await expectProblem(Promise.resolve(response), 500);
      expect(problem).toEqual({
        type: '/problems/internal-error',
        title: 'Internal server error',
        status: 500,
        detail: expect.any(String),
        instance: path,
      });
      expectNothingLeaked(response.text);
      expectNothingLeaked(JSON.stringify(response.headers));
    },
  );

  it('keeps serving after a 500', async () => {
    await t.http.get('/test/throws').expect(500);
    await t.http.get('/v1/event-types').expect(200);
  });
});

describe('every error is problem+json with type, title, status, detail and instance', () => {
  const ghost = '0193f1a0-0000-7000-8000-000000000000';
  const cases: [string, number, () => PromiseLike<unknown>][] = [
    ['404 unknown route', 404, () => t.http.get('/nope')],
    ['404 unknown event', 404, () => t.http.get(`/v1/events/${ghost}`)],
    ['400 bad path parameter', 400, () => t.http.get('/v1/reports/nope')],
    ['400 bad query', 400, () => t.http.get('/v1/events?limit=0')],
    ['400 bad body', 400, () => t.http.post('/v1/actors').send({ name: 'x' })],
    [
      '422 rule violation',
      422,
      () =>
        t.http.post('/v1/events').send({ type: 'capture', title: 'x', occurred: { start: '2024-12-26' }, reports: [] }),
    ],
    ['405 wrong method', 405, () => t.http.patch('/v1/events')],
    [
      '415 media type',
      415,
      () => t.http.post('/v1/documents').set('Content-Type', 'text/csv').send('url\nhttps://example.org'),
    ],
    ['500 bug', 500, () => t.http.get('/test/throws')],
  ];

  it.each(cases)('%s', async (_name, status, request) => {
    const problem = await expectProblem(request(), status);
    expect(problem.status).toBe(status);
    expect(problem.type).toMatch(/^\/problems\/[a-z-]+$/);
    expect(typeof problem.title).toBe('string');
    expect(typeof problem.detail).toBe('string');
    expect(problem.instance).toMatch(/^\//);
    if (problem.errors) {
      for (const violation of problem.errors) {
        expect(violation.path).toMatch(/^(\/|$)/);
        expect(typeof violation.message).toBe('string');
      }
    }
  });
});

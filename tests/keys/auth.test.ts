// Who may do what: every write needs an editor key, API keys need an admin, reads are
// open unless READ_ACCESS=key, a revoked key stops at once, and keys never reach the logs.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { actorBody, eventBody, expectProblem, unique } from '../helpers/fixtures.js';

let t: TestApp;
let locked: TestApp;
beforeAll(async () => {
  [t, locked] = await Promise.all([startTestApp(), startTestApp({ readAccess: 'key' })]);
});
afterAll(async () => {
  await Promise.all([t.close(), locked.close()]);
});

interface Operation {
  security?: Record<string, string[]>[];
}
type Paths = Record<string, Record<string, Operation>>;

/** Every operation of the served document, with its path parameters filled in. */
async function operations(): Promise<
  { method: string; path: string; url: string; security?: Operation['security'] }[]
> {
  const paths = (await t.http.get('/openapi.json').expect(200)).body.paths as Paths;
  const values: Record<string, string> = {
    id: '0193f1a0-0000-7000-8000-00000000dead',
    event_id: '0193f1a0-0000-7000-8000-00000000beef',
  };
  values.relation = 'follows';
  values.name = 'nobody';
  return Object.entries(paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, operation]) => ({
      method,
      path,
      url: path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? 'x'),
      ...(operation.security ? { security: operation.security } : {}),
    })),
  );
}

const send = (agent: supertest.Agent | ReturnType<typeof supertest>, method: string, url: string) =>
  (agent as unknown as Record<string, (url: string) => supertest.Test>)[method]!(url).send({});

describe('roles', () => {
  it('every write refuses a request without a key (401, with a challenge) and a reader key (403)', async () => {
    const writes = (await operations()).filter((op) => op.method !== 'get');
    expect(writes.length).toBeGreaterThanOrEqual(14);
    const before = await t.rowCounts();
    for (const { method, url, security } of writes) {
      expect(security, `${method} ${url} declares its security`).toEqual([{ bearerAuth: [] }]);
      const anonymous = await send(t.anonymous, method, url);
      const problem = await expectProblem(Promise.resolve(anonymous), 401);
      expect(problem.type).toBe('/problems/unauthorized');
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
      const reader = await expectProblem(send(t.as.reader, method, url), 403);
      expect(reader.detail).toMatch(/reader key/);
    }
    expect(await t.rowCounts()).toEqual(before);
  });

  it('admin routes refuse an editor (403); an admin creates, lists and revokes keys', async () => {
    await expectProblem(t.http.get('/v1/api-keys'), 403);
    await expectProblem(t.http.post('/v1/api-keys').send({ name: 'x', role: 'reader' }), 403);
    const name = `dashboard-${unique()}`;
    const created = await t.as.admin.post('/v1/api-keys').send({ name, role: 'reader' }).expect(201);
    expect(created.body).toMatchObject({ name, role: 'reader', created_by: 'test-admin', revoked_at: null });
    expect(created.body.key).toMatch(/^cek_/);
    expect(created.body.key.startsWith(created.body.prefix)).toBe(true);
    const listed = (await t.as.admin.get('/v1/api-keys').expect(200)).body.data as Record<string, unknown>[];
    const entry = listed.find((key) => key.name === name);
    expect(entry).toEqual({ ...created.body, key: undefined });
    expect(JSON.stringify(listed)).not.toContain(created.body.key);
    await expectProblem(t.as.admin.post('/v1/api-keys').send({ name, role: 'admin' }), 409);
    await expectProblem(t.as.admin.post('/v1/api-keys').send({ name: 'bad name!', role: 'reader' }), 400);
  });

  it('of several creations of one name at once, one gets the key and the others a 409, never a 500', async () => {
    const name = `race-${unique()}`;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => t.as.admin.post('/v1/api-keys').send({ name, role: 'reader' })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const refused of answers.filter((answer) => answer.status === 409)) {
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('an editor writes and is the author; reads stay open without a key', async () => {
    const event = (
      await t.http
        .post('/v1/events')
        .send(eventBody({ title: `Auth ${unique()}` }))
        .expect(201)
    ).body;
    expect(event.created_by).toBe('test-editor');
    await t.anonymous.get(`/v1/events/${event.id}`).expect(200);
    await t.anonymous.get('/v1/events').expect(200);
    await t.as.admin.post('/v1/actors').send(actorBody()).expect(201);
  });

  it('401 for a malformed Authorization header or an unknown key, even on an open read', async () => {
    for (const header of ['Basic dXNlcjpwdw==', 'Bearer', `Bearer cek_${'x'.repeat(43)}`, 'Bearer not-a-key']) {
      const problem = await expectProblem(t.anonymous.get('/v1/events').set('authorization', header), 401);
      expect(problem.detail).toMatch(/Bearer|not valid/);
    }
  });
});

describe('revocation', () => {
  it('a revoked key stops working at once', async () => {
    const name = `revoked-${unique()}`;
    const { key } = (await t.as.admin.post('/v1/api-keys').send({ name, role: 'editor' }).expect(201)).body;
    const withKey = () => t.anonymous.post('/v1/actors').set('authorization', `Bearer ${key}`).send(actorBody());
    await withKey().expect(201);
    await t.as.admin.delete(`/v1/api-keys/${name}`).expect(204);
    await expectProblem(withKey(), 401);
    await expectProblem(t.as.admin.delete(`/v1/api-keys/${name}`), 404);
    const listed = (await t.as.admin.get('/v1/api-keys').expect(200)).body.data as {
      name: string;
      revoked_at: string | null;
    }[];
    expect(listed.find((entry) => entry.name === name)?.revoked_at).not.toBeNull();
  });
});

describe('READ_ACCESS=key', () => {
  it('reads need a key of any role; health and the OpenAPI document stay open', async () => {
    await expectProblem(locked.anonymous.get('/v1/events'), 401);
    await expectProblem(locked.anonymous.get('/v1/event-types'), 401);
    await locked.as.reader.get('/v1/events').expect(200);
    await locked.anonymous.get('/healthz').expect(200);
    await locked.anonymous.get('/readyz').expect(200);
    await locked.anonymous.get('/openapi.json').expect(200);
  });
});

describe('logs', () => {
  it('never contain a key, valid or not, at the most verbose level', async () => {
    let logged = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged += String(chunk);
        done();
      },
    });
    const app = await buildApp({ db: t.db, logger: pino({ level: 'trace' }, sink) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const http = supertest(app.server);
      const wrong = `cek_${'Q'.repeat(43)}`;
      await http.post('/v1/actors').set('authorization', `Bearer ${t.keys.editor}`).send(actorBody()).expect(201);
      await http.get('/v1/events').set('authorization', `Bearer ${t.keys.reader}`).expect(200);
      await http.get('/v1/events').set('authorization', `Bearer ${wrong}`).expect(401);
      await http
        .post('/v1/api-keys')
        .set('authorization', `Bearer ${t.keys.admin}`)
        .send({ name: `log-${unique()}`, role: 'reader' });
    } finally {
      await app.close();
    }
    expect(logged.length).toBeGreaterThan(0);
    for (const key of [...Object.values(t.keys), `cek_${'Q'.repeat(43)}`]) expect(logged).not.toContain(key);
    expect(logged).not.toMatch(/cek_[A-Za-z0-9_-]{20,}/);
  });
});

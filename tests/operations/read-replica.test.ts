// DATABASE_READ_URL against a real streaming replica (tests/helpers/replica.ts): lists and
// exports read the replica, writes and single-resource reads the primary. The proof pauses
// the replica's WAL replay: a new event is then on the primary only, so a GET by id finds it
// while the list, the count, the CSV export and the reports list do not, until replay resumes.
// Uses servers of its own, with or without DATABASE_URL.
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { connectDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createKey } from '../../src/modules/keys/repository.js';
import { eventBody, unique } from '../helpers/fixtures.js';
import { startReplicatedPostgres, type ReplicatedPostgres } from '../helpers/replica.js';

let cluster: ReplicatedPostgres | undefined;
let db: Database | undefined;
let app: FastifyInstance | undefined;
let http: ReturnType<typeof supertest.agent>;

beforeAll(async () => {
  cluster = await startReplicatedPostgres();
  // Migrations run on the primary only; the replica gets the schema by replication.
  await runMigrations(cluster.primaryUrl);
  db = connectDatabase(cluster.primaryUrl, 5, cluster.replicaUrl);
  const { key } = (await createKey(db.prisma, 'replica-editor', 'editor', 'test'))!;
  app = await buildApp({ db });
  await app.listen({ port: 0, host: '127.0.0.1' });
  http = supertest.agent(app.server).set('authorization', `Bearer ${key}`);
  await cluster.caughtUp();
}, 120_000);

afterAll(async () => {
  // Each step even if an earlier one failed, so no server or folder is left behind.
  await app?.close().catch(() => {});
  await db?.close().catch(() => {});
  await cluster?.stop();
}, 60_000);

/** The ids a list page served. */
const ids = (body: { data: { id: string }[] }) => body.data.map((item) => item.id);

/** The ids in a CSV export. */
const csvIds = (text: string) => parse<{ id: string }>(text, { columns: true }).map((row) => row.id);

describe('DATABASE_READ_URL', () => {
  it('is an optional postgres URL, and without it the reads share the primary pool', async () => {
    expect(loadConfig({}).DATABASE_READ_URL).toBeUndefined();
    expect(loadConfig({ DATABASE_READ_URL: 'postgresql://reader@replica:5432/events' }).DATABASE_READ_URL).toBe(
      'postgresql://reader@replica:5432/events',
    );
    expect(() => loadConfig({ DATABASE_READ_URL: 'mysql://replica/events' })).toThrow(ConfigError);
    const single = connectDatabase('postgresql://postgres@127.0.0.1:1/unused', 1);
    expect(single.readPool).toBe(single.pool);
    await single.close();
    expect(db!.readPool).not.toBe(db!.pool);
  });

  it('points at a real streaming standby of the primary', async () => {
    const [standby] = (await db!.readPool.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery')).rows;
    const [primary] = (await db!.pool.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery')).rows;
    expect(standby?.recovery).toBe(true);
    expect(primary?.recovery).toBe(false);
    const senders = await db!.pool.query(
      `SELECT 1 FROM pg_stat_replication WHERE application_name = 'read_replica' AND state = 'streaming'`,
    );
    expect(senders.rowCount).toBe(1);
  });
});

describe('reads on the replica', () => {
  it('a POST goes to the primary, and once the replica has replayed it the list shows it', async () => {
    const tag = `replica-${unique()}`;
    const created = (
      await http
        .post('/v1/events')
        .send(eventBody({ title: `Replicated ${tag}`, tags: [tag] }))
        .expect(201)
    ).body;
    // The write is on the primary (the replica is read-only: it could not have taken it).
    const onPrimary = await db!.pool.query('SELECT 1 FROM events WHERE id = $1', [created.id]);
    expect(onPrimary.rowCount).toBe(1);
    await cluster!.caughtUp();
    const listed = (await http.get(`/v1/events?tag=${tag}&count=true`).expect(200)).body;
    expect(ids(listed)).toEqual([created.id]);
    expect(listed.total).toBe(1);
  });

  it('while replay is paused, lists and exports lag behind; single reads, If-Match writes and the change feed do not', async () => {
    const tag = `lag-${unique()}`;
    const before = (
      await http
        .post('/v1/events')
        .send(eventBody({ title: `Before the pause ${tag}`, tags: [tag] }))
        .expect(201)
    ).body;
    await cluster!.caughtUp();
    await cluster!.pauseReplay();
    let createdId: string;
    try {
      const created = (
        await http
          .post('/v1/events')
          .send(eventBody({ title: `During the pause ${tag}`, tags: [tag] }))
          .expect(201)
      ).body;
      createdId = created.id;
      const reportId: string = created.reports[0].id;

      // Single-resource reads and the ETag flow use the primary: the new event is there at once.
      const got = await http.get(`/v1/events/${created.id}`).expect(200);
      expect(got.headers.etag).toBe('"1"');
      await http
        .patch(`/v1/events/${created.id}`)
        .set('if-match', '"1"')
        .send({ title: `Patched ${tag}` })
        .expect(200);
      await http.get(`/v1/reports/${reportId}`).expect(200);
      const feed = (await http.get('/v1/changes?limit=1000').expect(200)).body;
      expect(feed.data.some((change: { id: string }) => change.id === created.id)).toBe(true);

      // The list, its count, a whole CSV export and the reports list read the paused replica: not yet.
      const listed = (await http.get(`/v1/events?tag=${tag}&count=true`).expect(200)).body;
      expect(ids(listed)).toEqual([before.id]);
      expect(listed.total).toBe(1);
      const csv = await http.get(`/v1/events?tag=${tag}&format=csv`).expect(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csvIds(csv.text)).toEqual([before.id]);
      const reports = (await http.get('/v1/reports?limit=100').expect(200)).body;
      expect(ids(reports)).not.toContain(reportId);
      expect(ids(reports)).toContain(before.reports[0].id);
    } finally {
      await cluster!.resumeReplay();
    }

    await cluster!.caughtUp();
    const listed = (await http.get(`/v1/events?tag=${tag}&count=true`).expect(200)).body;
    expect(new Set(ids(listed))).toEqual(new Set([before.id, createdId]));
    expect(listed.data.find((event: { id: string }) => event.id === createdId).title).toBe(`Patched ${tag}`);
    expect(listed.total).toBe(2);
    const csv = await http.get(`/v1/events?tag=${tag}&format=csv`).expect(200);
    expect(new Set(csvIds(csv.text))).toEqual(new Set([before.id, createdId]));
  });

  it('an unreachable replica fails the lists with a prompt 503, and writes and single reads go on', async () => {
    // The pool's connect timeout (2 s) bounds the wait; the primary is untouched.
    const broken = connectDatabase(cluster!.primaryUrl, 2, 'postgresql://postgres@127.0.0.1:1/unreachable');
    const second = await buildApp({ db: broken });
    await second.ready();
    try {
      const started = Date.now();
      const response = await supertest(second.server).get('/v1/events').timeout(10_000);
      expect(response.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(5_000);
      const [row] = (await db!.pool.query<{ id: string }>('SELECT id FROM events LIMIT 1')).rows;
      await supertest(second.server).get(`/v1/events/${row!.id}`).timeout(10_000).expect(200);
    } finally {
      await second.close();
      await broken.close();
    }
  });
});

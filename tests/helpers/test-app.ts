// Per test file: a database cloned from the migrated template, the real app on a
// real HTTP port, and supertest pointed at it.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { STALE_STATS } from '../../src/modules/stats/derive.js';
import supertest from 'supertest';
import { inject } from 'vitest';
import { buildApp, type AppDeps } from '../../src/app.js';
import type { ReadAccess } from '../../src/http/auth.js';
import type { TrustProxy } from '../../src/http/proxies.js';
import { postgresStore, type RateLimits } from '../../src/http/rate-limit.js';
import { createKey, ROLES, type Role } from '../../src/modules/keys/repository.js';
import { connectDatabase, type Database, type DatabaseOptions } from '../../src/db/client.js';
import { withDatabase } from './global-setup.js';
import { STALE_EVENT } from '../../src/modules/events/refresh.js';
import { nameKeys } from '../../src/modules/actors/repository.js';

export interface TestApp {
  app: FastifyInstance;
  db: Database;
  /** The test database's URL, for a second app instance or a raw client. */
  databaseUrl: string;
  /** Requests with an editor key (the author "test-editor"), as most tests write. */
  http: ReturnType<typeof supertest.agent>;
  /** Requests with no key. */
  anonymous: ReturnType<typeof supertest>;
  /** Requests with a key of each role. */
  as: Record<Role, ReturnType<typeof supertest.agent>>;
  /** The keys themselves, by role. */
  keys: Record<Role, string>;
  /** The events whose derived columns differ from what their rows give, and the stats tables' stale rows. */
  staleRows(): Promise<StaleRows>;
  /** Number of rows in each table, to prove a rejected write changed nothing. */
  rowCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

const TABLES = [
  'events',
  'reports',
  'report_via',
  'figures',
  'participants',
  'event_relations',
  'actors',
  'documents',
  'revisions',
  'idempotency_keys',
  'api_keys',
  'event_types',
];

export interface StaleRows {
  /** How many events have a status, figures from the evidence, search vector, report actor set, rendered JSON or CSV record other than derived. */
  events: number;
  /** Each stats table with stale rows, and how many. */
  stats: { table: string; rows: number }[];
  /** Names and aliases of live actors that do not find them in actor_names, and rows there that no live actor's name or alias gives. */
  actorNames: number;
}

/** How far actor_names is from the live actors' names and aliases, normalised as find-or-create does (nameKeys). */
async function staleActorNames(pool: pg.Pool): Promise<number> {
  const { rows: actors } = await pool.query<{
    id: string;
    kind: string;
    name: string;
    aliases: string[];
    merged_into: string | null;
  }>(`SELECT id::text, kind::text, name, aliases, merged_into::text FROM actors`);
  const { rows: names } = await pool.query<{ kind: string; normalized_name: string; actor_id: string }>(
    `SELECT kind::text, normalized_name, actor_id::text FROM actor_names`,
  );
  const byId = new Map(actors.map((actor) => [actor.id, actor]));
  const owners = new Map(names.map((row) => [`${row.kind}\u0000${row.normalized_name}`, row.actor_id]));
  let stale = 0;
  for (const row of names) {
    const actor = byId.get(row.actor_id);
    if (
      !actor ||
      actor.merged_into ||
      actor.kind !== row.kind ||
      !nameKeys(actor.name, actor.aliases).includes(row.normalized_name)
    )
      stale++;
  }
  for (const actor of actors) {
    if (actor.merged_into) continue;
    for (const key of nameKeys(actor.name, actor.aliases))
      if (owners.get(`${actor.kind}\u0000${key}`) !== actor.id) stale++;
  }
  return stale;
}

async function staleRows(pool: pg.Pool): Promise<StaleRows> {
  const stale = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM events e WHERE ${STALE_EVENT}`);
  const stats = (await pool.query<{ table: string; rows: number }>(STALE_STATS)).rows.filter((row) => row.rows > 0);
  return { events: stale.rows[0]?.n ?? 0, stats, actorNames: await staleActorNames(pool) };
}

export interface TestAppOptions {
  /** READ_ACCESS of the app: public (default) or key. */
  readAccess?: ReadAccess;
  /** TRUST_PROXY of the app: none by default. */
  trustProxy?: TrustProxy;
  /** Rate limits, counted in PostgreSQL (the test database); none by default. */
  rateLimits?: RateLimits;
  /** Runs after buildApp and before listen, to add routes or hooks a test needs (such as one that throws). */
  extend?(app: FastifyInstance): void | Promise<void>;
  /** Slots and statement timeouts of the database (connectDatabase's options). */
  database?: DatabaseOptions;
  /** More of buildApp's dependencies (a logger, the slow-client limits, pressure limits). */
  deps?: Partial<Omit<AppDeps, 'db' | 'readAccess'>>;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const adminUrl = inject('adminUrl');
  const name = `ce_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  await admin.end();

  const databaseUrl = withDatabase(adminUrl, name);
  // Tests write bulk rows and check derived columns through t.db.pool: its sessions get a minute, not a read's seconds.
  const timeouts = { read: 60_000, write: 60_000, ...options.database?.timeouts };
  const db = connectDatabase(databaseUrl, 5, undefined, { ...options.database, timeouts });
  const keys = {} as Record<Role, string>;
  for (const role of ROLES) keys[role] = (await createKey(db.prisma, `test-${role}`, role, 'test-setup'))!.key;
  const app = await buildApp({
    ...options.deps,
    db,
    readAccess: options.readAccess ?? 'public',
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(options.rateLimits ? { rateLimit: { store: postgresStore(db.pool), limits: options.rateLimits } } : {}),
  });
  await options.extend?.(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const as = Object.fromEntries(
    ROLES.map((role) => [role, supertest.agent(app.server).set('authorization', `Bearer ${keys[role]}`)]),
  ) as Record<Role, ReturnType<typeof supertest.agent>>;
  return {
    app,
    db,
    databaseUrl,
    http: as.editor,
    anonymous: supertest(app.server),
    as,
    keys,
    async rowCounts() {
      const counts: Record<string, number> = {};
      for (const table of TABLES) {
        const result = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
        counts[table] = Number(result.rows[0]?.n);
      }
      return counts;
    },
    staleRows: () => staleRows(db.pool),
    async close() {
      // Every writer must keep the derived columns current (the finish step, src/write/finish.ts).
      const { events: n, stats: staleStats, actorNames } = await staleRows(db.pool);
      await app.close();
      await db.close();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      if (n > 0)
        throw new Error(
          `${n} event(s) have a stale status, figures from the evidence, rendered JSON or CSV record, search vector, or reporter or via set: a write path skipped the finish step (src/write/finish.ts)`,
        );
      if (staleStats.length > 0)
        throw new Error(
          `stale stats rows (${staleStats.map((s) => `${s.table}: ${s.rows}`).join(', ')}): a write path skipped the finish step (src/write/finish.ts)`,
        );
      if (actorNames > 0)
        throw new Error(
          `${actorNames} actor name(s) or alias(es) differ between actors and actor_names: a write path changed an actor without claimNames (src/modules/actors/repository.ts)`,
        );
    },
  };
}

/** A second instance of the service on a test app's database, as behind a load balancer. */
export interface SecondInstance {
  /** supertest on the second instance, with the editor key, as `t.http` is on the first. */
  http: ReturnType<typeof supertest.agent>;
  close(): Promise<void>;
}

/** Starts another app on `t`'s database with a pool of its own of `poolSize` connections. */
export async function startSecondInstance(t: TestApp, poolSize: number): Promise<SecondInstance> {
  const db = connectDatabase(t.databaseUrl, poolSize);
  const app = await buildApp({ db });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    http: supertest.agent(app.server).set('authorization', `Bearer ${t.keys.editor}`),
    async close() {
      await app.close();
      await db.close();
    },
  };
}

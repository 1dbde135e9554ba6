// `npm run seed:synthetic` end to end, as a user runs it: a child process on the test's
// database, in both of its ways (a bulk load, with the indexes and foreign keys dropped and
// the events staged; and a small load in place), then the data read back through the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { EventSchema } from '../../src/modules/events/schemas.js';
import { runScript } from '../helpers/run-script.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const seed = (args: string[]) => runScript('scripts/seed-synthetic.ts', args, t.databaseUrl);

/** Every index, constraint and comment on them, as PostgreSQL describes them: what a load must leave as it found. */
async function schemaObjects(): Promise<string[]> {
  const { rows } = await t.db.pool.query<{ line: string }>(
    `SELECT 'index ' || i.indexdef || coalesce(' -- ' || obj_description(c.oid, 'pg_class'), '') AS line
       FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = current_schema()::regnamespace
      WHERE i.schemaname = current_schema()
     UNION ALL
     SELECT 'constraint ' || k.conrelid::regclass || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
            || CASE WHEN k.convalidated THEN '' ELSE ' NOT VALID' END
            || coalesce(' -- ' || obj_description(k.oid, 'pg_constraint'), '') AS line
       FROM pg_constraint k WHERE k.connamespace = current_schema()::regnamespace
     ORDER BY 1`,
  );
  return rows.map((row) => row.line);
}

type Event = z.infer<typeof EventSchema>;
type Figure = Event['figures'][number] | Event['reports'][number]['figures'][number];

const byId = (ref: { id: string }) => ({ id: ref.id });
const figureBody = ({ measure, low, best, high, qualifier, text, unit, subject }: Figure) => ({
  measure,
  low,
  best,
  high,
  ...(qualifier ? { qualifier } : {}),
  text,
  unit,
  subject: subject && byId(subject),
});

/** The body POST /v1/events takes for a served event: what it says, its actors and documents by id. */
const bodyOf = (event: Event) => ({
  type: event.type,
  title: event.title,
  description: event.description,
  ...(event.status_source === 'editor' ? { status: event.status } : {}),
  occurred: event.occurred,
  location: event.location,
  participants: event.participants.map((p) => ({ actor: byId(p.actor), role: p.role })),
  figures: event.figures.filter((f) => f.source === 'editor').map(figureBody),
  reports: event.reports.map((r) => ({
    reporter: byId(r.reporter),
    reporter_role: r.reporter_role,
    via: r.via.map(byId),
    document: r.document && byId(r.document),
    stated_at: r.stated_at,
    stance: r.stance,
    quote: r.quote,
    reliability: r.reliability,
    credibility: r.credibility,
    figures: r.figures.map(figureBody),
  })),
  tags: event.tags,
  relations: event.relations,
  external_ids: event.external_ids,
});

/** Who wrote a row, when, and its own id: what two writes of the same body differ in. */
const WRITE = ['id', 'event_id', 'report_id', 'created_at', 'updated_at', 'created_by', 'updated_by'];

/** The rows of an event in every table, each without WRITE's columns (and the event's renderings, which hold them). */
async function storedRows(id: string): Promise<unknown> {
  const { rows } = await t.db.pool.query<{ rows: unknown }>(
    `WITH strip AS (SELECT $2::text[] AS columns)
     SELECT jsonb_build_object(
       'event', to_jsonb(e) - columns - '{rendered,rendered_csv}'::text[],
       'participants', (SELECT jsonb_agg(to_jsonb(p) - columns ORDER BY p.position) FROM participants p WHERE p.event_id = e.id),
       'figures', (SELECT jsonb_agg(to_jsonb(f) - columns ORDER BY f.position) FROM figures f WHERE f.event_id = e.id),
       'relations', (SELECT jsonb_agg(to_jsonb(x) - columns ORDER BY x.related_event_id, x.relation) FROM event_relations x WHERE x.event_id = e.id),
       'reports', (SELECT jsonb_agg(report ORDER BY report::text) FROM (
         SELECT to_jsonb(r) - columns || jsonb_build_object(
           'via', (SELECT jsonb_agg(to_jsonb(v) - columns ORDER BY v.position) FROM report_via v WHERE v.report_id = r.id),
           'figures', (SELECT jsonb_agg(to_jsonb(f) - columns ORDER BY f.position) FROM figures f WHERE f.report_id = r.id)) AS report
         FROM reports r WHERE r.event_id = e.id) reports)) AS rows
     FROM events e, strip WHERE e.id = $1`,
    [id, WRITE],
  );
  return rows[0]?.rows;
}

/** A served event without WRITE's fields, its reports' too. */
const served = ({ id, created_at, updated_at, created_by, updated_by, reports, ...event }: Event) => ({
  ...event,
  reports: reports.map(({ id, event_id, created_at, updated_at, created_by, ...report }) => report),
});

const count = async (table: string) =>
  Number((await t.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);

describe('npm run seed:synthetic', () => {
  let before: string[];

  it('a bulk load: every event served, derived columns and stats current, indexes and keys as they were', async () => {
    before = await schemaObjects();
    expect(before.filter((line) => line.includes('FOREIGN KEY')).length).toBeGreaterThan(10);
    // --batch 40: the events' derived columns are inserted in several slices of the staged table.
    const run = await seed(['--events', '300', '--seed', '7', '--indexes', 'drop', '--batch', '40']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/seed:synthetic done: .*events=300 /);
    expect(run.stderr).toMatch(/Dropped \d+ foreign keys for the load/);
    expect(run.stderr).toMatch(/Time by phase: .*derived columns \d+\.\d s/);

    expect(await schemaObjects()).toEqual(before);
    expect(await t.staleRows()).toEqual({ events: 0, stats: [], actorNames: 0 });
    expect(await count('events')).toBe(300);
    // Events without an editor's estimate have figures from their reports, which staleRows checks too.
    expect(await count('figures WHERE derived')).toBeGreaterThan(10);
    expect(await count('reports')).toBeGreaterThan(300);

    const page = await t.http.get('/v1/events?limit=1000').expect(200);
    expect(page.body.data).toHaveLength(300);
    for (const item of page.body.data) EventSchema.parse(item);
  });

  it('the reporter and via filters find what the reports say', async () => {
    const { rows } = await t.db.pool.query<{ reporter_id: string; via: string }>(
      `SELECT (SELECT reporter_id FROM reports GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS reporter_id,
              (SELECT actor_id FROM report_via GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS via`,
    );
    const { reporter_id: reporter, via } = rows[0]!;
    const expected = async (condition: string, actor: string) =>
      (
        await t.db.pool.query<{ id: string }>(
          `SELECT e.id FROM events e WHERE e.deleted_at IS NULL AND EXISTS (
             SELECT 1 FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL AND ${condition}) ORDER BY e.id`,
          [actor],
        )
      ).rows.map((row) => row.id);
    const served = async (query: string) =>
      ((await t.http.get(`/v1/events?limit=1000&${query}`).expect(200)).body.data as { id: string }[])
        .map((e) => e.id)
        .sort();

    const byReporter = await expected('r.reporter_id = $1', reporter);
    expect(byReporter.length).toBeGreaterThan(1);
    expect(await served(`reporter=${reporter}`)).toEqual(byReporter);
    const byVia = await expected(
      'EXISTS (SELECT 1 FROM report_via v WHERE v.report_id = r.id AND v.actor_id = $1)',
      via,
    );
    expect(byVia.length).toBeGreaterThan(1);
    expect(await served(`via=${via}`)).toEqual(byVia);
  });

  it('a small load in place appends to what is there, as current', async () => {
    const run = await seed(['--events', '200', '--seed', '8', '--indexes', 'keep']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/Dropped/);
    expect(await count('events')).toBe(500);
    expect(await schemaObjects()).toEqual(before);
    expect(await t.staleRows()).toEqual({ events: 0, stats: [], actorNames: 0 });
    expect(await count('figures WHERE derived')).toBeGreaterThan(20);
  });

  it('a loaded event has the rows and rendering POST /v1/events gives the same body: one mapping of an event to rows', async () => {
    const loaded = (await t.http.get('/v1/events?limit=100').expect(200)).body.data as Event[];
    expect(loaded).toHaveLength(100);
    // The events compared have what a column could go wrong on: an editor's bare low/best/high and
    // worded figures, reporters' figures, via chains, dates without a time, no coordinates.
    const figures = loaded.flatMap((e) => [...e.figures, ...e.reports.flatMap((r) => r.figures)]);
    expect(loaded.some((e) => e.figures.some((f) => f.source === 'editor' && f.text === null))).toBe(true);
    expect(new Set(figures.map((f) => f.qualifier)).size).toBeGreaterThan(5);
    expect(loaded.some((e) => e.reports.some((r) => r.figures.length > 0 && r.via.length > 0))).toBe(true);
    expect(loaded.some((e) => e.reports.some((r) => r.stated_at?.length === 10))).toBe(true);
    expect(loaded.some((e) => e.location.lat === null)).toBe(true);

    for (const event of loaded) {
      const posted = (await t.http.post('/v1/events').send(bodyOf(event)).expect(201)).body as Event;
      expect(served(posted), event.id).toEqual(served(event));
      const [mine, theirs] = [await storedRows(posted.id), await storedRows(event.id)];
      expect(mine).toMatchObject({ event: { title: event.title }, reports: expect.any(Array) });
      expect(mine, event.id).toEqual(theirs);
    }
  });

  it('a bad option: exit 2 with the usage, nothing loaded', async () => {
    const run = await seed(['--events', 'many']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--events must be an integer, got "many"/);
    expect(await count('events')).toBe(600);
  });
});

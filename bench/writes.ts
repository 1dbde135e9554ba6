// The write benchmark (run by hand, never in CI):
//
//   npm run build && node --import tsx bench/writes.ts --database-url postgresql://.../NAME_bench [--duration 20]
//       [--connections 10] [--sample 50] [--service dist/server.js] [--port 3206] [--out FILE]
//
// Measures the write ceiling of this design and the service's POST and PATCH rates against it, in one run
// (issue 19, "Writes that scale"). It writes thousands of events, so it refuses a database whose name does
// not contain "bench"; meant for a scratch database (it counts every table's rows after each phase).
// It starts the built service (node dist/server.js with npm start's flags, scripts/service-flags.ts), which
// migrates the database, creates an editor key and a pool of 50 actors through the API, then runs:
//   1. POST: for --duration seconds, --connections clients POST /v1/events, each body an event with one
//      participant and 2 reports naming actors of the pool by name (one through a via), a document by a URL
//      new to each event and 2 figures. Any answer but 201 is an error.
//   2. PATCH: the same duration and concurrency of PATCH /v1/events/{id} (a new title), each client on the
//      events it created, with the ETag of its last answer, so no write loses a race. Any answer but 200 is an error.
//   3. Direct insert, the ceiling: the service stopped, --connections pg clients write the same rows straight into
//      PostgreSQL, one transaction per event. The rows come from --sample events the POST phase created (every
//      table one POST fills, stored renderings included), replayed with fresh ids and a fresh document URL, one
//      prepared statement per table, the daily rollups as upserts, the revisions' ids from their sequence.
// Per phase: events/s, p50/p99 latency, errors, and CPU per write of the service (/proc/<pid>/stat) and of
// the PostgreSQL backends connected to the database. After each phase it counts every table's rows, bytes
// and tuples written (pg_stat_user_tables), per write, so the ceiling can be seen to write what a POST does.
// It prints Markdown, and writes it to --out when given. The key is revoked at the end; the data stays.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connectDatabase } from '../src/db/client.js';
import { uuidv7 } from '../src/db/uuid.js';
import { createKey, revokeKey } from '../src/modules/keys/repository.js';
import { SERVICE_NODE_FLAGS } from '../scripts/service-flags.js';
import { cpuSeconds } from './proc.js';
import { httpRequest } from './http.js';
import { waitUntilAnswering } from './wait.js';

const { values: args } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '10' },
    sample: { type: 'string', default: '50' },
    service: { type: 'string', default: 'dist/server.js' },
    port: { type: 'string', default: '3206' },
    out: { type: 'string' },
  },
});
const databaseUrl = args['database-url'];
const duration = Number(args.duration);
const connections = Number(args.connections);
const sampleSize = Number(args.sample);
const port = Number(args.port);
if (!databaseUrl || !new URL(databaseUrl).pathname.includes('bench')) {
  process.stderr.write(
    'usage: node --import tsx bench/writes.ts --database-url <url of a database named *bench*> ...\n',
  );
  process.exit(2);
}
if (![duration, connections, sampleSize, port].every((n) => Number.isInteger(n) && n > 0))
  throw new Error('--duration, --connections, --sample and --port are positive integers');
const ACTORS = 50;

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

// ---------------------------------------------------------------- the service

let service: ChildProcess | null = null;
let serviceExit: string | null = null;

async function startService(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, args.service], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // The rate limiter counts every request as usual, with limits above the benchmark's rate.
      RATE_LIMIT_PER_MINUTE: '100000000',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000000',
    },
    // Its log goes to standard error, so standard output is the Markdown alone.
    stdio: ['ignore', 2, 2],
  });
  child.on('exit', (code, signal) => {
    serviceExit = `exit code ${code}, signal ${signal}`;
  });
  process.on('exit', () => child.kill('SIGTERM'));
  await waitUntilAnswering(`http://127.0.0.1:${port}/readyz`, 120, () => serviceExit);
  return child;
}

async function stopService(child: ChildProcess): Promise<void> {
  if (serviceExit) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
}

// ---------------------------------------------------------------- HTTP

const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
let authorization = '';

/** Sends a JSON body with the editor key; answers the status, the ETag and the body. */
async function send(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const payload = Buffer.from(JSON.stringify(body));
  const answer = await httpRequest(port, agent, {
    method,
    path,
    payload,
    headers: { authorization, 'content-type': 'application/json', 'content-length': payload.length, ...headers },
  });
  return { status: answer.status, etag: answer.headers.etag, body: answer.body };
}

// ---------------------------------------------------------------- request bodies

const PLACES = [
  { admin1: 'Donetsk Oblast', country: 'UKR', lat: 48.02, lon: 37.8 },
  { admin1: 'Kursk Oblast', country: 'RUS', lat: 51.73, lon: 36.19 },
  { admin1: 'North Darfur', country: 'SDN', lat: 13.63, lon: 25.35 },
  { admin1: 'Sagaing Region', country: 'MMR', lat: 22.0, lon: 95.98 },
  { admin1: 'North Kivu', country: 'COD', lat: -1.67, lon: 29.22 },
] as const;
const KINDS = ['agency', 'military', 'media', 'group'] as const;

/** The pool of actors the bodies name (by kind and name): created before the load, so no POST creates one. */
const actors = Array.from({ length: ACTORS }, (_, i) => ({ name: `Writes bench actor ${i}`, kind: KINDS[i % 4]! }));
let eventTypes: string[] = [];
let serial = 0;

/** A day from 2014 to 2025, so that two events rarely share a (day, type) rollup row. */
function randomDay(): string {
  const from = Date.UTC(2014, 0, 1);
  return new Date(from + Math.random() * (Date.UTC(2025, 11, 31) - from)).toISOString().slice(0, 10);
}

/** An event with one participant and 2 reports by actors of the pool (one via another), a new document and 2 figures. */
function eventBody(): Record<string, unknown> {
  serial += 1;
  const place = pick(PLACES);
  const day = randomDay();
  const [first, second, via, participant] = [pick(actors), pick(actors), pick(actors), pick(actors)];
  return {
    type: pick(eventTypes),
    title: `Writes bench event ${serial}: shelling reported near ${place.admin1}`,
    description: 'Written by bench/writes.ts.',
    occurred: { start: day, precision: 'day' },
    location: { ...place, precision: 'admin1' },
    participants: [{ actor: participant, role: 'perpetrator' }],
    reports: [
      {
        reporter: first,
        reporter_role: 'party',
        document: { url: `https://writes.bench.example.org/${randomUUID()}`, publisher: 'Bench Wire' },
        stated_at: day,
        stance: 'asserts',
        quote: `Bench quote ${serial}: an officer said the position was shelled at dawn.`,
        reliability: 'B',
        credibility: 2,
        figures: [{ measure: 'killed', value: 1 + (serial % 40), qualifier: 'approximately' }],
      },
      {
        reporter: second,
        reporter_role: 'third_party',
        via: [via],
        stated_at: day,
        stance: 'asserts',
        quote: `Bench quote ${serial}: residents reported several wounded.`,
        reliability: 'C',
        credibility: 3,
        figures: [{ measure: 'wounded', low: 2, high: 10 + (serial % 20) }],
      },
    ],
    tags: ['bench-writes'],
  };
}

// ---------------------------------------------------------------- measuring a phase

interface Phase {
  name: string;
  writes: number;
  errors: number;
  errorSamples: string[];
  latencies: number[];
  seconds: number;
  serviceCpu: number;
  pgCpu: number;
}

/** CPU seconds of each PostgreSQL backend connected to the database (same machine: /proc). */
async function backendCpu(pool: pg.Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`,
  );
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      cpu.set(pid, cpuSeconds(pid));
    } catch {
      // ended meanwhile, or PostgreSQL on another machine
    }
  }
  return cpu;
}

/**
 * Runs `step` in --connections loops for --duration seconds; a step returns null when it wrote, or what went
 * wrong. Latency is the step's whole time; CPU is the service's (when running) and the database backends'.
 */
async function measure(pool: pg.Pool, name: string, step: (client: number) => Promise<string | null>): Promise<Phase> {
  const phase: Phase = {
    name,
    writes: 0,
    errors: 0,
    errorSamples: [],
    latencies: [],
    seconds: 0,
    serviceCpu: NaN,
    pgCpu: 0,
  };
  const pid = service && !serviceExit ? service.pid : undefined;
  const serviceBefore = pid ? cpuSeconds(pid) : 0;
  const pgBefore = await backendCpu(pool);
  const started = performance.now();
  const end = started + duration * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, client) => {
      while (performance.now() < end) {
        const sent = performance.now();
        const problem = await step(client).catch((error: unknown) =>
          error instanceof Error ? error.message : String(error),
        );
        phase.latencies.push(performance.now() - sent);
        if (problem === null) phase.writes += 1;
        else {
          phase.errors += 1;
          if (phase.errorSamples.length < 5) phase.errorSamples.push(problem.slice(0, 300));
        }
      }
    }),
  );
  phase.seconds = (performance.now() - started) / 1000;
  if (pid) phase.serviceCpu = cpuSeconds(pid) - serviceBefore;
  const pgAfter = await backendCpu(pool);
  // No backend readable: PostgreSQL runs on another machine.
  if (pgAfter.size === 0) phase.pgCpu = NaN;
  for (const [backend, cpu] of pgAfter) phase.pgCpu += cpu - (pgBefore.get(backend) ?? 0);
  return phase;
}

// ---------------------------------------------------------------- the phases

/** The events each client created, with their ETags: the PATCH phase writes to them, the ceiling copies some. */
const owned: { id: string; etag: string }[][] = Array.from({ length: connections }, () => []);

async function postPhase(pool: pg.Pool): Promise<Phase> {
  return measure(pool, 'service: POST /v1/events', async (client) => {
    const answer = await send('POST', '/v1/events', eventBody());
    if (answer.status !== 201) return `${answer.status} ${answer.body}`;
    owned[client]!.push({ id: (JSON.parse(answer.body) as { id: string }).id, etag: answer.etag! });
    return null;
  });
}

async function patchPhase(pool: pg.Pool): Promise<Phase> {
  const next = Array.from({ length: connections }, () => 0);
  return measure(pool, 'service: PATCH /v1/events/{id}', async (client) => {
    const mine = owned[client]!;
    if (mine.length === 0) throw new Error('this client created no event to patch');
    const event = mine[next[client]!++ % mine.length]!;
    serial += 1;
    const answer = await send(
      'PATCH',
      `/v1/events/${event.id}`,
      { title: `Writes bench event, edited ${serial}` },
      { 'content-type': 'application/merge-patch+json', 'if-match': event.etag },
    );
    if (answer.status !== 200) return `${answer.status} ${answer.body}`;
    event.etag = answer.etag!;
    return null;
  });
}

/** The tables one POST fills, in the order the ceiling writes them (the keys need no deferring then). */
const REPLAYED = [
  'documents',
  'events',
  'reports',
  'report_via',
  'participants',
  'figures',
  'event_stats',
  'event_figure_stats',
  'revisions',
] as const;
type Replayed = (typeof REPLAYED)[number];

/** One event's rows in every table, as JSON arrays (text), and the ids (and URL token) to replace in them. */
interface Template {
  rows: Record<Replayed, string>;
  ids: RegExp;
}

/** The rows of the event `$1` in each table of REPLAYED, each table's as a JSON array (json_agg). */
const TEMPLATE_SQL = `
  WITH r AS (SELECT id, document_id FROM reports WHERE event_id = $1::uuid)
  SELECT
    (SELECT json_agg(t) FROM documents t WHERE t.id IN (SELECT document_id FROM r))::text AS documents,
    (SELECT json_agg(t) FROM events t WHERE t.id = $1::uuid)::text AS events,
    (SELECT json_agg(t) FROM reports t WHERE t.event_id = $1::uuid)::text AS reports,
    (SELECT json_agg(t) FROM report_via t WHERE t.report_id IN (SELECT id FROM r))::text AS report_via,
    (SELECT json_agg(t) FROM participants t WHERE t.event_id = $1::uuid)::text AS participants,
    (SELECT json_agg(t) FROM figures t WHERE t.event_id = $1::uuid OR t.report_id IN (SELECT id FROM r))::text AS figures,
    (SELECT json_agg(t) FROM event_stats t WHERE t.event_id = $1::uuid)::text AS event_stats,
    (SELECT json_agg(t) FROM event_figure_stats t WHERE t.event_id = $1::uuid)::text AS event_figure_stats,
    (SELECT json_agg(t) FROM revisions t WHERE t.action = 'created' AND t.resource_id IN (
       SELECT $1::uuid UNION ALL SELECT id FROM r UNION ALL SELECT document_id FROM r))::text AS revisions`;

async function loadTemplates(pool: pg.Pool, ids: string[]): Promise<Template[]> {
  const templates: Template[] = [];
  for (const id of ids) {
    const { rows } = await pool.query<Record<Replayed, string | null>>(TEMPLATE_SQL, [id]);
    const rowsOf = Object.fromEntries(REPLAYED.map((table) => [table, rows[0]![table] ?? '[]'])) as Record<
      Replayed,
      string
    >;
    const parsed = (table: Replayed) => JSON.parse(rowsOf[table]) as { id: string; url?: string }[];
    // Every id the event's rows were given (the revisions' come from their sequence), and the document URL's token.
    const old = [
      ...['events', 'reports', 'figures', 'documents'].flatMap((table) => parsed(table as Replayed).map((r) => r.id)),
      ...parsed('documents').map((d) => /[0-9a-f-]{36}$/.exec(d.url!)![0]),
    ];
    templates.push({ rows: rowsOf, ids: new RegExp(old.join('|'), 'g') });
  }
  return templates;
}

/** The statements writing one event: one per table, each reading its rows from $1 (json_populate_recordset). */
async function replayStatements(pool: pg.Pool): Promise<{ name: string; text: string; rows: Replayed[] }[]> {
  const { rows } = await pool.query<{ table: string; columns: string[] }>(
    `SELECT table_name AS table, array_agg(quote_ident(column_name::text) ORDER BY ordinal_position) AS columns
     FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name::text = ANY($1::text[]) AND is_generated = 'NEVER'
       AND NOT (table_name = 'revisions' AND column_name = 'id')
     GROUP BY table_name`,
    [REPLAYED],
  );
  const columns = new Map(rows.map((row) => [row.table, row.columns.join(', ')]));
  const inserts = REPLAYED.map((table) => ({
    name: `writes-bench-${table}`,
    text: `INSERT INTO ${table} (${columns.get(table)}) SELECT ${columns.get(table)} FROM json_populate_recordset(NULL::${table}, $1::json)`,
    rows: [table],
  }));
  // The daily rollups as the service keeps them, one (day, type) row and one row per measure, added to rather than recounted.
  const add = (column: string) =>
    `${column} = CASE WHEN excluded.${column} IS NULL THEN d.${column} ELSE COALESCE(d.${column}, 0) + excluded.${column} END, ` +
    `${column}_n = d.${column}_n + excluded.${column}_n`;
  return [
    ...inserts,
    {
      name: 'writes-bench-daily_event_stats',
      text: `INSERT INTO daily_event_stats AS d (day, type, events, reports)
             SELECT s.occurred_start, s.type, 1, s.reports FROM json_populate_recordset(NULL::event_stats, $1::json) s
             ON CONFLICT (day, type) DO UPDATE SET events = d.events + 1, reports = d.reports + excluded.reports`,
      rows: ['event_stats'],
    },
    {
      name: 'writes-bench-daily_figure_stats',
      text: `INSERT INTO daily_figure_stats AS d (day, type, measure, events, low, low_n, best, best_n, high, high_n)
             SELECT s.occurred_start, s.type, g.measure, 1, g.low, (g.low IS NOT NULL)::int, g.best, (g.best IS NOT NULL)::int,
                    g.high, (g.high IS NOT NULL)::int
             FROM json_populate_recordset(NULL::event_stats, $1::json) s
             CROSS JOIN json_populate_recordset(NULL::event_figure_stats, $2::json) g
             ORDER BY g.measure
             ON CONFLICT (day, type, measure) DO UPDATE SET events = d.events + 1, ${add('low')}, ${add('best')}, ${add('high')}`,
      rows: ['event_stats', 'event_figure_stats'],
    },
  ];
}

/**
 * The ceiling: each client replays its share of the templates (so no two clients write the same rollup rows at
 * once unless two templates share a day and type), with fresh ids, one transaction per event.
 */
async function directPhase(pool: pg.Pool, templates: Template[]): Promise<Phase> {
  const statements = await replayStatements(pool);
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      return client;
    }),
  );
  const shares = clients.map((_, c) => {
    const share = templates.filter((_, i) => i % connections === c);
    return share.length > 0 ? share : [templates[c % templates.length]!];
  });
  const next = clients.map(() => 0);
  try {
    return await measure(pool, 'direct insert (the ceiling)', async (c) => {
      const share = shares[c]!;
      const template = share[next[c]!++ % share.length]!;
      // Rising ids (UUIDv7), as the service gives: new index entries go to the right end, as theirs do.
      const fresh = new Map<string, string>();
      const renew = (old: string) => {
        let id = fresh.get(old);
        if (!id) fresh.set(old, (id = uuidv7()));
        return id;
      };
      const rows = Object.fromEntries(
        REPLAYED.map((table) => [table, template.rows[table].replace(template.ids, renew)]),
      ) as Record<Replayed, string>;
      const client = clients[c]!;
      await client.query('BEGIN');
      try {
        for (const statement of statements)
          await client.query({
            name: statement.name,
            text: statement.text,
            values: statement.rows.map((table) => rows[table]),
          });
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      return null;
    });
  } finally {
    // Closed before the counts: a backend that ends reports its tuple counts at once.
    await Promise.all(clients.map((client) => client.end()));
  }
}

// ---------------------------------------------------------------- rows per table

interface TableCounts {
  rows: number;
  bytes: number;
  inserted: number;
  updated: number;
  deleted: number;
}

/**
 * Every table's rows, their bytes (pg_column_size of each row) and the tuples written to it so far
 * (pg_stat_user_tables). A backend reports its tuple counts at most once a second, and one that went idle
 * before its turn within 10 s (PostgreSQL 15's PGSTAT_IDLE_INTERVAL): the counts are read after 11 s.
 */
async function countTables(pool: pg.Pool): Promise<Map<string, TableCounts>> {
  await sleep(11_000);
  const { rows: stats } = await pool.query<{ table: string; inserted: string; updated: string; deleted: string }>(
    `SELECT relname AS table, n_tup_ins AS inserted, n_tup_upd AS updated, n_tup_del AS deleted
     FROM pg_stat_user_tables WHERE schemaname = current_schema() ORDER BY relname`,
  );
  const counts = new Map<string, TableCounts>();
  for (const row of stats) {
    const size = (
      await pool.query<{ rows: string; bytes: string }>(
        `SELECT count(*) AS rows, COALESCE(sum(pg_column_size(t.*)), 0) AS bytes FROM ${pg.escapeIdentifier(row.table)} t`,
      )
    ).rows[0]!;
    counts.set(row.table, {
      rows: Number(size.rows),
      bytes: Number(size.bytes),
      inserted: Number(row.inserted),
      updated: Number(row.updated),
      deleted: Number(row.deleted),
    });
  }
  return counts;
}

/** Per write of a phase, for each table: new rows, bytes per new row, and tuples inserted/updated/deleted. */
function perWrite(before: Map<string, TableCounts>, after: Map<string, TableCounts>, writes: number) {
  return new Map(
    [...after].map(([table, a]) => {
      const b = before.get(table) ?? { rows: 0, bytes: 0, inserted: 0, updated: 0, deleted: 0 };
      const rows = a.rows - b.rows;
      return [
        table,
        {
          rows: rows / writes,
          bytesPerRow: rows > 0 ? (a.bytes - b.bytes) / rows : NaN,
          tuples: [a.inserted - b.inserted, a.updated - b.updated, a.deleted - b.deleted].map((n) => n / writes),
        },
      ];
    }),
  );
}

// ---------------------------------------------------------------- main

const startedAt = new Date();
const loadAtStart = os.loadavg();
const db = connectDatabase(databaseUrl, 3);
const keyName = `writes-bench-${startedAt.toISOString().replace(/\D/g, '').slice(0, 14)}`;
let report = '';
try {
  service = await startService();
  const created = await createKey(db.prisma, keyName, 'editor', 'bench-writes');
  if (!created) throw new Error(`the key name ${keyName} is taken`);
  authorization = `Bearer ${created.key}`;
  eventTypes = (await db.pool.query<{ code: string }>('SELECT code FROM event_types ORDER BY code')).rows.map(
    (row) => row.code,
  );
  for (const actor of actors) {
    const answer = await send('POST', '/v1/actors', actor);
    if (answer.status !== 200 && answer.status !== 201)
      throw new Error(`creating an actor: ${answer.status} ${answer.body}`);
  }
  const { events: eventsAtStart } = (await db.pool.query<{ events: string }>('SELECT count(*) AS events FROM events'))
    .rows[0]!;

  const counts = [await countTables(db.pool)];
  console.error(`writes: POST for ${duration} s at ${connections} connections`);
  const post = await postPhase(db.pool);
  counts.push(await countTables(db.pool));
  // The templates of the ceiling, as the POST phase left them (before the PATCH phase edits them): every step-th
  // event created, so they spread over the run.
  const createdIds = owned.flat().map((event) => event.id);
  const step = Math.max(1, Math.floor(createdIds.length / sampleSize));
  const sample = createdIds.filter((_, i) => i % step === 0).slice(0, sampleSize);
  if (sample.length === 0) throw new Error('the POST phase created no event to copy');
  const templates = await loadTemplates(db.pool, sample);
  console.error(`writes: PATCH for ${duration} s`);
  const patch = await patchPhase(db.pool);
  await stopService(service);
  counts.push(await countTables(db.pool));

  console.error(`writes: direct insert for ${duration} s, ${sample.length} events as templates`);
  const direct = await directPhase(db.pool, templates);
  counts.push(await countTables(db.pool));
  const loadAtEnd = os.loadavg();

  // ---------------------------------------------------------------- report
  const percentile = (sorted: number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
  const ceiling = direct.writes / direct.seconds;
  const rate = (phase: Phase) => phase.writes / phase.seconds;
  const row = (phase: Phase) => {
    const sorted = [...phase.latencies].sort((a, b) => a - b);
    const perWriteUs = (seconds: number) => fmt((seconds / phase.writes) * 1e6);
    return `| ${phase.name} | ${phase.writes.toLocaleString('en')} | ${fmt(rate(phase), 1)} | ${fmt(percentile(sorted, 50), 1)} / ${fmt(percentile(sorted, 99), 1)} | ${phase.errors} | ${perWriteUs(phase.serviceCpu)} | ${perWriteUs(phase.pgCpu)} | ${fmt(rate(phase) / ceiling, 2)} |`;
  };
  const verdict = (phase: Phase) => {
    const p99 = percentile(
      [...phase.latencies].sort((a, b) => a - b),
      99,
    );
    const met = rate(phase) / ceiling >= 0.5 && p99 <= 100 && phase.errors === 0;
    return `${phase.name}: ${fmt(rate(phase) / ceiling, 2)}x the ceiling, p99 ${fmt(p99)} ms, ${phase.errors} errors: ${met ? 'met' : 'not met'}`;
  };
  const [postRows, patchRows, directRows] = [
    perWrite(counts[0]!, counts[1]!, post.writes),
    perWrite(counts[1]!, counts[2]!, patch.writes),
    perWrite(counts[2]!, counts[3]!, direct.writes),
  ];
  const tuples = (t: number[]) => t.map((n) => fmt(n, 2)).join(' / ');
  const tableRows = [...counts[3]!.keys()]
    .filter((table) =>
      [postRows, patchRows, directRows].some((rows) => {
        const r = rows.get(table);
        return r && (r.rows !== 0 || r.tuples.some((n) => n !== 0));
      }),
    )
    .map((table) => {
      const [p, d, u] = [postRows.get(table)!, directRows.get(table)!, patchRows.get(table)!];
      return `| ${table} | ${fmt(p.rows, 2)} | ${tuples(p.tuples)} | ${fmt(p.bytesPerRow)} | ${fmt(d.rows, 2)} | ${tuples(d.tuples)} | ${fmt(d.bytesPerRow)} | ${fmt(u.rows, 2)} | ${tuples(u.tuples)} |`;
    });
  const load = (l: number[]) => l.map((n) => n.toFixed(2)).join(' / ');
  const errorLines = [post, patch, direct].flatMap((phase) =>
    phase.errorSamples.map((sample) => `- ${phase.name}: ${sample}`),
  );
  report = [
    `Write benchmark on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}) shared by the`,
    `service, PostgreSQL and this script; Node ${process.version}; ${Number(eventsAtStart).toLocaleString('en')} events at the start.`,
    `Load average (1 / 5 / 15 min): ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end.`,
    '',
    '```sh',
    `node --import tsx bench/writes.ts --database-url <url> --duration ${duration} --connections ${connections} --sample ${sample.length}` +
      (args.service === 'dist/server.js' ? '' : ` --service ${args.service}`),
    '```',
    '',
    `${duration} s per phase, ${connections} concurrent clients. The ceiling replays ${sample.length} events the POST phase`,
    'created, with fresh ids, one transaction per event and one prepared statement per table (daily rollups as upserts).',
    'CPU per write: the service process, and the PostgreSQL backends connected to the database (/proc).',
    '',
    '| phase | writes | events/s | p50 / p99 ms | errors | service CPU µs per write | PostgreSQL CPU µs per write | ratio to the ceiling |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row(direct),
    row(post),
    row(patch),
    '',
    `Targets (issue 19: >= 0.5x the ceiling, p99 <= 100 ms): ${verdict(post)}; ${verdict(patch)}.`,
    '',
    'Rows per write, by table: new rows (count after the phase less before), tuples inserted / updated / deleted',
    '(pg_stat_user_tables) and bytes per new row (pg_column_size). The service recounts a daily rollup row (delete, insert);',
    'the ceiling adds to it (an update, or an insert for a new day and type).',
    '',
    '| table | POST rows | POST ins / upd / del | POST bytes per row | direct rows | direct ins / upd / del | direct bytes per row | PATCH rows | PATCH ins / upd / del |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...tableRows,
    ...(errorLines.length > 0 ? ['', 'First errors:', '', ...errorLines] : []),
  ].join('\n');
} finally {
  agent.destroy();
  if (service) await stopService(service);
  await revokeKey(db.prisma, keyName, 'bench-writes').catch(() => false);
  await db.close();
}
console.log(report);
if (args.out) writeFileSync(args.out, `${report}\n`);

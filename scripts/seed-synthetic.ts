// npm run seed:synthetic -- --events N [--seed S] [--batch B] [--indexes auto|drop|keep]
//
// Loads realistic synthetic conflict events (with reports, documents, figures,
// participants, via chains and a few relations) into the database of DATABASE_URL,
// or the embedded one when it is unset, for benchmarks and demos. Each event is made
// as a body and turned into rows by the API's own mapping (eventRows, as POST /v1/events
// and the import do); the rows are kept as COPY text and streamed chunk by chunk, so
// memory stays flat at any size.
//
// Decisions:
// - The whole load is one transaction: an interrupted or failed run appends nothing,
//   and the secondary indexes and foreign keys dropped for speed come back by rollback
//   whatever happens (even a killed process, as the server rolls back a dropped
//   connection). The price: the loaded tables are locked against other sessions until
//   the load commits.
// - A large load (see --indexes) copies the events into a temporary table first and
//   inserts them into events with their derived columns at the end, once their reports
//   are in: each event row is written once (insertDerivedEvents), a slice of about
//   --batch events per statement so the progress bar can count that pass too. A small
//   one copies them into events and derives their columns in place, keeping every key
//   checked as it goes.
// - Appends only. Actors are found by (kind, normalized_name) as the API does, so a
//   second run (same seed or not) reuses them; documents get new URLs numbered after
//   the highest synthetic one stored, so every run adds its own documents.
// - The same seed gives the same content. Ids are UUIDv7 from src/db/uuid.ts, whose
//   time part is the row's created_at but whose other bits are random, and created_at
//   is capped at the time of the run; those are the only differences between runs.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { runMigrations } from '../src/db/migrate.js';
import { locateDatabase } from '../src/db/open.js';
import { buildActors } from './synthetic/actors.js';
import {
  addForeignKeys,
  copyRows,
  createIndexes,
  dropForeignKeys,
  dropIndexes,
  foreignKeys,
  nextDocumentNumber,
  resolveActors,
  secondaryIndexes,
} from './synthetic/database.js';
import { DOCUMENT_BASE, EventGenerator, TABLES, emptyRows, type Rows } from './synthetic/events.js';
import { Progress } from './synthetic/progress.js';
import { insertDerivedEvents, insertEvidenceFigures, REFRESH_EVENTS } from '../src/modules/events/refresh.js';
import { rebuildStats } from '../src/modules/stats/derive.js';

const USAGE = `Usage: npm run seed:synthetic -- --events N [--seed S] [--batch B] [--indexes auto|drop|keep]

  --events N    number of events to add (required, N >= 1)
  --seed S      seed of the generator; the same seed gives the same data (default 1)
  --batch B     events per chunk: generated and copied, then given their derived
                columns (default 5000; larger chunks use more memory and are not
                faster)
  --indexes M   drop the secondary indexes and foreign keys of the loaded tables
                during the load and re-create them after (checking every row once):
                drop, keep, or auto (default: drop when the load is large next to
                the data already there)

Loads into DATABASE_URL, or the embedded PostgreSQL when it is unset.`;

function usage(problem: string): never {
  process.stderr.write(`${problem}\n\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        events: { type: 'string' },
        seed: { type: 'string', default: '1' },
        batch: { type: 'string', default: '5000' },
        indexes: { type: 'string', default: 'auto' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const integer = (name: string, raw: string | undefined, min: number, max: number): number => {
    if (raw === undefined) usage(`--${name} is required`);
    if (!/^\d+$/.test(raw)) usage(`--${name} must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) usage(`--${name} must be between ${min} and ${max}, got ${raw}`);
    return n;
  };
  const indexes = values.indexes;
  if (indexes !== 'auto' && indexes !== 'drop' && indexes !== 'keep')
    usage(`--indexes must be auto, drop or keep, got "${indexes}"`);
  return {
    events: integer('events', values.events, 1, 100_000_000),
    seed: integer('seed', values.seed, 0, 2 ** 32 - 1),
    batch: integer('batch', values.batch, 1, 1_000_000),
    indexes,
  };
}

/** The tables whose secondary indexes are worth dropping: the ones that get millions of rows. */
const BIG_TABLES = ['events', 'reports', 'report_via', 'participants', 'figures'];
/**
 * The stats tables with a row per event, rebuilt whole at the end (rebuildStats): a bulk load
 * drops their secondary indexes and foreign keys too. Checking event_stats' key row by row
 * took 16 s of the 30 s its rebuild took on 1M events.
 */
const STATS_TABLES = ['event_stats', 'event_figure_stats'];
/** The temporary table a bulk load copies the events into (see the decisions above). */
const STAGED_EVENTS = 'staged_events';

/** Arbitrary key: two seeders at once would only queue behind each other's locks anyway; this says so sooner. */
const SEEDER_LOCK_KEY = 0x5eed5eed;

const options = parseOptions();
const config = loadConfig();
const progress = new Progress(options.events);
const { url, embedded } = await locateDatabase(config, (message) => progress.log(message));
const client = new pg.Client({ connectionString: url, application_name: 'seed-synthetic' });
// A lost connection is also reported by the statement that was running; without a listener
// the 'error' event would crash the process before the embedded server is stopped.
client.on('error', (error) => progress.log(`Database connection lost: ${error.message}`));
let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  interrupted = true;
  progress.log(`${signal}: stopping; the transaction is rolled back and the indexes stay as they were.`);
  // Ending the connection makes the running statement fail, which unwinds through the finally blocks below.
  void client.end().catch(() => {});
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

let exitCode = 0;
try {
  await runMigrations(url, { log: (message) => progress.log(message) });
  await client.connect();
  progress.start();
  const loaded = await load(client);
  progress.stop();
  const perTable = Object.entries(loaded.rows)
    .map(([table, n]) => `${table}=${n}`)
    .join(' ');
  console.log(
    `seed:synthetic done: ${perTable} (actors reused ${loaded.actorsReused}) in ${progress.elapsedSeconds().toFixed(1)} s`,
  );
} catch (error) {
  progress.stop();
  exitCode = interrupted ? 130 : 1;
  if (!interrupted)
    process.stderr.write(
      `seed:synthetic failed, nothing was added: ${error instanceof Error ? error.message : String(error)}\n`,
    );
} finally {
  await client.end().catch(() => {});
  await embedded?.stop();
}
process.exit(exitCode);

async function load(db: pg.Client) {
  await db.query('BEGIN');
  try {
    await db.query('SELECT pg_advisory_xact_lock($1)', [SEEDER_LOCK_KEY]);
    // Index builds at the end sort millions of rows: give them memory. Nothing waits on this commit.
    await db.query(`SET LOCAL maintenance_work_mem = '512MB'`);
    await db.query(`SET LOCAL synchronous_commit = off`);

    progress.phase = 'indexes';
    const bulk = await isBulkLoad(db);
    const indexes = bulk ? await secondaryIndexes(db, [...BIG_TABLES, ...STATS_TABLES]) : [];
    const keys = bulk ? await foreignKeys(db, [...TABLES, ...STATS_TABLES]) : [];
    await dropIndexes(db, indexes);
    await dropForeignKeys(db, keys);
    if (bulk) {
      progress.log(
        `Dropped ${indexes.length} secondary indexes for the load: ${indexes.map((i) => i.name).join(', ')}`,
      );
      progress.log(`Dropped ${keys.length} foreign keys for the load: ${keys.map((k) => k.name).join(', ')}`);
      await db.query(`CREATE TEMP TABLE ${STAGED_EVENTS} (LIKE events INCLUDING DEFAULTS) ON COMMIT DROP`);
    }

    progress.phase = 'actors';
    const world = buildActors(options.seed);
    const actors = await resolveActors(db, world.actors, options.seed);

    const generator = new EventGenerator({
      seed: options.seed,
      total: options.events,
      world,
      actorIds: actors.ids,
      firstDocumentNumber: await nextDocumentNumber(db, DOCUMENT_BASE),
      now: Date.now(),
    });

    // Generate chunk n+1 (in slices that yield to the event loop) while chunk n is copied,
    // so the generator and the server work at the same time on the two cores.
    const build = async (from: number, to: number): Promise<Rows> => {
      generator.rows = emptyRows();
      const rows = generator.rows;
      for (let i = from; i < to; i++) {
        generator.generate(i);
        if ((i - from) % 250 === 249) await new Promise((resolve) => setImmediate(resolve));
      }
      return rows;
    };
    progress.phase = 'loading';
    let next: Promise<Rows> | null = build(0, Math.min(options.batch, options.events));
    /** The columns the events were copied with, which the staged ones are inserted with. */
    let eventColumns: string[] = [];
    for (let from = 0; next !== null; from += options.batch) {
      const rows: Rows = await next;
      const to = Math.min(from + options.batch, options.events);
      next = to < options.events ? build(to, Math.min(to + options.batch, options.events)) : null;
      await copyChunk(db, rows, from, to, bulk ? STAGED_EVENTS : 'events');
      eventColumns = rows.events.columns;
      if (interrupted) throw new Error('interrupted');
    }

    // The service's writers keep each event's derived columns (search vector, report actors,
    // rendered JSON and CSV record) current (src/modules/events/refresh.ts); derive them for the
    // new events the same way, in one pass. Their lookups need the other tables' indexes and
    // statistics, but not the events' own secondary indexes, which are built after (cheaper
    // than updating them row by row).
    const onTables = (tables: string[]) => indexes.filter((index) => tables.includes(index.table));
    const recreate = (tables: string[]) =>
      createIndexes(db, onTables(tables), (index) => (progress.phase = `re-creating ${index.name}`));
    progress.phase = 're-creating indexes';
    await recreate(BIG_TABLES.filter((table) => table !== 'events'));
    await db.query('ANALYZE actors, documents, reports, report_via, participants, figures, event_relations');
    // The figures the reports give for the measures the generator left to the evidence, before
    // the renderings and the stats read them (a bulk load's figures key is dropped till the end).
    progress.phase = 'figures from evidence';
    await db.query(insertEvidenceFigures(bulk ? STAGED_EVENTS : '(SELECT id FROM events WHERE rendered IS NULL)'));
    if (bulk) await insertStagedEvents(db, eventColumns);
    else {
      progress.phase = 'derived columns';
      await db.query(`${REFRESH_EVENTS} WHERE e.rendered IS NULL`);
    }
    await recreate(['events']);
    // The stats tables are derived like the rendered JSON: rebuilt whole, as the load bypassed the writers.
    progress.phase = 'stats tables';
    await rebuildStats(db);
    await recreate(STATS_TABLES);
    progress.phase = 'foreign keys';
    await addForeignKeys(db, keys);
    progress.phase = 'commit';
    await db.query('COMMIT');
    progress.phase = 'analyze';
    await db.query('ANALYZE actors, documents, events, reports, report_via, participants, figures, event_relations');
    progress.phase = 'done';
    progress.log(`Time by phase: ${progress.phaseSummary()}`);
    return {
      rows: { actors: actors.created, ...generator.counts },
      actorsReused: world.actors.length - actors.created,
    };
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Whether to load in bulk: with the secondary indexes and foreign keys dropped, and the
 * events staged. `auto` does when the load is at least a fifth of what is there: re-indexing
 * and re-checking everything then costs less than doing it row by row.
 */
async function isBulkLoad(db: pg.Client): Promise<boolean> {
  if (options.indexes !== 'auto') return options.indexes === 'drop';
  const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM events`);
  const existing = Number(rows[0]?.n ?? 0);
  return options.events >= 50_000 && options.events >= existing / 5;
}

/**
 * Inserts the staged events into events with their derived columns (insertDerivedEvents), a
 * slice of the staged table's pages holding about --batch events at a time (a TID range scan
 * each), so the bar counts the longest phase of a load, about half a millisecond an event,
 * instead of sitting at 100 %. JIT is off meanwhile: it compiled the rendering's subqueries
 * for 1.2 to 1.5 s per statement (EXPLAIN ANALYZE of a 10,000-event slice) and made them no
 * faster.
 */
async function insertStagedEvents(db: pg.Client, columns: string[]): Promise<void> {
  progress.countPhase('derived columns');
  await db.query('SET LOCAL jit = off');
  const { rows } = await db.query<{ pages: number }>(
    `SELECT (pg_relation_size('${STAGED_EVENTS}') / current_setting('block_size')::int)::int AS pages`,
  );
  const pages = rows[0]?.pages ?? 0;
  const step = Math.max(1, Math.ceil((pages * options.batch) / options.events));
  for (let from = 0; from < pages; from += step) {
    // The last slice is open-ended, so no row is left behind whatever the page count said.
    const upTo = from + step < pages ? ` AND ctid < '(${from + step},0)'::tid` : '';
    const slice = `(SELECT * FROM ${STAGED_EVENTS} WHERE ctid >= '(${from},0)'::tid${upTo})`;
    const result = await db.query(insertDerivedEvents(slice, columns));
    progress.done += result.rowCount ?? 0;
    if (interrupted) throw new Error('interrupted');
  }
  if (progress.done !== options.events)
    throw new Error(`inserted ${progress.done} of the ${options.events} staged events`);
  await db.query('SET LOCAL jit = DEFAULT');
}

/** Copies a chunk's rows into their tables, the events into `eventsTable`. */
async function copyChunk(db: pg.Client, rows: Rows, from: number, to: number, eventsTable: string): Promise<void> {
  // Progress within the chunk follows the bytes sent, over all its tables.
  let total = 0;
  for (const table of TABLES) total += rows[table].buffer.byteLength;
  let before = 0;
  for (const table of TABLES) {
    const { buffer, columns } = rows[table];
    await copyRows(db, table === 'events' ? eventsTable : table, columns.join(', '), buffer, (sent) => {
      progress.done = from + Math.floor(((to - from) * (before + sent)) / Math.max(1, total));
    });
    before += buffer.byteLength;
  }
  progress.done = to;
}

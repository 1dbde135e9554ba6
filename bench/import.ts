// node --import tsx bench/import.ts --database-url postgresql://postgres@127.0.0.1:5432/import_bench --file events.ndjson
//     [--one-by-one N] [--batch B] [--atomic]
//
// Measures the bulk import (importEvents, as `npm run import` runs it) on a database that it
// DROPS AND CREATES AFRESH (the name in --database-url; it refuses names that do not contain
// "bench"): time, events/s, and the CPU used by this process and by its PostgreSQL backends
// (from /proc, so run it on the database's machine). With --one-by-one N it first creates the
// first N events of the file one by one through the API's write path (write + createEvent, a
// transaction each, as POST /v1/events does) on a fresh database, for comparison.
import { createReadStream } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connectDatabase, type Database } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createEvent } from '../src/modules/events/writes.js';
import { importEvents, validateRecord } from '../src/modules/imports/import.js';
import { ndjsonRecords } from '../src/modules/imports/records.js';
import { runWrite } from '../src/write/run.js';
import { cpuSeconds } from './proc.js';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    file: { type: 'string' },
    'one-by-one': { type: 'string', default: '0' },
    batch: { type: 'string', default: '1000' },
    'in-flight': { type: 'string', default: '2' },
    atomic: { type: 'boolean', default: false },
  },
});
const url = values['database-url'];
const file = values.file;
if (!url || !file || !new URL(url).pathname.includes('bench')) {
  process.stderr.write(
    'usage: node --import tsx bench/import.ts --database-url <url of a database named *bench*> --file events.ndjson\n',
  );
  process.exit(2);
}

async function freshDatabase(): Promise<void> {
  const name = new URL(url!).pathname.slice(1);
  const admin = new pg.Client({ connectionString: Object.assign(new URL(url!), { pathname: '/postgres' }).toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  await runMigrations(url!);
}

/** The backends of the pool, by pid, so their CPU can be read from /proc before they go. */
function watchBackends(db: Database): Set<number> {
  const pids = new Set<number>();
  db.pool.on('connect', (client) => {
    client.query('SELECT pg_backend_pid() AS pid').then(
      (result: pg.QueryResult<{ pid: number }>) => pids.add(result.rows[0]!.pid),
      () => {},
    );
  });
  return pids;
}

async function measure(label: string, run: (db: Database) => Promise<number>): Promise<void> {
  await freshDatabase();
  const db = connectDatabase(url!, 2);
  const backends = watchBackends(db);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const done = await run(db);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const pgCpu = [...backends].reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  await db.close();
  const perEvent = (s: number) => `${((s / done) * 1e6).toFixed(0)} µs`;
  console.log(
    `${label}: ${done} events in ${seconds.toFixed(1)} s, ${Math.round(done / seconds)} events/s; ` +
      `CPU per event: this process ${perEvent((used.user + used.system) / 1e6)}, PostgreSQL ${perEvent(pgCpu)}; ` +
      `load average ${loadavg()[0]!.toFixed(1)}`,
  );
}

const oneByOne = Number(values['one-by-one']);
if (oneByOne > 0) {
  await measure(`one by one (write + createEvent per event)`, async (db) => {
    let n = 0;
    for await (const record of ndjsonRecords(createReadStream(file))) {
      if (n >= oneByOne) break;
      const line = validateRecord(record);
      if (!('input' in line)) continue;
      await runWrite(db, 'bench', (unit) => createEvent(unit, line.input));
      n++;
    }
    return n;
  });
}

await measure(
  `bulk import (batch ${values.batch}, in flight ${values['in-flight']}${values.atomic ? ', atomic' : ''})`,
  async (db) => {
    const report = await importEvents(db, 'bench', ndjsonRecords(createReadStream(file)), {
      atomic: values.atomic,
      batchSize: Number(values.batch),
      inFlight: Number(values['in-flight']),
    });
    if (report.rejected > 0)
      throw new Error(`rejected ${report.rejected}: ${JSON.stringify(report.errors.slice(0, 3))}`);
    return report.accepted;
  },
);

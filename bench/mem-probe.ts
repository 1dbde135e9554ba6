import { createReadStream } from 'node:fs';
import pg from 'pg';
import { connectDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { importEvents } from '../src/modules/imports/import.js';
import { ndjsonRecords } from '../src/modules/imports/records.js';
const url = 'postgresql://postgres@127.0.0.1:5432/import_mem_bench';
const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
await admin.query('DROP DATABASE IF EXISTS import_mem_bench WITH (FORCE)');
await admin.query('CREATE DATABASE import_mem_bench');
await admin.end();
await runMigrations(url);
const db = connectDatabase(url, 10);
const mb = (n: number) => Math.round(n / 1048576);
const show = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  console.log(
    `rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}`,
  );
};
show();
const iv = setInterval(show, 2000);
const report = await importEvents(db, 'probe', ndjsonRecords(createReadStream(process.argv[2]!)), {
  atomic: false,
  batchBytes: Number(process.argv[3] ?? 8388608),
});
clearInterval(iv);
show();
console.log(report.accepted);
await db.close();

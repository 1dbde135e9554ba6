// npm run import -- [--format ndjson|acled] [--atomic] [--author NAME] [--batch N] FILE
//
// Imports events from FILE into the database of DATABASE_URL, or the embedded one when it is
// unset (as npm start does), migrating it first. A progress bar goes to stderr, the report
// (accepted, rejected, skipped, errors by line) as JSON to stdout. Exit code 0 when no line
// was rejected, 1 otherwise (or when the import failed), 2 for a usage error.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { connectDatabase, type Database } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { locateDatabase } from '../src/db/open.js';
import { DEFAULT_BATCH_SIZE, importEvents, ImportInterrupted, ImportTimedOut } from '../src/modules/imports/import.js';
import { ndjsonRecords, type ImportRecord } from '../src/modules/imports/records.js';
import { acledRecords } from '../src/modules/acled/import.js';
import { listEventTypes, toEventType } from '../src/modules/event-types/repository.js';
import { actorKindsByName } from '../src/modules/actors/repository.js';
import { Progress } from './synthetic/progress.js';

/** The readers of each input format, one entry each; a reader that needs the database (a vocabulary) has it. */
const FORMATS: Record<string, (input: Readable, db: Database, maxLineBytes: number) => AsyncIterable<ImportRecord>> = {
  ndjson: (input, _db, maxLineBytes) => ndjsonRecords(input, maxLineBytes),
  // ACLED's CSV: its types map back through the event-type vocabulary stored in the database.
  // Actors it names are matched by name to existing ones, whatever their kind.
  acled: async function* (input, db) {
    yield* acledRecords(input, (await listEventTypes(db.prisma)).map(toEventType), {
      existingKinds: (names) => actorKindsByName(db.prisma, names),
    });
  },
};

const USAGE = `usage: npm run import -- [--format ${Object.keys(FORMATS).join('|')}] [--atomic] [--author NAME] [--batch N] FILE

  --format F    the file's format (default ndjson: one POST /v1/events body per line)
  --atomic      all or nothing: every line is validated, nothing is written unless all are good
  --author NAME who the revisions name as the author (default ${'import-cli'})
  --batch N     events written per transaction (default ${DEFAULT_BATCH_SIZE}; a batch also ends at IMPORT_BATCH_BYTES)

Imports into DATABASE_URL, or the embedded PostgreSQL when it is unset. The report goes to stdout
as JSON; exit code 0 when no line was rejected, 1 otherwise, 2 for a usage error.`;

function usage(problem: string): never {
  process.stderr.write(`${problem}\n\n${USAGE}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'ndjson' },
      atomic: { type: 'boolean', default: false },
      author: { type: 'string', default: 'import-cli' },
      batch: { type: 'string', default: String(DEFAULT_BATCH_SIZE) },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}
const { values, positionals } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const reader = Object.hasOwn(FORMATS, values.format) ? FORMATS[values.format] : undefined;
if (!reader) usage(`unknown format "${values.format}"; known: ${Object.keys(FORMATS).join(', ')}`);
if (positionals.length !== 1) usage(positionals.length === 0 ? 'FILE is required' : 'give one FILE');
const config = loadConfig();
// Relative to the folder npm was run from (npm runs scripts in the project's root).
const file = resolve(config.INIT_CWD ?? process.cwd(), positionals[0]!);
const author = values.author.trim();
if (author === '' || author.length > 200) usage('--author must be 1 to 200 characters');
if (!/^\d+$/.test(values.batch) || Number(values.batch) < 1 || Number(values.batch) > 50_000)
  usage('--batch must be 1 to 50000');
const size = await stat(file).catch(() => usage(`cannot read ${file}`));
if (!size.isFile()) usage(`${file} is not a file`);

/** Lines in the file, for the progress bar's total (a quick pass over the bytes). */
async function countLines(path: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) lines++;
    if (bytes.length > 0) last = bytes[bytes.length - 1]!;
  }
  return last === 0x0a ? lines : lines + 1;
}

const progress = new Progress(await countLines(file));
const { url, embedded } = await locateDatabase(config, (message) => progress.log(message));
const db = connectDatabase(url, 2);
let exitCode = 1;
try {
  await runMigrations(url, { log: (message) => progress.log(message) });
  progress.phase = values.atomic ? 'importing (atomic)' : 'importing';
  progress.start();
  // The same import as POST /v1/imports, with the same IMPORT_* settings and report.
  const report = await importEvents(db, author, reader(createReadStream(file), db, config.IMPORT_MAX_LINE_BYTES), {
    atomic: values.atomic,
    batchSize: Number(values.batch),
    batchBytes: config.IMPORT_BATCH_BYTES,
    transactionTimeoutMs: config.IMPORT_TRANSACTION_TIMEOUT_MS,
    atomicTimeoutMs: config.IMPORT_ATOMIC_TIMEOUT_MS,
    spoolDir: config.IMPORT_SPOOL_DIR,
    onProgress: (p) => {
      progress.done = p.line;
      progress.phase = `accepted ${p.accepted}, rejected ${p.rejected}, skipped ${p.skipped}`;
    },
  });
  progress.stop();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const seconds = progress.elapsedSeconds();
  if (values.atomic && report.rejected > 0)
    progress.log(`atomic: ${report.rejected} line(s) rejected, so nothing was written`);
  progress.log(
    `${report.accepted} accepted, ${report.rejected} rejected, ${report.skipped} skipped` +
      (report.merged === undefined ? '' : `, ${report.merged} merged into an earlier line's event`) +
      ` in ${seconds.toFixed(1)} s` +
      (report.accepted > 0 && !(values.atomic && report.rejected > 0)
        ? ` (${Math.round(report.accepted / seconds)} events/s)`
        : ''),
  );
  exitCode = report.rejected === 0 ? 0 : 1;
} catch (error) {
  progress.stop();
  if (error instanceof ImportInterrupted || error instanceof ImportTimedOut)
    process.stdout.write(`${JSON.stringify(error.report, null, 2)}\n`);
  process.stderr.write(`import failed: ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  await db.close();
  await embedded?.stop();
}
process.exit(exitCode);

// The bulk import of events: records in (NDJSON lines, or any reader's), each validated
// as POST /v1/events validates a body, checked in batches (batch.ts) and written by the create
// path of POST /v1/events (writeEvents, ../events/writes.ts) in set-based statements, each batch
// ending as every write does (stats rows, then the revisions under the change feed's lock), and a
// report of what became of each line.
//
// No transaction is open while the input is read: a slow or stalled source holds no connection. Non-atomic: each batch
// is two transactions, opened once the batch is read and validated: a short one checks the lines and finds or creates
// the actors and documents the valid ones name, then one writes the events (so the next batch, which often names the
// same new actors and documents, waits on the first only, and two batches' events are written at once). A batch ends at
// `batchSize` lines or `batchBytes` bytes of them, so a file of large lines keeps small batches (memory, transaction
// time). A batch the database refuses (a check, a value out of range, an id taken by a racing writer) is run again line
// by line, so only the failing line is lost (the actors and documents it named stay, as created by the first
// transaction). Atomic: every line is read and validated first, the valid ones spooled to a temporary file; then one
// transaction writes them, each batch under a savepoint (and line by line when the database refuses it, as above),
// every line written even after a failure so the report names them all, then rolled back if any line failed. Its
// revisions are written at the end, so other writers wait on the feed's lock for that last step only.
//
// Validation runs on the event loop in stretches of at most YIELD_AFTER_MS, each followed by a
// turn of the loop (setImmediate), so requests are served while a large input is validated.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { limitStatements, type Database, type Transaction } from '../../db/client.js';
import { driverMessage, sqlState } from '../../db/errors.js';
import { unstorableText, zodViolations } from '../../http/problem-details.js';
import type { Violation } from '../../http/errors.js';
import { recordRevisions, type ChangeSet, type Resource } from '../changes/record.js';
import { resolveEventReferences, writeEvents } from '../events/writes.js';
import { refreshDailyStats, refreshEventStats } from '../stats/derive.js';
import { EventInputSchema } from '../events/schemas.js';
import { eventCreateOf } from '../events/render/exported.js';
import { runWrite } from '../../write/run.js';
import { UnitOfWork } from '../../write/unit.js';
import { RisingIds } from '../../db/uuid.js';
import { ApiError } from '../../http/errors.js';
import { HeapBound } from './heap.js';
import { checkBatch, type LineError, type ValidLine } from './batch.js';
import { ndjsonRecords, type ImportRecord, type LineViolation } from './records.js';
import { MAX_REPORTED_ERRORS, type ImportReport } from './schemas.js';

export interface ImportProgress {
  /** The last line read. */
  line: number;
  accepted: number;
  rejected: number;
  skipped: number;
  /** The report so far (its errors sorted), made when asked for. */
  report(): ImportReport;
}

export interface ImportOptions {
  atomic: boolean;
  /** Called after each batch, and while a long run of lines is read and validated. */
  onProgress?: (progress: ImportProgress) => void;
  /** Events per batch; the default suits most loads. */
  batchSize?: number;
  /** Bytes of lines per batch at most (IMPORT_BATCH_BYTES); a single larger line is a batch of its own. */
  batchBytes?: number;
  /** Batches written at once when not atomic (default IN_FLIGHT). */
  inFlight?: number;
  /** Longest a batch's transaction may run when not atomic (IMPORT_TRANSACTION_TIMEOUT_MS). */
  transactionTimeoutMs?: number;
  /** Longest the one transaction of an atomic import may run (IMPORT_ATOMIC_TIMEOUT_MS). */
  atomicTimeoutMs?: number;
  /** Where an atomic import spools its validated lines (IMPORT_SPOOL_DIR); the system's temporary folder by default. */
  spoolDir?: string;
  /** Stops the import (between batches) when aborted, as a server that stops does. */
  signal?: AbortSignal;
  /** Growth of the heap after which the import asks for a full collection (heap.ts); the default suits the server. */
  heapSlack?: number;
  /** Called with the number of lines of each batch handed to the database (for tests and benchmarks). */
  onBatch?: (lines: number) => void;
}

/** Events per batch: large enough that per-statement costs vanish, small enough to keep a batch's JSON small. */
export const DEFAULT_BATCH_SIZE = 1000;
/**
 * Bytes of lines per batch: a batch's JSON and rows stay a few times this size in memory. 1 MiB keeps
 * ordinary lines (about 1.4 KB) in batches of about 750; a 255 MiB body of 0.95 MB lines peaked at
 * 419 MB of server RSS with it, against 480 MB with 2 MiB and 665 MB with 8 MiB (bench/RESULTS.md).
 */
export const DEFAULT_BATCH_BYTES = 1024 * 1024;
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 120_000;
export const DEFAULT_ATOMIC_TIMEOUT_MS = 3_600_000;
/** Longest stretch of reading and validating before the event loop gets a turn. */
const YIELD_AFTER_MS = 20;

/**
 * Batches written at once by a non-atomic import, each in its own transaction and connection:
 * while one waits on PostgreSQL another is prepared or runs on the other core.
 */
const IN_FLIGHT = 2;

/** Reading the input failed part way (the body was too large, the client went away): what was done until then. */
export class ImportInterrupted extends Error {
  constructor(
    readonly report: ImportReport,
    /** Whether anything was written: false for an atomic import. */
    readonly wrote: boolean,
    cause: unknown,
  ) {
    super(
      `the import stopped at line ${report.accepted + report.rejected + report.skipped + (report.merged ?? 0)}: ${(cause as Error)?.message ?? cause}`,
      {
        cause,
      },
    );
    this.name = 'ImportInterrupted';
  }
}

/** A transaction of the import ran past its timeout: the import stopped; `report` says what was done until then. */
export class ImportTimedOut extends Error {
  constructor(
    message: string,
    readonly report: ImportReport,
    /** Whether anything was written: false for an atomic import. */
    readonly wrote: boolean,
  ) {
    super(message);
    this.name = 'ImportTimedOut';
  }
}

/**
 * Prisma's P2028 for an interactive transaction that ran past its `timeout` (not the one that found no connection in
 * time).
 */
function isTransactionTimeout(error: unknown): boolean {
  return (
    (error as { code?: unknown }).code === 'P2028' &&
    /expired transaction|timeout for this transaction/i.test((error as Error).message ?? '')
  );
}

/** The counts, and the errors of the first lines that had any. */
class Tally {
  accepted = 0;
  rejected = 0;
  skipped = 0;
  /** Set once a record says it joined lines (a format that can): then the report has `merged`. */
  merged: number | undefined;
  line = 0;
  private readonly errors: LineError[] = [];
  /** Index of the kept error with the highest line, once the list is full. */
  private highest = -1;

  reject(error: LineError): void {
    this.rejected++;
    if (this.errors.length < MAX_REPORTED_ERRORS) {
      this.errors.push(error);
      return;
    }
    // Batches retried line by line report out of order: keep the lowest line numbers. Lines mostly
    // come in order, so the usual case is one comparison (a scan per line made 3M bad lines take minutes).
    if (this.highest < 0) this.highest = this.indexOfHighest();
    if (error.line >= this.errors[this.highest]!.line) return;
    this.errors[this.highest] = error;
    this.highest = this.indexOfHighest();
  }

  private indexOfHighest(): number {
    let highest = 0;
    for (let i = 1; i < this.errors.length; i++) if (this.errors[i]!.line > this.errors[highest]!.line) highest = i;
    return highest;
  }

  report(): ImportReport {
    const errors = [...this.errors].sort((a, b) => a.line - b.line);
    const merged = this.merged === undefined ? {} : { merged: this.merged };
    return { accepted: this.accepted, rejected: this.rejected, skipped: this.skipped, ...merged, errors };
  }

  progress(): ImportProgress {
    return {
      line: this.line,
      accepted: this.accepted,
      rejected: this.rejected,
      skipped: this.skipped,
      report: () => this.report(),
    };
  }
}

const located = (violations: Violation[]) => violations.map(({ path, message }) => ({ path, message }));

/**
 * A record checked as POST /v1/events checks its body: storable text, then the schema. A line
 * that is an exported event is first made into the EventCreate it stands for (events/render/exported.ts).
 */
export function validateRecord(record: ImportRecord): ValidLine | LineError {
  if ('errors' in record) return record;
  const unstorable = unstorableText([[record.value, 'body']]);
  if (unstorable.length > 0) return { line: record.line, errors: located(unstorable) };
  const parsed = EventInputSchema.safeParse(eventCreateOf(record.value));
  if (!parsed.success) return { line: record.line, errors: located(zodViolations(parsed.error.issues, 'body')) };
  return { line: record.line, input: parsed.data };
}

/** SQLSTATE classes of a statement the database refused because of the values it was given. */
const REFUSALS: Record<string, string> = {
  '22': 'a value is outside what can be stored (such as a year before 1 or a number too small to represent)',
  '23': 'the database refused the line: it breaks a rule of the data',
};

/**
 * The violation for a database error caused by a line's values, or null for any other failure (which stops the import).
 */
function refusalOf(error: unknown): LineViolation[] | null {
  const code = sqlState(error);
  const message = typeof code === 'string' ? REFUSALS[code.slice(0, 2)] : undefined;
  if (!message) return null;
  // The constraint's name says which rule; the rest of PostgreSQL's message may quote SQL, which is never shown.
  const constraint = /constraint "([^"]+)"/.exec(driverMessage(error))?.[1];
  return [{ path: '', message: constraint ? `${message} (${constraint})` : message }];
}

/**
 * An external id a racing writer claimed after checkBatch found it free (writeEvents' 409): the
 * batch is written again line by line, and the line that holds it is then skipped by checkBatch.
 */
const isTakenExternalId = (error: unknown) => error instanceof ApiError && error.kind === 'conflict';

const inputsOf = (lines: ValidLine[]) => lines.map((line) => line.input);

/** Thrown inside the atomic transaction to roll it back once every line has been written. */
class RollBack extends Error {}

/** A validated line with its size, or a line's errors, as the batching reads them. */
type Checked = (ValidLine & { bytes: number }) | LineError;

/** Gives the event loop a turn after each stretch of YIELD_AFTER_MS of synchronous work. */
class Pacer {
  private since = performance.now();
  constructor(private readonly signal?: AbortSignal) {}

  /** Whether the current stretch is over (then await `turn()`). */
  due(): boolean {
    return performance.now() - this.since >= YIELD_AFTER_MS;
  }

  async turn(): Promise<void> {
    await turn();
    this.signal?.throwIfAborted();
    this.since = performance.now();
  }
}

/**
 * Imports the events of `records` as `author`; see the top of this file. Resolves with the
 * report; rejects with ImportInterrupted when reading the records fails part way, with
 * ImportTimedOut when a transaction outlasts its timeout, and with the error itself when the
 * database fails for another reason than a line's values.
 */
export async function importEvents(
  db: Database,
  author: string,
  records: AsyncIterable<ImportRecord>,
  options: ImportOptions,
): Promise<ImportReport> {
  const tally = new Tally();
  const ids = new RisingIds();
  const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  const pacer = new Pacer(options.signal);
  const heap = new HeapBound(options.heapSlack);
  const progress = () => options.onProgress?.(tally.progress());

  const tallyChecked = (checked: { valid: ValidLine[]; skipped: number[]; rejected: LineError[] }) => {
    tally.accepted += checked.valid.length;
    tally.skipped += checked.skipped.length;
    for (const error of checked.rejected) tally.reject(error);
  };

  /**
   * The records validated, in stretches that leave the event loop turns; lines that fail are tallied and not passed on.
   */
  async function* validated(): AsyncIterable<ValidLine & { bytes: number }> {
    for await (const record of records) {
      tally.line = record.line;
      if ('merged' in record) tally.merged = (tally.merged ?? 0) + (record.merged ?? 0);
      const checked = validateRecord(record);
      if ('errors' in checked) tally.reject(checked);
      else yield { ...checked, bytes: ('bytes' in record ? record.bytes : undefined) ?? 0 };
      if (pacer.due()) {
        progress();
        await pacer.turn();
      }
    }
  }

  /**
   * Reads every line, handing each full batch (by count or bytes) to `flush`. The next batch is
   * read while earlier ones are written. Up to `inFlight` batches are written at once, each
   * starting when the one before has resolved its actors and documents and taken its ids (it
   * calls `ready`): batches name new actors in line order, as one-by-one writes would.
   */
  async function readAll(
    lines: AsyncIterable<Checked>,
    flush: (lines: ValidLine[], ready: () => void) => Promise<void>,
    inFlight: number,
  ): Promise<void> {
    let batch: ValidLine[] = [];
    let bytes = 0;
    // Each caught at once (a rejection must not go unhandled while the next batch is read), rethrown when awaited.
    const running: Promise<{ error: unknown } | null>[] = [];
    let previousReady: Promise<void> = Promise.resolve();
    const settleOldest = async () => {
      const outcome = await running.shift();
      if (outcome) throw outcome.error;
    };
    const settleAll = async () => {
      while (running.length > 0) await settleOldest();
    };
    const hand = async (lines: ValidLine[]) => {
      options.signal?.throwIfAborted();
      heap.check();
      await previousReady;
      while (running.length >= inFlight) await settleOldest();
      let ready!: () => void;
      previousReady = new Promise((resolve) => (ready = resolve));
      options.onBatch?.(lines.length);
      running.push(
        flush(lines, ready).then(
          () => null,
          (error: unknown) => ({ error }),
        ),
      );
      // A batch that fails before it is ready must not hold the next one back.
      void running.at(-1)!.then(ready);
    };
    try {
      const iterator = lines[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Checked>;
        try {
          next = await iterator.next();
        } catch (error) {
          throw new ReadFailure(error);
        }
        if (next.done) break;
        const line = next.value;
        if ('errors' in line) {
          tally.reject(line);
          continue;
        }
        if (batch.length > 0 && bytes + line.bytes > maxBytes) {
          await hand(batch);
          batch = [];
          bytes = 0;
        }
        batch.push({ line: line.line, input: line.input });
        bytes += line.bytes;
        if (batch.length >= size) {
          await hand(batch);
          batch = [];
          bytes = 0;
        }
      }
      if (batch.length > 0) await hand(batch);
    } catch (error) {
      // The batches in flight end first (their outcomes are caught), so the report counts what they wrote.
      await Promise.all(running);
      throw error;
    }
    await settleAll();
  }

  const timedOut = (what: string, ms: number, setting: string, wrote: boolean) =>
    new ImportTimedOut(
      `${what} took longer than the import's transaction timeout (${ms} ms, ${setting}) and was rolled back; ` +
        (wrote ? 'the batches before it were imported (see report).' : 'nothing was written.'),
      tally.report(),
      wrote,
    );

  if (!options.atomic) {
    const timeout = options.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS;
    const statistics = new Statistics(db);
    const flush = async (lines: ValidLine[], ready: () => void = () => {}): Promise<void> => {
      try {
        const options = { timeout, statementTimeout: db.timeouts.import };
        // First the checks and the actors and documents the valid lines name, committed on their own: the next
        // batch, which often names the same new ones, then waits on this short transaction, not on this batch's
        // events, and the two batches' events are written at once.
        const { checked, resolved } = await runWrite(
          db,
          author,
          async (unit) => {
            const checked = await checkBatch(unit.tx, lines);
            return { checked, resolved: await resolveEventReferences(unit, inputsOf(checked.valid)) };
          },
          options,
        );
        if (checked.valid.length > 0)
          await runWrite(
            db,
            author,
            (unit) => writeEvents(unit, inputsOf(checked.valid), ids, ready, resolved),
            options,
          );
        else ready();
        tallyChecked(checked);
        if (checked.valid.length > 0) await statistics.batchWritten(checked.valid.length);
      } catch (error) {
        if (isTransactionTimeout(error)) {
          throw timedOut(
            `The batch of lines ${lines[0]!.line} to ${lines.at(-1)!.line}`,
            timeout,
            'IMPORT_TRANSACTION_TIMEOUT_MS',
            tally.accepted > 0,
          );
        }
        if (isTakenExternalId(error) && lines.length > 1) {
          for (const line of lines) await flush([line]);
        } else if (isTakenExternalId(error)) {
          tally.skipped++;
        } else {
          const refusal = refusalOf(error);
          if (!refusal) throw error;
          if (lines.length === 1) tally.reject({ line: lines[0]!.line, errors: refusal });
          else for (const line of lines) await flush([line]);
        }
      }
      progress();
    };
    try {
      await readAll(validated(), flush, options.inFlight ?? IN_FLIGHT);
    } catch (error) {
      if (error instanceof ReadFailure) throw new ImportInterrupted(tally.report(), tally.accepted > 0, error.cause);
      if (error instanceof ImportTimedOut) throw new ImportTimedOut(error.message, tally.report(), error.wrote);
      throw error;
    }
    progress();
    return tally.report();
  }

  // Atomic. First every line is read and validated, the valid ones spooled to disk: no transaction
  // is open meanwhile, however slowly the input arrives.
  const folder = await mkdtemp(path.join(options.spoolDir ?? tmpdir(), 'import-atomic-'));
  try {
    const spool = path.join(folder, 'valid.ndjson');
    const out = createWriteStream(spool);
    let spooled = 0;
    try {
      for await (const line of validated()) {
        if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
        spooled++;
      }
    } catch (error) {
      out.destroy();
      throw new ImportInterrupted(tally.report(), false, error);
    } finally {
      if (!out.destroyed) {
        out.end();
        await once(out, 'close');
      }
    }
    progress();
    if (spooled === 0) return tally.report();

    /** The spooled lines, read back: each was valid when written. */
    async function* spooledLines(): AsyncIterable<Checked> {
      for await (const record of ndjsonRecords(createReadStream(spool), Number.MAX_SAFE_INTEGER)) {
        if ('errors' in record) throw new Error(`the import's spool file is unreadable at line ${record.line}`);
        const line = record.value as ValidLine;
        yield { line: line.line, input: line.input, bytes: record.bytes ?? 0 };
        if (pacer.due()) await pacer.turn();
      }
    }

    const timeout = options.atomicTimeoutMs ?? DEFAULT_ATOMIC_TIMEOUT_MS;
    try {
      await db.prisma.$transaction(
        async (tx) => {
          await limitStatements(tx, db, db.timeouts.import);
          await tx.$executeRaw`CREATE TEMP TABLE import_created (batch int, resource resource_kind, id uuid) ON COMMIT DROP`;
          let batches = 0;
          const dailyKeys = new Map<string, [day: string, type: string]>();
          // Every batch is written, even after a failure, so the report also names the lines the
          // database refuses; the transaction is rolled back at the end.
          const flush = async (lines: ValidLine[]): Promise<void> => {
            await tx.$executeRaw`SAVEPOINT import_batch`;
            try {
              const checked = await checkBatch(tx, lines);
              // A unit that only collects what the batch created: its finish step is run below, in parts.
              const unit = new UnitOfWork(tx, author);
              await writeEvents(unit, inputsOf(checked.valid), ids);
              await keepCreated(tx, batches++, unit.close(), dailyKeys);
              await tx.$executeRaw`RELEASE SAVEPOINT import_batch`;
              tallyChecked(checked);
            } catch (error) {
              if (isTransactionTimeout(error)) throw error;
              await tx.$executeRaw`ROLLBACK TO SAVEPOINT import_batch`;
              if (isTakenExternalId(error)) {
                if (lines.length > 1) for (const line of lines) await flush([line]);
                else tally.skipped++;
                return;
              }
              const refusal = refusalOf(error);
              if (!refusal) throw error;
              if (lines.length > 1) {
                for (const line of lines) await flush([line]);
                return;
              }
              tally.reject({ line: lines[0]!.line, errors: refusal });
            }
            progress();
          };
          await readAll(spooledLines(), flush, 1);
          if (tally.rejected > 0) throw new RollBack();
          // The revisions, batch by batch as a non-atomic import writes them, under the feed's lock until COMMIT.
          for (let batch = 0; batch < batches; batch++) {
            const rows = await tx.$queryRaw<{ resource: Resource; id: string }[]>`
              SELECT resource::text AS resource, id FROM import_created WHERE batch = ${batch}`;
            const created: ChangeSet = new Map();
            for (const row of rows)
              created.set(row.resource, [...(created.get(row.resource) ?? []), { id: row.id, action: 'created' }]);
            await recordRevisions(tx, created, author);
          }
          // As the finish step (src/write/finish.ts) does: the daily rollups are recounted under the lock the revisions
          // took.
          const keys = [...dailyKeys.values()];
          await refreshDailyStats(tx, { days: keys.map(([day]) => day), types: keys.map(([, type]) => type) });
        },
        // The lines are on disk already: the transaction lasts as long as writing them takes.
        { maxWait: 10_000, timeout },
      );
    } catch (error) {
      const cause = error instanceof ReadFailure ? error.cause : error;
      if (isTransactionTimeout(cause)) throw timedOut('The atomic import', timeout, 'IMPORT_ATOMIC_TIMEOUT_MS', false);
      if (error instanceof ReadFailure) throw new ImportInterrupted(tally.report(), false, error.cause);
      if (!(error instanceof RollBack)) throw error;
    }
    progress();
    return tally.report();
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * Derives the stats rows of a batch's events now (writeEvents wrote their other derived columns),
 * and keeps what it created (for the revisions) and the daily stats keys it touched (for the
 * rollups), both written at the end.
 */
async function keepCreated(
  tx: Transaction,
  batch: number,
  written: { changes: ChangeSet; derived: string[] },
  dailyKeys: Map<string, [string, string]>,
): Promise<void> {
  if (written.derived.length > 0) {
    const keys = await refreshEventStats(tx, written.derived);
    keys.days.forEach((day, i) => dailyKeys.set(`${day} ${keys.types[i]}`, [day, keys.types[i]!]));
  }
  for (const [resource, changes] of written.changes) {
    await tx.$executeRaw`INSERT INTO import_created (batch, resource, id)
      SELECT ${batch}, ${resource}::resource_kind, unnest(${changes.map((change) => change.id)}::uuid[])`;
  }
}

/** Events an import writes before its statistics are worth refreshing: fewer plan well enough. */
const ANALYZE_FROM_EVENTS = 256;

/**
 * Refreshes the planner's statistics of the tables an import grows, checked after its 1st, 2nd,
 * 4th, 8th... batch: when it has written at least ANALYZE_FROM_EVENTS events and more than the
 * planner believes the events table holds. Into a new or small database, the plans of the first
 * batches came from the statistics of nearly empty tables: rendering a batch's events joined every
 * participant with a scan of every actor and took twice as long, until autovacuum (a minute later
 * at best) analyzed them. An import into a large database never pays for it.
 */
class Statistics {
  private batches = 0;
  private events = 0;
  constructor(private readonly db: Database) {}

  async batchWritten(events: number): Promise<void> {
    this.batches++;
    this.events += events;
    if ((this.batches & (this.batches - 1)) !== 0 || this.events < ANALYZE_FROM_EVENTS) return;
    // A short transaction of its own, under the import's statement timeout (the pool's is the reads'); an ANALYZE
    // that fails (a lock wait, a timeout) only leaves the old plans.
    await this.db.prisma
      .$transaction(async (tx) => {
        const [known] = await tx.$queryRaw<
          { rows: number }[]
        >`SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = 'events'::regclass`;
        if ((known?.rows ?? 0) >= this.events) return;
        await limitStatements(tx, this.db, this.db.timeouts.import);
        // The tables an import grows, whose statistics plan the derived columns' lookups (refresh.ts).
        await tx.$executeRaw`ANALYZE events, reports, participants, report_via, figures, actors, documents, event_external_ids`;
      })
      .catch(() => {});
  }
}

/** Reading the records failed: not the database's doing. */
class ReadFailure extends Error {
  constructor(cause: unknown) {
    super('reading the import failed', { cause });
  }
}

// The bulk import of events: records in (NDJSON lines, or any reader's), each validated
// as POST /v1/events validates a body, written in batches of set-based statements
// (batch.ts), each batch ending as every write does (derived columns, then the revisions
// under the change feed's lock), and a report of what became of each line.
//
// Non-atomic: each batch is its own transaction. A batch the database refuses (a check,
// a value out of range, an id taken by a racing writer) is run again line by line, so only
// the failing line is lost. Atomic: one transaction, each batch under a savepoint (and line by
// line when the database refuses it, as above), every line validated and written even after a
// failure so the report names them all, then rolled back if any line failed. Its revisions are
// written at the end, so other writers wait on the feed's lock for that last step only.
import { limitStatements, type Database, type Transaction } from '../../db/client.js';
import { unstorableText, zodViolations } from '../../http/problem-details.js';
import type { Violation } from '../../http/errors.js';
import { recordRevisions, type ChangeSet, type Resource } from '../changes/record.js';
import { refreshEvents } from '../events/refresh.js';
import { refreshDailyStats } from '../stats/derive.js';
import { EventInputSchema } from '../events/schemas.js';
import { write } from '../writes.js';
import { checkBatch, RisingIds, writeBatch, type Created, type LineError, type ValidLine } from './batch.js';
import type { ImportRecord, LineViolation } from './records.js';
import { MAX_REPORTED_ERRORS, type ImportReport } from './schemas.js';

export interface ImportProgress {
  /** The last line read. */
  line: number;
  accepted: number;
  rejected: number;
  skipped: number;
}

export interface ImportOptions {
  atomic: boolean;
  onProgress?: (progress: ImportProgress) => void;
  /** Events per batch; the default suits most loads. */
  batchSize?: number;
  /** Batches written at once when not atomic (default IN_FLIGHT). */
  inFlight?: number;
}

/** Events per batch: large enough that per-statement costs vanish, small enough to keep a batch's JSON small. */
export const DEFAULT_BATCH_SIZE = 1000;

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
    super(`the import stopped at line ${report.accepted + report.rejected + report.skipped}: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
    this.name = 'ImportInterrupted';
  }
}

/** The counts, and the errors of the first lines that had any. */
class Tally {
  accepted = 0;
  rejected = 0;
  skipped = 0;
  line = 0;
  private readonly errors: LineError[] = [];

  reject(error: LineError): void {
    this.rejected++;
    if (this.errors.length < MAX_REPORTED_ERRORS) {
      this.errors.push(error);
      return;
    }
    // Batches retried line by line report out of order: keep the lowest line numbers.
    let highest = 0;
    for (let i = 1; i < this.errors.length; i++) if (this.errors[i]!.line > this.errors[highest]!.line) highest = i;
    if (error.line < this.errors[highest]!.line) this.errors[highest] = error;
  }

  report(): ImportReport {
    const errors = [...this.errors].sort((a, b) => a.line - b.line);
    return { accepted: this.accepted, rejected: this.rejected, skipped: this.skipped, errors };
  }

  progress(): ImportProgress {
    return { line: this.line, accepted: this.accepted, rejected: this.rejected, skipped: this.skipped };
  }
}

const located = (violations: Violation[]) => violations.map(({ path, message }) => ({ path, message }));

/** A record checked as POST /v1/events checks its body: storable text, then the schema. */
export function validateRecord(record: ImportRecord): ValidLine | LineError {
  if ('errors' in record) return record;
  const unstorable = unstorableText([[record.value, 'body']]);
  if (unstorable.length > 0) return { line: record.line, errors: located(unstorable) };
  const parsed = EventInputSchema.safeParse(record.value);
  if (!parsed.success) return { line: record.line, errors: located(zodViolations(parsed.error.issues, 'body')) };
  return { line: record.line, input: parsed.data };
}

/** SQLSTATE classes of a statement the database refused because of the values it was given. */
const REFUSALS: Record<string, string> = {
  '22': 'a value is outside what can be stored (such as a year before 1 or a number too small to represent)',
  '23': 'the database refused the line: it breaks a rule of the data',
};

/** The violation for a database error caused by a line's values, or null for any other failure (which stops the import). */
function refusalOf(error: unknown): LineViolation[] | null {
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; originalMessage?: unknown } } } }).meta
    ?.driverAdapterError?.cause;
  const code = cause?.originalCode ?? (error as { code?: unknown }).code;
  const message = typeof code === 'string' ? REFUSALS[code.slice(0, 2)] : undefined;
  if (!message) return null;
  // The constraint's name says which rule; the rest of PostgreSQL's message may quote SQL, which is never shown.
  const constraint = /constraint "([^"]+)"/.exec(String(cause?.originalMessage ?? ''))?.[1];
  return [{ path: '', message: constraint ? `${message} (${constraint})` : message }];
}

/** Notes a batch's creations in a write context, for ctx.finish(). */
function changeSetOf(created: Created): ChangeSet {
  const set: ChangeSet = new Map();
  const kinds: [Resource, string[]][] = [
    ['actor', created.actors],
    ['document', created.documents],
    ['event', created.events],
    ['report', created.reports],
  ];
  for (const [resource, ids] of kinds)
    if (ids.length > 0)
      set.set(
        resource,
        ids.map((id) => ({ id, action: 'created' as const })),
      );
  return set;
}

/** Thrown inside the atomic transaction to roll it back once every line has been read. */
class RollBack extends Error {}

/**
 * Imports the events of `records` as `author`; see the top of this file. Resolves with the
 * report; rejects with ImportInterrupted when reading the records fails part way, and with the
 * error itself when the database fails for another reason than a line's values.
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
  const progress = () => options.onProgress?.(tally.progress());

  const tallyChecked = (checked: { valid: ValidLine[]; skipped: number[]; rejected: LineError[] }) => {
    tally.accepted += checked.valid.length;
    tally.skipped += checked.skipped.length;
    for (const error of checked.rejected) tally.reject(error);
  };

  /**
   * Reads every record, validating each and handing full batches to `flush`. The next batch is
   * read and validated while earlier ones are written. Up to `inFlight` batches are written at
   * once, each starting when the one before has resolved its actors and documents and taken its
   * ids (it calls `ready`): batches name new actors in line order, as one-by-one writes would.
   */
  async function readAll(flush: (lines: ValidLine[], ready: () => void) => Promise<void>, inFlight: number): Promise<void> {
    let lines: ValidLine[] = [];
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
    const hand = async (batch: ValidLine[]) => {
      await previousReady;
      while (running.length >= inFlight) await settleOldest();
      let ready!: () => void;
      previousReady = new Promise((resolve) => (ready = resolve));
      running.push(
        flush(batch, ready).then(
          () => null,
          (error: unknown) => ({ error }),
        ),
      );
      // A batch that fails before it is ready must not hold the next one back.
      void running.at(-1)!.then(ready);
    };
    try {
      for await (const record of records) {
        tally.line = record.line;
        const checked = validateRecord(record);
        if ('errors' in checked) {
          tally.reject(checked);
          continue;
        }
        lines.push(checked);
        if (lines.length >= size) {
          await hand(lines);
          lines = [];
        }
      }
    } catch (error) {
      await settleAll();
      throw new ReadFailure(error);
    }
    if (lines.length > 0) await hand(lines);
    await settleAll();
  }

  if (!options.atomic) {
    const flush = async (lines: ValidLine[], ready: () => void = () => {}): Promise<void> => {
      try {
        const checked = await write(
          db,
          author,
          async (ctx) => {
            const result = await checkBatch(ctx.tx, lines);
            const created = await writeBatch(ctx.tx, author, result.valid, ids, ready);
            for (const [resource, changes] of changeSetOf(created))
              for (const change of changes) ctx.changed(resource, change.id, 'created');
            await ctx.finish();
            return result;
          },
          db.timeouts.import,
        );
        tallyChecked(checked);
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        if (lines.length === 1) tally.reject({ line: lines[0]!.line, errors: refusal });
        else for (const line of lines) await flush([line]);
      }
      progress();
    };
    try {
      await readAll(flush, options.inFlight ?? IN_FLIGHT);
    } catch (error) {
      if (error instanceof ReadFailure) throw new ImportInterrupted(tally.report(), tally.accepted > 0, error.cause);
      throw error;
    }
    progress();
    return tally.report();
  }

  try {
    await db.prisma.$transaction(
      async (tx) => {
        await limitStatements(tx, db, db.timeouts.import);
        await tx.$executeRawUnsafe(`CREATE TEMP TABLE import_created (batch int, resource resource_kind, id uuid) ON COMMIT DROP`);
        let batches = 0;
        const dailyKeys = new Map<string, [day: string, type: string]>();
        // Every batch is written, even after a failure, so the report also names the lines the
        // database refuses; the transaction is rolled back at the end.
        const flush = async (lines: ValidLine[]): Promise<void> => {
          await tx.$executeRawUnsafe('SAVEPOINT import_batch');
          try {
            const checked = await checkBatch(tx, lines);
            await keepCreated(tx, batches++, await writeBatch(tx, author, checked.valid, ids), dailyKeys);
            await tx.$executeRawUnsafe('RELEASE SAVEPOINT import_batch');
            tallyChecked(checked);
          } catch (error) {
            await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT import_batch');
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
        await readAll(flush, 1);
        if (tally.rejected > 0) throw new RollBack();
        // The revisions, batch by batch as a non-atomic import writes them, under the feed's lock until COMMIT.
        for (let batch = 0; batch < batches; batch++) {
          const rows = await tx.$queryRaw<{ resource: Resource; id: string }[]>`
            SELECT resource::text AS resource, id FROM import_created WHERE batch = ${batch}`;
          const created: Created = { actors: [], documents: [], events: [], reports: [] };
          for (const row of rows) created[`${row.resource}s` as keyof Created].push(row.id);
          await recordRevisions(tx, changeSetOf(created), author);
        }
        // As WriteContext.finish does: the daily rollups are recounted under the lock the revisions took.
        const keys = [...dailyKeys.values()];
        await refreshDailyStats(tx, { days: keys.map(([day]) => day), types: keys.map(([, type]) => type) });
      },
      // One transaction for the whole input: as long as it takes to read it.
      { maxWait: 10_000, timeout: 24 * 3_600_000 },
    );
  } catch (error) {
    if (error instanceof ReadFailure) throw new ImportInterrupted(tally.report(), false, error.cause);
    if (!(error instanceof RollBack)) throw error;
  }
  progress();
  return tally.report();
}

/**
 * Derives the columns and stats rows of a batch's events now, and keeps what it created (for the revisions) and the
 * daily stats keys it touched (for the rollups), both written at the end.
 */
async function keepCreated(tx: Transaction, batch: number, created: Created, dailyKeys: Map<string, [string, string]>): Promise<void> {
  if (created.events.length > 0) {
    const keys = await refreshEvents(tx, created.events);
    keys.days.forEach((day, i) => dailyKeys.set(`${day} ${keys.types[i]}`, [day, keys.types[i]!]));
  }
  const kinds: [Resource, string[]][] = [
    ['actor', created.actors],
    ['document', created.documents],
    ['event', created.events],
    ['report', created.reports],
  ];
  for (const [resource, ids] of kinds) {
    if (ids.length === 0) continue;
    await tx.$executeRaw`INSERT INTO import_created (batch, resource, id)
      SELECT ${batch}, ${resource}::resource_kind, unnest(${ids}::uuid[])`;
  }
}

/** Reading the records failed: not the database's doing. */
class ReadFailure extends Error {
  constructor(cause: unknown) {
    super('reading the import failed', { cause });
  }
}

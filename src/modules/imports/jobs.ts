// Import jobs: every POST /v1/imports runs as a job whose progress and report live in the
// import_jobs table, so GET /v1/imports/{id} answers the same from any instance. The instance
// running a job writes its progress about once a second and a heartbeat every few seconds; a
// running job whose heartbeat stopped was cut off by its instance stopping, and reads as failed.
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/client.js';
import { uuidv7 } from '../../db/uuid.js';
import type { ImportProgress } from './import.js';
import type { ImportJob, ImportReport } from './schemas.js';

/** How often a running job's row is refreshed at least: progress, or the heartbeat alone. */
const HEARTBEAT_MS = 5_000;
/** Progress is written at most this often. */
const PROGRESS_MS = 1_000;
/** A running job whose heartbeat is older than this has no instance running it any more. */
export const STALE_AFTER_MS = 60_000;

const STOPPED =
  'the server running this import stopped before it ended; with atomic=false the batches written before were kept, ' +
  'and sending the file again skips the events that have external_ids';

type Row = Awaited<ReturnType<Database['prisma']['importJob']['findUnique']>> & {};

function toJob(row: Row, now = Date.now()): ImportJob {
  const stale = row.status === 'running' && now - row.heartbeatAt.getTime() > STALE_AFTER_MS;
  return {
    id: row.id,
    status: stale ? 'failed' : row.status,
    atomic: row.atomic,
    bytes: Number(row.bytes),
    lines_read: row.linesRead,
    accepted: row.accepted,
    rejected: row.rejected,
    skipped: row.skipped,
    errors: row.errors as ImportJob['errors'],
    detail: stale ? STOPPED : row.detail,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}

export async function getImportJob(db: Database, id: string): Promise<ImportJob | null> {
  const row = await db.prisma.importJob.findUnique({ where: { id } });
  return row ? toJob(row) : null;
}

/** Marks failed the running jobs whose instance stopped (at start: a server stopped mid-import); returns how many. */
export async function failStaleImportJobs(db: Database): Promise<number> {
  const { count } = await db.prisma.importJob.updateMany({
    where: { status: 'running', heartbeatAt: { lt: new Date(Date.now() - STALE_AFTER_MS) } },
    data: { status: 'failed', detail: STOPPED, finishedAt: new Date(), updatedAt: new Date() },
  });
  return count;
}

/** Finished jobs are kept this long, then swept (server.ts, hourly). */
export const JOB_RETENTION_DAYS = 7;

/** Deletes the jobs that ended more than JOB_RETENTION_DAYS ago; returns how many. */
export async function purgeOldImportJobs(db: Database): Promise<number> {
  const { count } = await db.prisma.importJob.deleteMany({
    where: { status: { not: 'running' }, finishedAt: { lt: new Date(Date.now() - JOB_RETENTION_DAYS * 86_400_000) } },
  });
  return count;
}

/** What a job's run ends with: its report, or the error that stopped it and the detail the job keeps. */
export type JobOutcome = { report: ImportReport } | { error: unknown; detail: string; report?: ImportReport };

/**
 * The jobs this instance runs. `start` creates the row and runs the import in the background,
 * writing its progress; `close` stops them all (as the server stops) and marks them failed.
 */
export class ImportJobs {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<JobOutcome> }>();
  /** Imports writing now, and the ones waiting for their turn (first come, first served). */
  private writing = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    /**
     * Imports one instance writes at once (IMPORT_MAX_CONCURRENT): each holds up to two connections while it writes.
     */
    private readonly maxConcurrent: number,
    private readonly log?: FastifyBaseLogger,
  ) {}

  /** Waits for a turn to write; resolves with the function that ends it. */
  private async turn(signal: AbortSignal): Promise<() => void> {
    if (this.writing >= this.maxConcurrent) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal.removeEventListener('abort', stop);
          resolve();
        };
        const stop = () => {
          this.queue.splice(this.queue.indexOf(go), 1);
          reject(signal.reason);
        };
        this.queue.push(go);
        signal.addEventListener('abort', stop, { once: true });
      });
    }
    this.writing += 1;
    return () => {
      this.writing -= 1;
      this.queue.shift()?.();
    };
  }

  /**
   * Creates the job and starts `run` with a signal and a progress callback. Resolves once the row
   * exists, with the job and the promise of its outcome (which never rejects).
   */
  async start(
    author: string,
    atomic: boolean,
    bytes: number,
    run: (signal: AbortSignal, onProgress: (progress: ImportProgress) => void) => Promise<ImportReport>,
    describe: (error: unknown) => { detail: string; report?: ImportReport },
  ): Promise<{ job: ImportJob; done: Promise<JobOutcome> }> {
    const id = uuidv7();
    const row = await this.db.prisma.importJob.create({ data: { id, author, atomic, bytes } });
    const controller = new AbortController();
    let latest: ImportProgress | undefined;
    let writing: Promise<void> = Promise.resolve();
    let lastWrite = 0;
    const save = (data: Parameters<Database['prisma']['importJob']['update']>[0]['data']) => {
      // One write at a time, in order; a failed progress write is logged, the import goes on.
      writing = writing
        .then(() =>
          this.db.prisma.importJob.update({
            where: { id },
            data: { ...data, updatedAt: new Date(), heartbeatAt: new Date() },
          }),
        )
        .then(
          () => undefined,
          (err: unknown) => this.log?.warn({ err, job: id }, 'writing an import job failed'),
        );
      return writing;
    };
    const progressData = (progress: ImportProgress) => {
      const report = progress.report();
      return {
        linesRead: progress.line,
        accepted: report.accepted,
        rejected: report.rejected,
        skipped: report.skipped,
        errors: report.errors,
      };
    };
    const onProgress = (progress: ImportProgress) => {
      latest = progress;
      if (Date.now() - lastWrite < PROGRESS_MS) return;
      lastWrite = Date.now();
      void save(progressData(progress));
    };
    const heartbeat = setInterval(() => {
      if (Date.now() - lastWrite < HEARTBEAT_MS) return;
      lastWrite = Date.now();
      void save(latest ? progressData(latest) : {});
    }, HEARTBEAT_MS);
    heartbeat.unref();

    const done = (async (): Promise<JobOutcome> => {
      let outcome: JobOutcome;
      try {
        // The row exists (GET answers `running`, 0 lines read) while the job waits for its turn.
        const end = await this.turn(controller.signal);
        try {
          outcome = { report: await run(controller.signal, onProgress) };
        } finally {
          end();
        }
        const report = outcome.report;
        await save({
          status: 'done',
          linesRead: latest?.line ?? 0,
          accepted: report.accepted,
          rejected: report.rejected,
          skipped: report.skipped,
          errors: report.errors,
          finishedAt: new Date(),
        });
      } catch (error) {
        const described = controller.signal.aborted ? { detail: STOPPED, report: latest?.report() } : describe(error);
        if (!controller.signal.aborted) this.log?.error({ err: error, job: id }, 'import job failed');
        outcome = { error, ...described };
        const report = described.report ?? latest?.report();
        await save({
          status: 'failed',
          detail: described.detail,
          ...(report
            ? { accepted: report.accepted, rejected: report.rejected, skipped: report.skipped, errors: report.errors }
            : {}),
          ...(latest ? { linesRead: latest.line } : {}),
          finishedAt: new Date(),
        });
      } finally {
        clearInterval(heartbeat);
        this.running.delete(id);
      }
      return outcome;
    })();
    this.running.set(id, { controller, done });
    return { job: toJob(row), done };
  }

  /** Stops every job of this instance; each is marked failed (its batches written so far stay). */
  async close(): Promise<void> {
    const jobs = [...this.running.values()];
    for (const job of jobs) job.controller.abort(new Error('the server is stopping'));
    await Promise.all(jobs.map((job) => job.done));
  }
}

// POST /v1/imports: an NDJSON body of events, spooled to disk as it arrives (never held whole,
// no transaction open meanwhile), then imported in batches as a job (jobs.ts). A job that ends
// within the wait is answered with its report (200); a longer one with 202 and the job to poll.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorOf } from '../../http/auth.js';
import { ApiError, invalidInput, notFound } from '../../http/errors.js';
import { problemResponses } from '../../http/problem-details.js';
import type { ModuleDeps } from '../deps.js';
import { importEvents, ImportInterrupted, ImportTimedOut } from './import.js';
import { getImportJob, ImportJobs, type JobOutcome } from './jobs.js';
import { ndjsonRecords } from './records.js';
import {
  ImportJobParamsSchema,
  ImportJobSchema,
  ImportProblemSchema,
  ImportQuerySchema,
  ImportReportSchema,
  MAX_REPORTED_ERRORS,
  type ImportReport,
} from './schemas.js';
import { spoolBody, tooLarge } from './spool.js';

export const NDJSON = 'application/x-ndjson';

/** The import settings (IMPORT_* in config.ts); buildApp gives the defaults. */
export interface ImportSettings {
  maxBytes: number;
  maxLineBytes: number;
  batchBytes: number;
  transactionTimeoutMs: number;
  atomicTimeoutMs: number;
  idleTimeoutMs: number;
  waitMs: number;
  /** Imports written at once by one instance; the others wait their turn. */
  maxConcurrent: number;
  spoolDir?: string | undefined;
}

/** Validates the route's parts with zod, except the body: a stream, read by the handler. */
const streamedBody: FastifySchemaCompiler<z.ZodType> = (route) =>
  route.httpPart === 'body' ? () => true : validatorCompiler(route);

/** Why a job stopped, in words for its `detail` (never SQL or a stack). */
function describeFailure(error: unknown): { detail: string; report?: ImportReport } {
  if (error instanceof ImportTimedOut) return { detail: error.message, report: error.report };
  if (error instanceof ImportInterrupted)
    return {
      detail: `The import stopped: ${String((error.cause as Error)?.message ?? error.cause)}`,
      report: error.report,
    };
  if (error instanceof ApiError) return { detail: error.detail };
  return {
    detail: 'The import stopped on an unexpected error (it has been logged); the batches written before it were kept.',
  };
}

export const importRoutes: FastifyPluginAsyncZod<ModuleDeps & { imports: ImportSettings }> = async (
  app,
  { db, imports },
) => {
  const jobs = new ImportJobs(db, imports.maxConcurrent, app.log);
  // A server that stops marks its running imports failed (a later start would find them stale).
  app.addHook('onClose', () => jobs.close());

  // Only this plugin's routes take NDJSON: the stream is handed on as it is, unread, and not validated.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(NDJSON, (_request, payload, done) => done(null, payload));
  app.setValidatorCompiler(streamedBody);

  app.post('/v1/imports', {
    // The body may take long to arrive: only idleness cuts it (IMPORT_IDLE_TIMEOUT_MS), not the request timeout.
    config: { access: 'edit', streamedBody: true },
    schema: {
      operationId: 'importEvents',
      tags: ['imports'],
      summary: 'Import events in bulk (NDJSON)',
      description: [
        'The body is NDJSON: one event per line, each as POST /v1/events takes it (`EventCreate`), validated the ' +
          'same way.',
        'It is written to a temporary file as it arrives, then imported in batches of set-based statements; each ' +
          'event gets',
        'its `created` revision and its entry in the change feed, as if it had been posted alone.',
        '',
        'The report says `accepted` (events created), `rejected` (lines refused, each listed in `errors` with its line',
        `number from 1 and every violation as a JSON pointer into that line; the first ${MAX_REPORTED_ERRORS} are listed),`,
        'and `skipped`: lines whose event has an `external_ids` pair that an event has already.',
        '',
        '- `atomic=false` (default): bad lines are reported and the rest are imported, in batches of their own ' +
          'transaction.',
        '- `atomic=true`: all or nothing. Every line is read and validated first, then written in one transaction, ' +
          'so the',
        '  report lists every error; when any line is rejected nothing is written (422 with the report as `report`).',
        '',
        '**Answer: now or as a job.** Every import is a job. Once the body is received, the server waits up to',
        'IMPORT_WAIT_MS (5 s by default) for the import to end: then it answers 200 with the report (422 as above).',
        'An import still running then, or any import sent with `Prefer: respond-async`, is answered `202 Accepted` ' +
          'with',
        '`Location: /v1/imports/{id}` and the job; `GET /v1/imports/{id}` gives its progress (`lines_read`, the ' +
          'counts and',
        'errors so far) and, once `status` is `done`, its report. It goes on after the answer: a client may ' +
          'disconnect.',
        '',
        '**Retrying.** No Idempotency-Key here (400 with one): give events `external_ids` instead: posting the same ' +
          'lines',
        'again skips the events they made, so re-sending a whole file after a failure or a timeout is safe.',
        '',
        "**Limits.** The body may be up to the server's import limit (IMPORT_MAX_BYTES, 413 beyond; nothing is " +
          'imported), and a',
        'line up to IMPORT_MAX_LINE_BYTES (1 MiB by default; a longer line is rejected, naming it, and the rest goes ' +
          'on). The',
        'request timeout does not apply while the body keeps arriving, however slowly; an upload that sends nothing ' +
          'for',
        'IMPORT_IDLE_TIMEOUT_MS (30 s) is cut with 408, and nothing is imported.',
      ].join('\n'),
      consumes: [NDJSON],
      querystring: ImportQuerySchema,
      headers: z.object({
        prefer: z
          .string()
          .optional()
          .describe('`respond-async`: answer 202 with the job at once, without waiting for the import'),
      }),
      body: z
        .string()
        .describe('NDJSON: one EventCreate object per line (UTF-8, LF or CRLF; blank lines are skipped but counted)'),
      response: {
        200: ImportReportSchema,
        202: {
          // Its Location header is declared by declareAcceptedLocations (src/openapi/tidy.ts).
          description:
            'The import goes on as a job: poll its Location (GET /v1/imports/{id}) for progress and the report',
          content: { 'application/json': { schema: ImportJobSchema } },
        },
        422: {
          description:
            'atomic=true and some lines were rejected: nothing was written; `report` says which lines and why',
          content: { 'application/problem+json': { schema: ImportProblemSchema } },
        },
        ...problemResponses(400, 408, 413, 415, 503),
      },
    },
    handler: async (request, reply) => {
      if (request.headers['idempotency-key'] !== undefined) {
        throw invalidInput(
          [
            {
              path: '/idempotency-key',
              in: 'header',
              message:
                'imports take no Idempotency-Key: give the events external_ids, and a repeated import skips them',
            },
          ],
          'POST /v1/imports does not take an Idempotency-Key; see the operation description.',
        );
      }
      // Without a body (and so without a Content-Type), no parser ran.
      const source: unknown = request.body;
      if (!(source instanceof Readable)) {
        throw new ApiError('unsupported-media-type', `The body must be ${NDJSON}: one event per line.`);
      }
      const declared = Number(request.headers['content-length']);
      if (declared > imports.maxBytes) {
        reply.header('connection', 'close');
        throw tooLarge(imports.maxBytes);
      }
      const { atomic } = request.query;
      let spooled;
      try {
        spooled = await spoolBody(source, {
          maxBytes: imports.maxBytes,
          idleMs: imports.idleTimeoutMs,
          dir: imports.spoolDir,
        });
      } catch (error) {
        reply.header('connection', 'close');
        if (error instanceof ApiError) throw error;
        throw new ApiError(
          'malformed-request',
          `The body could not be read to its end (${(error as Error).message}). Nothing was imported.`,
        );
      }
      const file = spooled;
      const author = authorOf(request);
      const started = await jobs
        .start(
          author,
          atomic,
          file.bytes,
          (signal, onProgress) =>
            importEvents(db, author, ndjsonRecords(createReadStream(file.file), imports.maxLineBytes), {
              atomic,
              batchBytes: imports.batchBytes,
              transactionTimeoutMs: imports.transactionTimeoutMs,
              atomicTimeoutMs: imports.atomicTimeoutMs,
              spoolDir: imports.spoolDir,
              signal,
              onProgress,
            }),
          describeFailure,
        )
        .catch(async (error: unknown) => {
          await file.remove();
          throw error;
        });
      const done = started.done.then(async (outcome) => {
        await file.remove();
        return outcome;
      });
      const location = `/v1/imports/${started.job.id}`;
      const async = /(^|[,;\s])respond-async($|[,;\s])/i.test(request.headers.prefer ?? '');
      let timer: NodeJS.Timeout | undefined;
      const outcome = async
        ? null
        : await Promise.race([
            done,
            new Promise<null>((resolve) => (timer = setTimeout(resolve, imports.waitMs, null))),
          ]);
      clearTimeout(timer);
      if (outcome === null) {
        if (async) reply.header('preference-applied', 'respond-async');
        const job = (await getImportJob(db, started.job.id)) ?? started.job;
        return reply.code(202).header('location', location).send(job);
      }
      return answer(outcome, atomic);
    },
  });

  app.get('/v1/imports/:id', {
    // The author of an import is an editor: editors (and admins) read every import.
    config: { access: 'edit' },
    schema: {
      operationId: 'getImport',
      tags: ['imports'],
      summary: 'An import job: its progress, then its report',
      description: [
        'The import started by a POST /v1/imports that answered 202 (or any other: every import is a job). `status` is',
        '`running` while lines are read and written (the counts and errors so far, refreshed about every second), ' +
          '`done`',
        'once the report is final, `failed` when it stopped (`detail` says why: a transaction timeout, or the server',
        'stopping; with atomic=false the batches written before stay, and sending the file again skips events with',
        '`external_ids`). Readable from any instance of the service. Editors only.',
      ].join('\n'),
      params: ImportJobParamsSchema,
      response: { 200: ImportJobSchema, ...problemResponses(400, 404) },
    },
    handler: async (request) => {
      const job = await getImportJob(db, request.params.id);
      if (!job) throw notFound('import', request.params.id);
      return job;
    },
  });
};

/** The answer of an import that ended within the wait: its report, or the problem it ended with. */
function answer(outcome: JobOutcome, atomic: boolean): ImportReport {
  if ('error' in outcome) {
    const { error } = outcome;
    if (error instanceof ImportTimedOut) {
      throw new ApiError('service-unavailable', error.message, {
        extra: { report: error.report },
        headers: { 'retry-after': '60' },
      });
    }
    throw error;
  }
  const { report } = outcome;
  if (atomic && report.rejected > 0) {
    throw new ApiError(
      'rule-violation',
      `${report.rejected} line(s) were rejected, so nothing was written (atomic=true); ${report.accepted} line(s) were valid.`,
      { extra: { report } },
    );
  }
  return report;
}

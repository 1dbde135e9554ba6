// POST /v1/imports: an NDJSON body of events, read line by line as it arrives (never
// held whole), imported in batches, answered with the report of every line.
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorOf } from '../../http/auth.js';
import { ApiError, invalidInput } from '../../http/errors.js';
import { problemResponses } from '../../http/problem-details.js';
import type { ModuleDeps } from '../deps.js';
import { importEvents, ImportInterrupted } from './import.js';
import { ndjsonRecords } from './records.js';
import { ImportProblemSchema, ImportQuerySchema, ImportReportSchema, MAX_REPORTED_ERRORS } from './schemas.js';

export const NDJSON = 'application/x-ndjson';

/** Passes the body on while it stays within `max` bytes; beyond, fails with a 413. */
function limitTo(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      seen += chunk.length;
      if (seen > max) return done(tooLarge(max));
      done(null, chunk);
    },
  });
}

const tooLarge = (max: number) => new ApiError('payload-too-large', `An import body may be at most ${max} bytes; split the file.`);

/** Validates the route's parts with zod, except the body: a stream, read by the handler. */
const streamedBody: FastifySchemaCompiler<z.ZodType> = (route) => (route.httpPart === 'body' ? () => true : validatorCompiler(route));

export const importRoutes: FastifyPluginAsyncZod<ModuleDeps & { importMaxBytes: number }> = async (app, { db, importMaxBytes }) => {
  // Only this plugin's routes take NDJSON: the stream is handed on as it is, unread, and not validated.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(NDJSON, (_request, payload, done) => done(null, payload));
  app.setValidatorCompiler(streamedBody);

  app.post('/v1/imports', {
    config: { access: 'edit' },
    schema: {
      operationId: 'importEvents',
      tags: ['imports'],
      summary: 'Import events in bulk (NDJSON)',
      description: [
        'The body is NDJSON: one event per line, each as POST /v1/events takes it (`EventCreate`), validated the same way.',
        'It is read as it arrives and written in batches of set-based statements; each event gets its `created` revision and',
        'its entry in the change feed, as if it had been posted alone.',
        '',
        'The answer is a report: `accepted` (events created), `rejected` (lines refused, each listed in `errors` with its line',
        `number from 1 and every violation as a JSON pointer into that line; the first ${MAX_REPORTED_ERRORS} are listed),`,
        'and `skipped`: lines whose event has an `external_ids` pair that an event has already.',
        '',
        '- `atomic=false` (default): bad lines are reported and the rest are imported; the answer is 200 with the report.',
        '- `atomic=true`: all or nothing. Every line is still validated, so the report lists every error; when any line is',
        '  rejected nothing is written and the answer is 422, a problem whose `report` member is the report (200 otherwise).',
        '',
        '**Retrying.** No Idempotency-Key here (400 with one): the body is a stream that cannot be fingerprinted before it is',
        'imported, and a partial import commits its batches. Give events `external_ids` instead: posting the same lines again',
        'skips the events they made, so re-sending a whole file after a failure or a timeout is safe.',
        '',
        `**Limits.** The body may be up to the server's import limit (IMPORT_MAX_BYTES, 413 beyond: with atomic=false the`,
        'lines before the limit are imported, as the `report` of the problem says), and a line up to 1 MiB. The body is read as',
        "fast as it is imported, so the import must end within the server's request timeout (30 s, which Node checks every 30 s;",
        'then 408): large loads belong in `npm run import` on the server.',
      ].join('\n'),
      consumes: [NDJSON],
      querystring: ImportQuerySchema,
      body: z.string().describe('NDJSON: one EventCreate object per line (UTF-8, LF or CRLF; blank lines are skipped but counted)'),
      response: {
        200: ImportReportSchema,
        422: {
          description: 'atomic=true and some lines were rejected: nothing was written; `report` says which lines and why',
          content: { 'application/problem+json': { schema: ImportProblemSchema } },
        },
        ...problemResponses(400, 413, 415),
      },
    },
    handler: async (request, reply) => {
      if (request.headers['idempotency-key'] !== undefined) {
        throw invalidInput(
          [
            {
              path: '/idempotency-key',
              in: 'header',
              message: 'imports take no Idempotency-Key: give the events external_ids, and a repeated import skips them',
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
      if (declared > importMaxBytes) {
        reply.header('connection', 'close');
        throw tooLarge(importMaxBytes);
      }
      const { atomic } = request.query;
      // The content-type parser handed the request stream on as the body. Not pipeline(): on a 413 it
      // would destroy the request and its socket before the answer is sent; the rest is read and dropped instead.
      const body = limitTo(importMaxBytes);
      source.on('error', (error) => body.destroy(error));
      body.on('error', () => {
        source.unpipe(body);
        source.resume();
      });
      source.pipe(body);
      try {
        const report = await importEvents(db, authorOf(request), ndjsonRecords(body), { atomic });
        if (atomic && report.rejected > 0) {
          throw new ApiError(
            'rule-violation',
            `${report.rejected} line(s) were rejected, so nothing was written (atomic=true); ${report.accepted} line(s) were valid.`,
            { extra: { report } },
          );
        }
        return report;
      } catch (error) {
        if (!(error instanceof ImportInterrupted)) throw error;
        const done = error.wrote ? 'The lines before were imported: see report.' : 'Nothing was written.';
        reply.header('connection', 'close');
        if (error.cause instanceof ApiError) {
          throw new ApiError(error.cause.kind, `${error.cause.detail} ${done}`, { extra: { report: error.report } });
        }
        throw new ApiError('malformed-request', `The body could not be read to its end (${String(error.cause)}). ${done}`, {
          extra: { report: error.report },
        });
      }
    },
  });
};

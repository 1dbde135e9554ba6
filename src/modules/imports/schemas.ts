// Wire format of bulk imports: the query, and the report of what became of each line.
import { z } from 'zod';
import { QueryBoolean } from '../../http/query-values.js';
import { ProblemSchema } from '../../http/problem-details.js';

/** How many lines' errors a report lists; the counts stay exact beyond it. */
export const MAX_REPORTED_ERRORS = 1000;

export const ImportQuerySchema = z.strictObject({
  atomic: QueryBoolean.default(false).describe(
    'true: all or nothing. Every line is still validated, so the report lists every error, but nothing is written ' +
      'unless all are good',
  ),
});

export const ImportLineErrorSchema = z
  .object({
    line: z.number().int().min(1).describe('The line number, from 1 (blank lines count)'),
    errors: z
      .array(
        z.object({
          path: z.string().describe("JSON pointer into the line's value ('' for the whole line)"),
          message: z.string(),
        }),
      )
      .describe('Each violation, as a POST of the same event would report it'),
  })
  .meta({ id: 'ImportLineError' });

export const ImportReportSchema = z
  .object({
    accepted: z
      .number()
      .int()
      .min(0)
      .describe('Events created (with atomic=true and errors: the lines that were valid, though none was written)'),
    rejected: z.number().int().min(0).describe('Lines refused: unreadable, invalid, or refused by the database'),
    skipped: z
      .number()
      .int()
      .min(0)
      .describe('Lines whose event has an external id that an event has already: imported before, so left as they are'),
    merged: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "Lines joined to an earlier line's event, whatever became of it (the further rows of one event in ACLED's " +
          'one-row-per-side layout): not counted in accepted, rejected or skipped. Present for inputs whose format ' +
          'joins lines',
      ),
    errors: z
      .array(ImportLineErrorSchema)
      .describe(`The rejected lines in order, the first ${MAX_REPORTED_ERRORS} of them (rejected counts them all)`),
  })
  .meta({
    id: 'ImportReport',
    description: 'What became of each line of an import',
    example: {
      accepted: 2,
      rejected: 1,
      skipped: 1,
      errors: [{ line: 3, errors: [{ path: '/occurred/end', message: 'end must not be before start' }] }],
    },
  });

export type ImportReport = z.infer<typeof ImportReportSchema>;

export const ImportProblemSchema = ProblemSchema.extend({
  report: ImportReportSchema.describe('What became of each line (with atomic=true nothing was written)'),
}).meta({
  id: 'ImportProblem',
  description: 'A problem detail for an import that wrote nothing: its report says which lines failed and why',
});

export const ImportJobParamsSchema = z.strictObject({
  id: z.uuid().describe("The import's id, from the Location of its 202"),
});

export const ImportJobSchema = z
  .object({
    id: z.uuid(),
    status: z
      .enum(['running', 'done', 'failed'])
      .describe(
        'running: lines are being read and written; done: the report is final; failed: the import stopped (see ' +
          'detail): ' +
          'with atomic=false the batches before were imported and kept',
      ),
    atomic: z.boolean(),
    bytes: z.number().int().min(0).describe('Bytes of the body received'),
    lines_read: z.number().int().min(0).describe('Lines read and validated so far (blank lines count)'),
    accepted: z
      .number()
      .int()
      .min(0)
      .describe('Events created so far (with atomic=true: the valid lines, written only if none fails)'),
    rejected: z.number().int().min(0).describe('Lines refused so far'),
    skipped: z
      .number()
      .int()
      .min(0)
      .describe('Lines skipped so far: their event has an external id an event has already'),
    errors: z
      .array(ImportLineErrorSchema)
      .describe(`The rejected lines so far, the first ${MAX_REPORTED_ERRORS} of them`),
    detail: z.string().nullable().describe('Why a failed import stopped; null otherwise'),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime().describe('When the progress was last written (about every second while running)'),
    finished_at: z.iso.datetime().nullable(),
  })
  .meta({
    id: 'ImportJob',
    description:
      'An import that goes on after its POST was answered (202): its progress, then its report. ' +
      'The counts and errors are those of the import report (ImportReport) so far.',
    example: {
      id: '0193f1a0-7c2d-7000-8000-00000000abcd',
      status: 'running',
      atomic: false,
      bytes: 104857600,
      lines_read: 42000,
      accepted: 41990,
      rejected: 10,
      skipped: 0,
      errors: [{ line: 17, errors: [{ path: '/occurred/end', message: 'end must not be before start' }] }],
      detail: null,
      created_at: '2026-12-03T10:00:00.000Z',
      updated_at: '2026-12-03T10:00:12.000Z',
      finished_at: null,
    },
  });

export type ImportJob = z.infer<typeof ImportJobSchema>;

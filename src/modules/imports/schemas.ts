// Wire format of bulk imports: the query, and the report of what became of each line.
import { z } from 'zod';
import { QueryBoolean } from '../../http/query-values.js';
import { ProblemSchema } from '../../http/problem-details.js';

/** How many lines' errors a report lists; the counts stay exact beyond it. */
export const MAX_REPORTED_ERRORS = 1000;

export const ImportQuerySchema = z.strictObject({
  atomic: QueryBoolean.default(false).describe(
    'true: all or nothing. Every line is still validated, so the report lists every error, but nothing is written unless all are good',
  ),
});

export const ImportLineErrorSchema = z
  .object({
    line: z.number().int().min(1).describe('The line number, from 1 (blank lines count)'),
    errors: z
      .array(z.object({ path: z.string().describe("JSON pointer into the line's value ('' for the whole line)"), message: z.string() }))
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
          'one-row-per-side layout): not counted in accepted, rejected or skipped. Present for inputs whose format joins lines',
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

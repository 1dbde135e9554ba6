// Figures: counts of people or equipment, as an event's estimate (an editor's, or derived
// from its reports) or as one reporter's claim on a report. UCDP-style low/best/high, plus the wording.
import { z } from 'zod';
import { ActorRefSchema, ActorSummarySchema } from '../actors/schemas.js';

export const MEASURES = [
  'killed',
  'wounded',
  'casualties',
  'captured',
  'missing',
  'personnel',
  'equipment',
  'other',
] as const;
export const QUALIFIERS = [
  'exact',
  'approximately',
  'at_least',
  'more_than',
  'at_most',
  'fewer_than',
  'range',
] as const;

export const MeasureSchema = z.enum(MEASURES).meta({
  id: 'Measure',
  description: 'What is counted: casualties = killed or wounded; personnel = people sent or present',
});
export const QualifierSchema = z.enum(QUALIFIERS).meta({ id: 'Qualifier', description: 'How the figure was worded' });

const Count = z.number().int().min(0).max(2_000_000_000);

export const FigureInputSchema = z
  .strictObject({
    measure: MeasureSchema,
    value: Count.optional().describe('A single reported number; with `qualifier` the server fills low/best/high'),
    low: Count.nullish(),
    best: Count.nullish(),
    high: Count.nullish(),
    qualifier: QualifierSchema.optional(),
    text: z.string().trim().min(1).max(500).nullish().describe('The wording as reported, such as "more than 3,000"'),
    unit: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .nullish()
      .describe('What is counted, for equipment and other ("suicide drones")'),
    subject: ActorRefSchema.nullish().describe('Whose people or equipment are counted'),
  })
  .superRefine((figure, ctx) => {
    const bounds = [figure.low, figure.best, figure.high].some((n) => n !== undefined && n !== null);
    if (figure.value !== undefined) {
      if (bounds)
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'send either value or low/best/high, not both' });
      if (!figure.qualifier)
        ctx.addIssue({ code: 'custom', path: ['qualifier'], message: 'qualifier is required with value' });
      if (figure.qualifier === 'range')
        ctx.addIssue({ code: 'custom', path: ['qualifier'], message: 'a range needs low and high, not value' });
    }
    const { low, best, high } = figure;
    if (low != null && best != null && low > best)
      ctx.addIssue({ code: 'custom', path: ['low'], message: 'low must not exceed best' });
    if (best != null && high != null && best > high)
      ctx.addIssue({ code: 'custom', path: ['best'], message: 'best must not exceed high' });
    if (low != null && high != null && low > high)
      ctx.addIssue({ code: 'custom', path: ['low'], message: 'low must not exceed high' });
    if (figure.value === undefined && !bounds && !figure.text) {
      ctx.addIssue({ code: 'custom', path: [], message: 'a figure needs value, low/best/high, or at least its text' });
    }
  })
  .meta({
    id: 'FigureWrite',
    description:
      'A figure as written. Either low/best/high, or value with a qualifier which the server normalises: exact sets ' +
      'all three; approximately sets best; at_least and more_than set low; at_most and fewer_than set high.',
    example: { measure: 'killed', value: 3000, qualifier: 'more_than', text: 'more than 3,000' },
  });

export type FigureInput = z.infer<typeof FigureInputSchema>;

export const FigureSchema = z
  .object({
    measure: MeasureSchema,
    low: z.number().int().min(0).nullable(),
    best: z.number().int().min(0).nullable(),
    high: z.number().int().min(0).nullable(),
    qualifier: QualifierSchema.nullable(),
    text: z.string().nullable(),
    unit: z.string().nullable(),
    subject: ActorSummarySchema.nullable(),
  })
  .meta({ id: 'Figure', description: 'A count: low <= best <= high where present; null where not stated' });

/**
 * How an event's figures are decided: the rule of the contract, said in the OpenAPI document and docs/data-model.md.
 */
export const EVENT_FIGURES_TEXT =
  "An event's figures are an editor's or the evidence's, measure by measure. Figures written on the event are an " +
  "editor's (source editor) and are kept whatever the reports say. For a measure no editor figure names, the event " +
  'has one figure derived from what its live reports with stance asserts claim (source evidence): low = the smallest ' +
  'low, high = the largest high, best = the median of the bests (of an even number of them, the lower of the two ' +
  'middle values), each null when no report gives one; where reports contradict each other a bound widens to take in ' +
  'best and the other bound, so low <= best <= high holds. unit and subject are kept when every figure counted ' +
  'agrees on them. qualifier and text are null. It follows every change to the reports';

export const FigureSourceSchema = z.enum(['evidence', 'editor']).meta({
  id: 'FigureSource',
  description: "editor: written on the event by an editor; evidence: derived from the event's asserting reports",
});

export const EventFigureSchema = FigureSchema.extend({ source: FigureSourceSchema }).meta({
  id: 'EventFigure',
  description: `A figure of the event. ${EVENT_FIGURES_TEXT}`,
});

/** low/best/high from a writer's figure, per the normalisation rule of the contract. */
export function normaliseFigure(figure: FigureInput): { low: number | null; best: number | null; high: number | null } {
  const { value, qualifier } = figure;
  if (value === undefined) return { low: figure.low ?? null, best: figure.best ?? null, high: figure.high ?? null };
  switch (qualifier) {
    case 'exact':
      return { low: value, best: value, high: value };
    case 'approximately':
      return { low: null, best: value, high: null };
    case 'at_least':
    case 'more_than':
      return { low: value, best: null, high: null };
    case 'at_most':
    case 'fewer_than':
      return { low: null, best: null, high: value };
    default:
      return { low: null, best: null, high: null };
  }
}

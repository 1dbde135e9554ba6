// Figures: counts of people or equipment, as a curated estimate on an event or as
// one reporter's claim on a report. UCDP-style low/best/high, plus the wording.
import { z } from 'zod';
import { ActorRefSchema, ActorSummarySchema } from '../actors/schemas.js';

export const MEASURES = ['killed', 'wounded', 'casualties', 'captured', 'missing', 'personnel', 'equipment', 'other'] as const;
export const QUALIFIERS = ['exact', 'approximately', 'at_least', 'more_than', 'at_most', 'fewer_than', 'range'] as const;

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
    unit: z.string().trim().min(1).max(200).nullish().describe('What is counted, for equipment and other ("suicide drones")'),
    subject: ActorRefSchema.nullish().describe('Whose people or equipment are counted'),
  })
  .superRefine((figure, ctx) => {
    const bounds = [figure.low, figure.best, figure.high].some((n) => n !== undefined && n !== null);
    if (figure.value !== undefined) {
      if (bounds) ctx.addIssue({ code: 'custom', path: ['value'], message: 'send either value or low/best/high, not both' });
      if (!figure.qualifier) ctx.addIssue({ code: 'custom', path: ['qualifier'], message: 'qualifier is required with value' });
      if (figure.qualifier === 'range')
        ctx.addIssue({ code: 'custom', path: ['qualifier'], message: 'a range needs low and high, not value' });
    }
    const { low, best, high } = figure;
    if (low != null && best != null && low > best) ctx.addIssue({ code: 'custom', path: ['low'], message: 'low must not exceed best' });
    if (best != null && high != null && best > high) ctx.addIssue({ code: 'custom', path: ['best'], message: 'best must not exceed high' });
    if (low != null && high != null && low > high) ctx.addIssue({ code: 'custom', path: ['low'], message: 'low must not exceed high' });
    if (figure.value === undefined && !bounds && !figure.text) {
      ctx.addIssue({ code: 'custom', path: [], message: 'a figure needs value, low/best/high, or at least its text' });
    }
  })
  .meta({
    id: 'FigureWrite',
    description:
      'A figure as written. Either low/best/high, or value with a qualifier which the server normalises: exact sets all three; ' +
      'approximately sets best; at_least and more_than set low; at_most and fewer_than set high.',
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

// Wire format of reports: one attribution of an event, with its chain of
// citation (`via`, nearest first), its document, its grading and its figures.
import { z } from 'zod';
import { ActorRefSchema, ActorSummarySchema } from '../actors/schemas.js';
import { DocumentRefSchema, DocumentSummarySchema } from '../documents/schemas.js';
import { FigureInputSchema, FigureSchema } from '../figures/schemas.js';
import { pageOf } from '../../http/pagination.js';

export const ReporterRoleSchema = z.enum(['party', 'third_party', 'independent', 'unknown']).meta({
  id: 'ReporterRole',
  description: 'party: a side in the conflict; third_party: another state or body; independent: a monitor or outlet',
});
export const StanceSchema = z
  .enum(['asserts', 'denies', 'disputes', 'unclear'])
  .meta({ id: 'Stance', description: 'What the reporter says of the event' });
export const ReliabilitySchema = z.enum(['A', 'B', 'C', 'D', 'E', 'F']).meta({
  id: 'Reliability',
  description: 'Admiralty grading of the reporter: A completely reliable ... E unreliable, F cannot be judged',
});
export const CredibilitySchema = z.number().int().min(1).max(6).meta({
  id: 'Credibility',
  description: 'Admiralty grading of the information: 1 confirmed ... 5 improbable, 6 cannot be judged',
});

export const StatedAtSchema = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .describe('When the statement was made: a date-time with offset, or a calendar date');

export const ReportInputSchema = z
  .strictObject({
    reporter: ActorRefSchema.describe('Who made the statement'),
    reporter_role: ReporterRoleSchema.default('unknown'),
    via: z.array(ActorRefSchema).max(20).default([]).describe('Whom the reporter cites, nearest first'),
    document: DocumentRefSchema.nullish().describe('Where the statement was read'),
    stated_at: StatedAtSchema.nullish(),
    stance: StanceSchema.default('asserts'),
    quote: z.string().trim().min(1).max(10_000).nullish().describe('Verbatim excerpt supporting the report'),
    reliability: ReliabilitySchema.nullish(),
    credibility: CredibilitySchema.nullish(),
    figures: z.array(FigureInputSchema).max(100).default([]).describe('What this reporter claims'),
  })
  .meta({
    id: 'ReportCreate',
    example: {
      reporter: { name: "South Korea's National Intelligence Service", kind: 'agency', country: 'KOR' },
      reporter_role: 'third_party',
      via: [{ name: 'a friendly country', kind: 'group' }],
      document: {
        url: 'https://news.example.org/2024/12/north-korean-soldier-dies-in-custody',
        publisher: 'Example News',
      },
      stated_at: '2024-12-29',
      stance: 'asserts',
      reliability: 'B',
      credibility: 2,
    },
  });

export type ReportInput = z.infer<typeof ReportInputSchema>;

export const ReportPatchSchema = z
  .strictObject({
    reporter: ActorRefSchema.optional(),
    reporter_role: ReporterRoleSchema.optional(),
    via: z.array(ActorRefSchema).max(20).optional().describe('Replaces the chain of citation'),
    document: DocumentRefSchema.nullable().optional().describe('null: read in no known document'),
    stated_at: StatedAtSchema.nullable().optional(),
    stance: StanceSchema.optional(),
    quote: z.string().trim().min(1).max(10_000).nullable().optional(),
    reliability: ReliabilitySchema.nullable().optional(),
    credibility: CredibilitySchema.nullable().optional(),
    figures: z.array(FigureInputSchema).max(100).optional().describe("Replaces the report's figures"),
  })
  .meta({
    id: 'ReportPatch',
    description: 'A JSON merge patch (RFC 7396) of a report: fields left out stay, null clears, arrays are replaced.',
    example: { stance: 'disputes', credibility: 3 },
  });

export type ReportPatch = z.infer<typeof ReportPatchSchema>;

export const ReportSchema = z
  .object({
    id: z.uuid(),
    event_id: z.uuid(),
    reporter: ActorSummarySchema,
    reporter_role: ReporterRoleSchema,
    via: z.array(ActorSummarySchema).describe('Whom the reporter cites, nearest first'),
    document: DocumentSummarySchema.nullable(),
    stated_at: z.string().nullable().describe('A date-time in UTC, or a calendar date when only the date was stated'),
    stance: StanceSchema,
    quote: z.string().nullable(),
    reliability: ReliabilitySchema.nullable(),
    credibility: CredibilitySchema.nullable(),
    figures: z.array(FigureSchema),
    version: z.number().int().min(1),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    created_by: z.string(),
  })
  .meta({
    id: 'Report',
    description: 'One attribution of an event: who says so, through whom, where, and with what figures',
  });

export const ReportPageSchema = pageOf(ReportSchema, 'ReportPage');

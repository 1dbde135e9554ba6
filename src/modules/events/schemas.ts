// Wire format of events: what happened, when and where, who took part, the
// figures (an editor's, or derived from the reports), and every report that attributes it.
import { z } from 'zod';
import { ActorRefSchema, ActorSummarySchema, CountryCodeSchema } from '../actors/schemas.js';
import { EVENT_FIGURES_TEXT, EventFigureSchema, FigureInputSchema, MeasureSchema } from '../figures/schemas.js';
import { ReportInputSchema, ReportSchema } from '../reports/schemas.js';
import { ruleMessage } from '../../http/problem-details.js';

export const EVENT_NEEDS_REPORT = ruleMessage('an event needs at least one report');

export const EventStatusSchema = z
  .enum(['reported', 'corroborated', 'confirmed', 'contested', 'discounted', 'retracted'])
  .meta({
    id: 'EventStatus',
    description:
      'reported: one source; corroborated: two or more independent reports; confirmed: accepted by the responsible ' +
      'party or verified; contested; discounted; retracted',
  });
export const DatePrecisionSchema = z.enum(['day', 'week', 'month', 'year', 'range']).meta({ id: 'DatePrecision' });
export const LocationPrecisionSchema = z
  .enum(['exact', 'near', 'admin2', 'admin1', 'country', 'water', 'unknown'])
  .meta({
    id: 'LocationPrecision',
    description: 'How precisely the coordinates place the event; a region is given by its centroid',
  });
export const ParticipantRoleSchema = z
  .enum(['perpetrator', 'target', 'subject', 'victim', 'supporter', 'sender', 'recipient', 'other'])
  .meta({ id: 'ParticipantRole' });
export const RelationKindSchema = z
  .enum(['follows', 'precedes', 'same_subject', 'part_of', 'contradicts', 'duplicate_of'])
  .meta({
    id: 'RelationKind',
    description: 'How this event relates to the other one: "A follows B" means A came after B',
  });

const CalendarDate = z.iso.date().describe('A calendar date, YYYY-MM-DD, with no time zone');

export const OccurredInputSchema = z
  .strictObject({
    start: CalendarDate,
    end: CalendarDate.optional().describe('Defaults to start'),
    precision: DatePrecisionSchema.default('day'),
  })
  .refine((occurred) => occurred.end === undefined || occurred.start <= occurred.end, {
    path: ['end'],
    message: 'end must not be before start',
  })
  .meta({
    id: 'Occurred',
    description: 'When it happened: "December 26" is start = end = 2024-12-26 with precision day',
  });

export const LocationInputSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(300).nullish(),
    admin1: z.string().trim().min(1).max(200).nullish(),
    admin2: z.string().trim().min(1).max(200).nullish(),
    admin3: z.string().trim().min(1).max(200).nullish(),
    country: CountryCodeSchema.nullish(),
    lat: z.number().min(-90).max(90).nullish(),
    lon: z.number().min(-180).max(180).nullish(),
    precision: LocationPrecisionSchema.default('unknown'),
  })
  .refine((location) => (location.lat == null) === (location.lon == null), {
    path: ['lon'],
    message: 'lat and lon go together: give both or neither',
  })
  .meta({ id: 'Location' });

const TitleSchema = z.string().trim().min(1).max(500);
const DescriptionSchema = z.string().trim().min(1).max(20_000);

const TagSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[^,\s][^,]*$/, 'tags must not contain commas (commas separate tags in filters)');

export const ParticipantInputSchema = z
  .strictObject({ actor: ActorRefSchema, role: ParticipantRoleSchema })
  .meta({ id: 'Participant' });
export type ParticipantInput = z.infer<typeof ParticipantInputSchema>;

export const RelationInputSchema = z
  .strictObject({ event_id: z.uuid(), relation: RelationKindSchema })
  .meta({ id: 'Relation', description: 'A link from this event to another existing event' });
export type RelationInput = z.infer<typeof RelationInputSchema>;

const ExternalSourceSchema = z.string().regex(/^[a-z][a-z0-9_]*$/, 'sources are lower-case system names such as acled');
const ExternalIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^,]*$/, 'external ids must not contain commas (commas separate values in filters)');

export const EventExternalIdsSchema = z
  .record(ExternalSourceSchema, ExternalIdSchema)
  .refine((ids) => Object.keys(ids).length <= 20, 'at most 20 sources')
  .meta({
    id: 'EventExternalIds',
    description:
      'Identifiers of the event in other systems, by source: { "acled": "NGA12345" }. Each (source, id) pair names ' +
      'one event only (409 when another event has it), so data imported again finds the events it made. A deleted ' +
      'event keeps its ids.',
    example: { acled: 'NGA12345' },
  });

const STATUS_SOURCE_TEXT =
  'Without a status, the reports decide it: reported, and corroborated from two unrelated reporters asserting the ' +
  'event on (status_source evidence). A status given by an editor is kept whatever the reports (status_source editor)';

export const EventInputSchema = z
  .strictObject({
    type: z.string().min(1).max(64).describe('An event-type code from GET /v1/event-types'),
    title: TitleSchema,
    description: DescriptionSchema.nullish(),
    status: EventStatusSchema.optional().describe(STATUS_SOURCE_TEXT),
    occurred: OccurredInputSchema,
    location: LocationInputSchema.optional(),
    participants: z.array(ParticipantInputSchema).max(200).default([]),
    figures: z
      .array(FigureInputSchema)
      .max(100)
      .default([])
      .describe(
        `The editor's estimate for the event, for the measures it names; the others come from the reports. ${EVENT_FIGURES_TEXT}`,
      ),
    reports: z
      .array(ReportInputSchema, { error: (issue) => (issue.input === undefined ? EVENT_NEEDS_REPORT : undefined) })
      .min(1, EVENT_NEEDS_REPORT)
      .max(200)
      .describe('At least one: who says this happened'),
    tags: z.array(TagSchema).max(50).default([]),
    relations: z.array(RelationInputSchema).max(100).default([]),
    external_ids: EventExternalIdsSchema.optional(),
  })
  .meta({
    id: 'EventCreate',
    description:
      'A new event with at least one report. Actors and documents are given by id, or by name/URL to find or create ' +
      'them.',
    example: {
      type: 'capture',
      title: 'North Korean soldier captured by Ukrainian special forces in Kursk region',
      occurred: { start: '2024-12-26', precision: 'day' },
      location: { admin1: 'Kursk', country: 'RUS', lat: 51.73, lon: 36.19, precision: 'admin1' },
      participants: [
        {
          actor: { name: 'Ukrainian Special Operations Forces', kind: 'military', country: 'UKR' },
          role: 'perpetrator',
        },
        { actor: { name: "Korean People's Army", kind: 'military', country: 'PRK' }, role: 'victim' },
      ],
      figures: [{ measure: 'captured', value: 1, qualifier: 'exact' }],
      reports: [
        {
          reporter: { name: "South Korea's National Intelligence Service", kind: 'agency', country: 'KOR' },
          reporter_role: 'third_party',
          stance: 'asserts',
          reliability: 'B',
          credibility: 2,
        },
      ],
      tags: ['north-korea', 'pow'],
    },
  });

export type EventInput = z.infer<typeof EventInputSchema>;

/**
 * A patch of the event's figures measure by measure: the editor's figures of a measure, or null to hand it back to the
 * evidence.
 */
export const EventFiguresByMeasureSchema = z
  .partialRecord(MeasureSchema, z.array(FigureInputSchema).max(100).nullable())
  .superRefine((byMeasure, ctx) => {
    for (const [measure, figures] of Object.entries(byMeasure)) {
      figures?.forEach((figure, i) => {
        if (figure.measure !== measure)
          ctx.addIssue({ code: 'custom', path: [measure, i, 'measure'], message: `must be ${measure}, as its key` });
      });
    }
  })
  .meta({
    id: 'EventFiguresByMeasure',
    description:
      "The editor's figures of each measure named (each figure's measure is its key); null hands the measure back to " +
      'the evidence',
    example: { killed: [{ measure: 'killed', value: 300, qualifier: 'approximately' }], wounded: null },
  });

/** Every field of an object optional and, where the stored field may be empty, nullable: a JSON merge patch of it. */
export const EventPatchSchema = z
  .strictObject({
    type: z.string().min(1).max(64).optional(),
    title: TitleSchema.optional(),
    description: DescriptionSchema.nullable().optional().describe('null clears it'),
    status: EventStatusSchema.nullable()
      .optional()
      .describe(
        "A value is an editor's status and is kept; null hands the status back to the evidence (reported or " +
          'corroborated)',
      ),
    occurred: z
      .strictObject({
        start: CalendarDate.optional(),
        end: CalendarDate.nullable().optional().describe('null: the same day as start'),
        precision: DatePrecisionSchema.optional(),
      })
      .optional()
      .describe('Merged into the current interval; the result must have start <= end'),
    location: z
      .strictObject({
        name: z.string().trim().min(1).max(300).nullable().optional(),
        admin1: z.string().trim().min(1).max(200).nullable().optional(),
        admin2: z.string().trim().min(1).max(200).nullable().optional(),
        admin3: z.string().trim().min(1).max(200).nullable().optional(),
        country: CountryCodeSchema.nullable().optional(),
        lat: z.number().min(-90).max(90).nullable().optional(),
        lon: z.number().min(-180).max(180).nullable().optional(),
        precision: LocationPrecisionSchema.nullable().optional(),
      })
      .nullable()
      .optional()
      .describe('Merged field by field (null clears a field); null clears the whole location'),
    participants: z.array(ParticipantInputSchema).max(200).optional().describe('Replaces every participant'),
    figures: z
      .union([z.array(FigureInputSchema).max(100), EventFiguresByMeasureSchema])
      .nullable()
      .optional()
      .describe(
        "An array replaces the editor's figures: the measures it names become the editor's, every other measure goes " +
          'back to ' +
          'the evidence (null or [] hands every measure back). An object by measure changes only the measures it ' +
          'names: { "killed": [...] } makes them the editor\'s, { "killed": null } hands killed back to the evidence',
      ),
    tags: z.array(TagSchema).max(50).optional().describe('Replaces the tags'),
    external_ids: z
      .record(ExternalSourceSchema, ExternalIdSchema.nullable())
      .optional()
      .describe('Merged source by source; null removes a source. 409 when another event has one of the new ids'),
  })
  .meta({
    id: 'EventPatch',
    description:
      'A JSON merge patch (RFC 7396) of an event: fields left out stay as they are, null removes, objects merge, ' +
      'arrays are replaced. Reports are changed through their own resource, relations through /relations.',
    example: {
      title: 'North Korean soldier captured in Kursk region',
      location: { admin2: 'Sudzha' },
      tags: ['north-korea', 'pow'],
    },
  });

export type EventPatch = z.infer<typeof EventPatchSchema>;

export const MergeBodySchema = z
  .strictObject({
    into: z.uuid().describe('The live event that survives'),
    reason: z.string().trim().min(1).max(2000).optional(),
  })
  .meta({ id: 'MergeRequest' });

export const RelationParamsSchema = z.object({ id: z.uuid(), relation: RelationKindSchema, event_id: z.uuid() });

export const EventSchema = z
  .object({
    id: z.uuid(),
    type: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    status: EventStatusSchema,
    status_source: z.enum(['evidence', 'editor']).describe(STATUS_SOURCE_TEXT),
    report_count: z.number().int().min(0).describe('Live reports, whatever their stance'),
    independent_reporter_count: z
      .number()
      .int()
      .min(0)
      .describe(
        'Unrelated reporters asserting the event: its asserting reports counted by the origin of their claim, the ' +
          'farthest actor ' +
          'they cite (via), or the reporter itself; two outlets quoting the same agency count once',
      ),
    occurred: z.object({ start: z.iso.date(), end: z.iso.date(), precision: DatePrecisionSchema }),
    location: z.object({
      name: z.string().nullable(),
      admin1: z.string().nullable(),
      admin2: z.string().nullable(),
      admin3: z.string().nullable(),
      country: z.string().nullable(),
      lat: z.number().nullable(),
      lon: z.number().nullable(),
      precision: LocationPrecisionSchema,
    }),
    participants: z.array(z.object({ actor: ActorSummarySchema, role: ParticipantRoleSchema })),
    figures: z.array(EventFigureSchema).describe(EVENT_FIGURES_TEXT),
    reports: z.array(ReportSchema),
    tags: z.array(z.string()),
    external_ids: z
      .record(z.string(), z.string())
      .describe('Identifiers in other systems, by source: { "acled": "NGA12345" }'),
    relations: z.array(z.object({ event_id: z.uuid(), relation: RelationKindSchema })),
    version: z.number().int().min(1).describe('Starts at 1 and grows by 1 on every change; also the ETag'),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    created_by: z.string(),
    updated_by: z.string(),
    deleted_at: z.iso.datetime().nullable(),
  })
  .meta({
    id: 'Event',
    description: 'Something that happened, or is alleged to have, with every report that attributes it',
  });

export const EventPageSchema = z
  .object({
    data: z.array(EventSchema),
    next_cursor: z.string().nullable().describe('Cursor of the next page, null on the last page'),
    total: z.number().int().min(0).optional().describe('Number of matching events, with count=true'),
  })
  .meta({ id: 'EventPage' });

// Wire format of actors: full records, the short form embedded in events and
// reports, and the references writers send (by id, or by name to find-or-create).
import { z } from 'zod';
import { CursorParamSchema, LimitSchema, pageOf } from '../../http/pagination.js';

export const ACTOR_KINDS = ['state', 'military', 'unit', 'agency', 'person', 'media', 'group', 'other'] as const;

export const ActorKindSchema = z
  .enum(ACTOR_KINDS)
  .meta({ id: 'ActorKind', description: 'What sort of party the actor is' });

export const CountryCodeSchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 3166-1 alpha-3 code in capitals, such as UKR')
  .meta({ id: 'CountryCode', description: 'ISO 3166-1 alpha-3 country code', example: 'UKR' });

const NameSchema = z.string().trim().min(1).max(300);

export const ExternalIdsSchema = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]*$/, 'keys are lower-case system names such as wikidata'),
    z.string().min(1).max(200),
  )
  .describe('Identifiers in other systems, such as { "wikidata": "Q..." }');

export const ActorByIdSchema = z
  .strictObject({ id: z.uuid() })
  .meta({ id: 'ActorById', description: 'An existing actor, by id' });

export const ActorByNameSchema = z
  .strictObject({
    name: NameSchema,
    kind: ActorKindSchema,
    country: CountryCodeSchema.nullish(),
    aliases: z.array(NameSchema).max(50).optional(),
    external_ids: ExternalIdsSchema.optional(),
  })
  .meta({
    id: 'ActorByName',
    description:
      'An actor by kind and name: the actor with the same kind and normalised name is used, or created with these ' +
      'fields',
  });

export const ActorPatchSchema = z
  .strictObject({
    name: NameSchema.optional(),
    kind: ActorKindSchema.optional(),
    country: CountryCodeSchema.nullable().optional(),
    aliases: z.array(NameSchema).max(50).optional().describe('Replaces the aliases'),
    external_ids: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_]*$/, 'keys are lower-case system names such as wikidata'),
        z.string().min(1).max(200).nullable(),
      )
      .optional()
      .describe('Merged key by key; null removes a key'),
  })
  .meta({
    id: 'ActorPatch',
    description:
      'A JSON merge patch (RFC 7396) of an actor. Renaming changes the name shown in every event and report that ' +
      'names the actor: they get new versions and revisions too. 409 when another actor of the same kind has the new ' +
      'name.',
    example: { name: 'National Intelligence Service (South Korea)', aliases: ['NIS', 'KNIS'] },
  });

export type ActorPatch = z.infer<typeof ActorPatchSchema>;

export const ActorRefSchema = z
  .union([ActorByIdSchema, ActorByNameSchema])
  .meta({ id: 'ActorRef', description: 'Reference to an actor in a write: { id } or { name, kind, ... }' });

export type ActorRef = z.infer<typeof ActorRefSchema>;

export const ActorSummarySchema = z
  .object({ id: z.uuid(), name: z.string(), kind: ActorKindSchema, country: z.string().nullable() })
  .meta({ id: 'ActorSummary', description: 'An actor as embedded in events and reports' });

export const ActorSchema = z
  .object({
    id: z.uuid(),
    kind: ActorKindSchema,
    name: z.string(),
    country: z.string().nullable(),
    aliases: z.array(z.string()),
    external_ids: z.record(z.string(), z.string()),
    merged_into: z
      .uuid()
      .nullable()
      .describe(
        'The actor this one was merged into: set only in the revision that tombstoned it (its GET answers 410)',
      ),
    version: z.number().int().min(1),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({
    id: 'Actor',
    description: 'A named party: a state, a force or unit, an agency, a person, a media outlet, an unnamed group',
    example: {
      id: '0193f1a0-7c1e-7b7a-9d51-3f2a1c0b9e01',
      kind: 'agency',
      name: "South Korea's National Intelligence Service",
      country: 'KOR',
      aliases: ['NIS'],
      external_ids: { wikidata: 'Q624394' },
      merged_into: null,
      version: 1,
      created_at: '2025-01-04T10:00:00.000Z',
      updated_at: '2025-01-04T10:00:00.000Z',
    },
  });

export const ActorPageSchema = pageOf(ActorSchema, 'ActorPage');

export const ActorMergeBodySchema = z
  .strictObject({ into: z.uuid().describe('The live actor of the same kind that survives') })
  .meta({ id: 'ActorMergeRequest', description: 'The actor this one is merged into' });

export const ActorListQuerySchema = z.strictObject({
  q: z.string().trim().min(1).max(200).optional().describe('Case-insensitive search in names and aliases'),
  kind: ActorKindSchema.optional(),
  country: CountryCodeSchema.optional(),
  limit: LimitSchema,
  cursor: CursorParamSchema,
});

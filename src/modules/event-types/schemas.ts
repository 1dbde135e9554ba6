import { z } from 'zod';

export const EventTypeSchema = z
  .object({
    code: z.string(),
    label: z.string(),
    description: z.string(),
    acled_event_type: z.string().nullable().describe("ACLED's event type, where one corresponds"),
    acled_sub_event_type: z.string().nullable().describe("ACLED's sub-event type, where one corresponds"),
  })
  .meta({
    id: 'EventType',
    example: {
      code: 'strike',
      label: 'Strike',
      description: 'An air, drone or missile strike.',
      acled_event_type: 'Explosions/Remote violence',
      acled_sub_event_type: 'Air/drone strike',
    },
  });

export const EventTypeListSchema = z.object({ data: z.array(EventTypeSchema) }).meta({ id: 'EventTypeList' });

export const EventTypeCreateSchema = z
  .strictObject({
    code: z
      .string()
      .regex(/^[a-z][a-z0-9_]{1,63}$/, 'a lower-case word: letters, digits and _, starting with a letter'),
    label: z.string().trim().min(1).max(100),
    description: z.string().trim().min(1).max(2000),
    acled_event_type: z.string().trim().min(1).max(100).nullish(),
    acled_sub_event_type: z.string().trim().min(1).max(100).nullish(),
  })
  .meta({ id: 'EventTypeCreate', description: 'A new code for the vocabulary; codes are never removed or renamed' });

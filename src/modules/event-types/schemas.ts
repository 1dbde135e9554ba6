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

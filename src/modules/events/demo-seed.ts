// Loads the demo data set (data/demo-events.json: the events of the seed article)
// through the same validation and create path as POST /v1/events. Loading twice
// adds nothing: an event with the same type, title and start is taken as loaded.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { runWrite } from '../../write/run.js';
import { EventInputSchema, RelationKindSchema } from './schemas.js';
import { createEvent } from './writes.js';

export const DEMO_DATA_FILE = new URL('../../../data/demo-events.json', import.meta.url);

const DemoFileSchema = z.object({
  events: z.array(z.object({ key: z.string(), event: EventInputSchema })),
  relations: z.array(z.object({ from: z.string(), relation: RelationKindSchema, to: z.string() })),
});

const DEMO_AUTHOR = 'demo-seed';

/** Returns how many events were created (0 when the demo data was already there). */
export async function seedDemo(db: Database, file: URL = DEMO_DATA_FILE): Promise<number> {
  const demo = DemoFileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  const ids = new Map<string, string>();
  let created = 0;
  for (const { key, event } of demo.events) {
    const existing = await db.prisma.event.findFirst({
      where: {
        typeCode: event.type,
        title: event.title,
        occurredStart: new Date(event.occurred.start),
        deletedAt: null,
      },
      select: { id: true },
    });
    if (existing) {
      ids.set(key, existing.id);
      continue;
    }
    const id = await runWrite(db, DEMO_AUTHOR, (unit) => createEvent(unit, event));
    ids.set(key, id);
    created += 1;
  }
  const idOf = (key: string) => {
    const id = ids.get(key);
    if (!id) throw new Error(`demo relation names unknown event key ${key}`);
    return id;
  };
  await runWrite(db, DEMO_AUTHOR, async (unit) => {
    const added = await unit.tx.eventRelation.createMany({
      data: demo.relations.map((r) => ({
        eventId: idOf(r.from),
        relatedEventId: idOf(r.to),
        relation: r.relation,
        createdBy: DEMO_AUTHOR,
      })),
      skipDuplicates: true,
    });
    if (added.count === 0) return;
    for (const from of new Set(demo.relations.map((r) => idOf(r.from)))) unit.changed('event', from, 'updated');
  });
  return created;
}

// The event-type vocabulary: read for the listing, and checked on every write that names a type.
import type { z } from 'zod';
import type { EventType as EventTypeRow } from '../../generated/prisma/client.js';
import type { PrismaHandle } from '../../db/client.js';
import { invalidInput, type Violation } from '../../http/errors.js';
import type { EventTypeCreateSchema, EventTypeSchema } from './schemas.js';

export function toEventType(row: EventTypeRow): z.infer<typeof EventTypeSchema> {
  return {
    code: row.code,
    label: row.label,
    description: row.description,
    acled_event_type: row.acledEventType,
    acled_sub_event_type: row.acledSubEventType,
  };
}

/** Adds a code to the vocabulary; null when the code exists (codes are never replaced). */
export async function createEventType(
  db: PrismaHandle,
  input: z.infer<typeof EventTypeCreateSchema>,
): Promise<EventTypeRow | null> {
  const created = await db.eventType.createMany({
    data: [
      {
        code: input.code,
        label: input.label,
        description: input.description,
        acledEventType: input.acled_event_type ?? null,
        acledSubEventType: input.acled_sub_event_type ?? null,
      },
    ],
    skipDuplicates: true,
  });
  return created.count === 0 ? null : db.eventType.findUniqueOrThrow({ where: { code: input.code } });
}

export async function listEventTypes(db: PrismaHandle): Promise<EventTypeRow[]> {
  return db.eventType.findMany({ orderBy: { code: 'asc' } });
}

/** The codes of the vocabulary, in order. */
export async function eventTypeCodes(db: PrismaHandle): Promise<string[]> {
  return (await db.eventType.findMany({ select: { code: true }, orderBy: { code: 'asc' } })).map((row) => row.code);
}

/** A violation for each of `codes` (each with its JSON pointer) that is not one of `known`, naming the known ones. */
export function unknownEventTypes(known: string[], codes: [code: string, pointer: string][]): Violation[] {
  return codes
    .filter(([code]) => !known.includes(code))
    .map(([code, pointer]) => ({
      path: pointer,
      message: `unknown event type "${code}"; known types: ${known.join(', ')}`,
      in: 'body',
    }));
}

/** Throws a 400 naming the known codes when any of `codes` (each with its JSON pointer) is unknown. */
export async function assertEventTypes(db: PrismaHandle, codes: [code: string, pointer: string][]): Promise<void> {
  const known = await eventTypeCodes(db);
  const unknown = unknownEventTypes(known, codes);
  if (unknown.length === 0) return;
  throw invalidInput(unknown, `Unknown event type; known types: ${known.join(', ')}.`);
}

/**
 * The codes each database's vocabulary is known to have. The vocabulary only grows (POST
 * /v1/event-types; no operation removes or renames a code), so a code once seen stays valid;
 * a code not seen yet is looked up again, since another instance may have added it. Before,
 * every list request with a type filter read the vocabulary through Prisma: a query more per
 * page (bench/RESULTS.md).
 */
const seenCodes = new WeakMap<PrismaHandle, Set<string>>();

/**
 * A 400 naming each unknown code of a `type` query filter and the known ones: a mistyped code
 * would match nothing, an empty 200. Checked against the stored vocabulary, which admins extend.
 */
export async function assertKnownTypeFilter(db: PrismaHandle, codes: string[] | undefined): Promise<void> {
  if (!codes || codes.length === 0) return;
  let seen = seenCodes.get(db);
  if (seen && codes.every((code) => seen!.has(code))) return;
  const known = await eventTypeCodes(db);
  seenCodes.set(db, (seen = new Set(known)));
  const unknown = [...new Set(codes.filter((code) => !seen.has(code)))];
  if (unknown.length === 0) return;
  throw invalidInput(
    unknown.map((code) => ({
      path: '/type',
      in: 'query' as const,
      message: `unknown event type "${code}"; known types: ${known.join(', ')}`,
    })),
    `Unknown event type in the type filter; known types: ${known.join(', ')}.`,
  );
}

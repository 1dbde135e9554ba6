// Data access for events: the create transaction that writes an event with all
// its reports, participants, figures and relations, and the keyset-paged reads.
import type { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.js';
import type { PrismaClient, Transaction } from '../../db/client.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { invalidInput, type Violation } from '../../http/errors.js';
import { toActorSummary } from '../actors/repository.js';
import type { ActorRef } from '../actors/schemas.js';
import { assertEventTypes } from '../event-types/repository.js';
import { FIGURE_INCLUDE, FIGURE_ORDER, figureRows, figureSubjects, toFigure } from '../figures/repository.js';
import { insertReport, REPORT_INCLUDE, reportReferences, toReport } from '../reports/repository.js';
import { WriteContext, type Located } from '../write-context.js';
import type { EventInput, EventListQuery, EventSchema } from './schemas.js';

type Db = PrismaClient | Transaction;

export const EVENT_INCLUDE = {
  participants: { include: { actor: true }, orderBy: { position: 'asc' } },
  figures: { include: FIGURE_INCLUDE, orderBy: FIGURE_ORDER },
  reports: { where: { deletedAt: null }, include: REPORT_INCLUDE, orderBy: { id: 'asc' } },
  relations: { orderBy: [{ createdAt: 'asc' }, { relatedEventId: 'asc' }] },
} as const satisfies Prisma.EventInclude;

export type EventRow = Prisma.EventGetPayload<{ include: typeof EVENT_INCLUDE }>;

const isoDate = (date: Date) => date.toISOString().slice(0, 10);

export function toEvent(row: EventRow): z.infer<typeof EventSchema> {
  return {
    id: row.id,
    type: row.typeCode,
    title: row.title,
    description: row.description,
    status: row.status,
    occurred: { start: isoDate(row.occurredStart), end: isoDate(row.occurredEnd), precision: row.occurredPrecision },
    location: {
      name: row.locationName,
      admin1: row.admin1,
      admin2: row.admin2,
      country: row.country,
      lat: row.lat,
      lon: row.lon,
      precision: row.locationPrecision,
    },
    participants: row.participants.map((p) => ({ actor: toActorSummary(p.actor), role: p.role })),
    figures: row.figures.map(toFigure),
    reports: row.reports.map(toReport),
    tags: row.tags,
    relations: row.relations.map((r) => ({ event_id: r.relatedEventId, relation: r.relation })),
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    created_by: row.createdBy,
    updated_by: row.updatedBy,
    deleted_at: row.deletedAt?.toISOString() ?? null,
  };
}

/** Every actor and document reference in an event body, with where it stands. */
function eventReferences(input: EventInput) {
  const actors: Located<ActorRef>[] = [
    ...input.participants.map((p, i): Located<ActorRef> => [p.actor, `/participants/${i}/actor`]),
    ...figureSubjects(input.figures, '/figures'),
  ];
  const documents: ReturnType<typeof reportReferences>['documents'] = [];
  input.reports.forEach((report, i) => {
    const refs = reportReferences(report, `/reports/${i}`);
    actors.push(...refs.actors);
    documents.push(...refs.documents);
  });
  return { actors, documents };
}

async function assertRelatedEventsExist(tx: Transaction, relations: EventInput['relations']): Promise<void> {
  if (relations.length === 0) return;
  const found = await tx.event.findMany({
    where: { id: { in: relations.map((r) => r.event_id) }, deletedAt: null },
    select: { id: true },
  });
  const known = new Set(found.map((row) => row.id));
  const missing: Violation[] = relations.flatMap((r, i) =>
    known.has(r.event_id)
      ? []
      : [{ path: `/relations/${i}/event_id`, message: `no live event has the id ${r.event_id}`, in: 'body' as const }],
  );
  if (missing.length > 0) throw invalidInput(missing, 'The body relates to events that do not exist.');
}

/** Creates an event with everything nested in the body, in one transaction; returns its id. */
export async function createEvent(prisma: PrismaClient, input: EventInput, author: string): Promise<string> {
  return prisma.$transaction(async (tx) => {
    const ctx = new WriteContext(tx, author);
    await assertEventTypes(tx, [[input.type, '/type']]);
    const refs = eventReferences(input);
    await ctx.verifyReferences(refs.actors, refs.documents);
    await assertRelatedEventsExist(tx, input.relations);

    const location = input.location;
    const event = await tx.event.create({
      data: {
        typeCode: input.type,
        title: input.title,
        description: input.description ?? null,
        status: input.status,
        occurredStart: new Date(input.occurred.start),
        occurredEnd: new Date(input.occurred.end ?? input.occurred.start),
        occurredPrecision: input.occurred.precision,
        locationName: location?.name ?? null,
        admin1: location?.admin1 ?? null,
        admin2: location?.admin2 ?? null,
        country: location?.country ?? null,
        lat: location?.lat ?? null,
        lon: location?.lon ?? null,
        locationPrecision: location?.precision ?? 'unknown',
        tags: [...new Set(input.tags)],
        createdBy: author,
        updatedBy: author,
      },
      select: { id: true },
    });

    const participants = [];
    const seen = new Set<string>();
    for (const participant of input.participants) {
      const actorId = await ctx.actor(participant.actor);
      const key = `${actorId}/${participant.role}`;
      if (seen.has(key)) continue; // the same actor named twice in one role counts once
      seen.add(key);
      participants.push({ eventId: event.id, actorId, role: participant.role, position: participants.length });
    }
    if (participants.length > 0) await tx.participant.createMany({ data: participants });

    const figures = await figureRows(ctx, input.figures, { eventId: event.id });
    if (figures.length > 0) await tx.figure.createMany({ data: figures });

    for (const report of input.reports) await insertReport(ctx, event.id, report);

    if (input.relations.length > 0) {
      await tx.eventRelation.createMany({
        data: input.relations.map((r) => ({ eventId: event.id, relatedEventId: r.event_id, relation: r.relation, createdBy: author })),
        skipDuplicates: true,
      });
    }
    return event.id;
  });
}

export async function getEvent(db: Db, id: string): Promise<EventRow | null> {
  return db.event.findUnique({ where: { id }, include: EVENT_INCLUDE });
}

/** How each sort orders rows and reads its key from a row; every sort ends on the id. */
const SORTS = {
  '-occurred': { field: 'occurredStart', direction: 'desc', date: true },
  occurred: { field: 'occurredStart', direction: 'asc', date: true },
  '-updated': { field: 'updatedAt', direction: 'desc', date: false },
  '-created': { field: 'createdAt', direction: 'desc', date: false },
} as const;

function sortKey(row: EventRow, sort: EventListQuery['sort']): string {
  const { field, date } = SORTS[sort];
  const value = row[field];
  return date ? isoDate(value) : value.toISOString();
}

/**
 * Whether a cursor's key is one sortKey could have written for this sort: the exact
 * text form, of a real day, in years 1 to 9999 (which PostgreSQL can compare with).
 */
function isSortKey(sort: EventListQuery['sort']) {
  const { date } = SORTS[sort];
  const shape = date ? /^\d{4}-\d{2}-\d{2}$/ : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
  return (key: unknown): boolean => {
    if (typeof key !== 'string' || !shape.test(key) || key.startsWith('0000')) return false;
    const parsed = new Date(key);
    if (Number.isNaN(parsed.getTime())) return false;
    return (date ? isoDate(parsed) : parsed.toISOString()) === key;
  };
}

export async function listEvents(db: Db, query: EventListQuery) {
  const { field, direction } = SORTS[query.sort];
  const after = query.cursor ? decodeCursor(query.cursor, query.sort, isSortKey(query.sort)) : null;
  const beyond = direction === 'desc' ? 'lt' : 'gt';
  const where: Prisma.EventWhereInput = {
    deletedAt: null,
    ...(query.type ? { typeCode: { in: query.type } } : {}),
    ...(after
      ? {
          OR: [
            { [field]: { [beyond]: new Date(after.key as string) } },
            { [field]: new Date(after.key as string), id: { [beyond]: after.id } },
          ],
        }
      : {}),
  };
  const rows = await db.event.findMany({
    where,
    include: EVENT_INCLUDE,
    orderBy: [{ [field]: direction }, { id: direction }],
    take: query.limit + 1,
  });
  const data = rows.slice(0, query.limit);
  const last = data.at(-1);
  const nextCursor =
    rows.length > query.limit && last ? encodeCursor({ sort: query.sort, key: sortKey(last, query.sort), id: last.id }) : null;
  return { rows: data, nextCursor };
}

// Data access for reports: writing one with its chain, document and figures, and
// reading them back in a stable order (ids are time-ordered, so by id).
import type { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.js';
import type { PrismaClient, Transaction } from '../../db/client.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { toActorSummary } from '../actors/repository.js';
import type { ActorRef } from '../actors/schemas.js';
import { toDocumentSummary } from '../documents/repository.js';
import type { DocumentRef } from '../documents/schemas.js';
import { FIGURE_INCLUDE, FIGURE_ORDER, figureRows, figureSubjects, toFigure } from '../figures/repository.js';
import { WriteContext, type Located } from '../write-context.js';
import type { ReportInput, ReportSchema } from './schemas.js';

type Db = PrismaClient | Transaction;

export const REPORT_INCLUDE = {
  reporter: true,
  document: true,
  via: { include: { actor: true }, orderBy: { position: 'asc' } },
  figures: { include: FIGURE_INCLUDE, orderBy: FIGURE_ORDER },
} as const satisfies Prisma.ReportInclude;

export type ReportRow = Prisma.ReportGetPayload<{ include: typeof REPORT_INCLUDE }>;

export function toReport(row: ReportRow): z.infer<typeof ReportSchema> {
  return {
    id: row.id,
    event_id: row.eventId,
    reporter: toActorSummary(row.reporter),
    reporter_role: row.reporterRole,
    via: row.via.map((link) => toActorSummary(link.actor)),
    document: row.document ? toDocumentSummary(row.document) : null,
    stated_at: row.statedAt
      ? row.statedAtPrecision === 'date'
        ? row.statedAt.toISOString().slice(0, 10)
        : row.statedAt.toISOString()
      : null,
    stance: row.stance,
    quote: row.quote,
    reliability: row.reliability as z.infer<typeof ReportSchema>['reliability'],
    credibility: row.credibility,
    figures: row.figures.map(toFigure),
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    created_by: row.createdBy,
  };
}

/** Every actor and document reference of a report, located for WriteContext.verifyReferences. */
export function reportReferences(report: ReportInput, pointer: string) {
  const actors: Located<ActorRef>[] = [
    [report.reporter, `${pointer}/reporter`],
    ...report.via.map((ref, i): Located<ActorRef> => [ref, `${pointer}/via/${i}`]),
    ...figureSubjects(report.figures, `${pointer}/figures`),
  ];
  const documents: Located<DocumentRef | null | undefined>[] = [[report.document, `${pointer}/document`]];
  return { actors, documents };
}

/** Writes one report of `eventId` with its chain and figures; references must have been verified. */
export async function insertReport(ctx: WriteContext, eventId: string, report: ReportInput): Promise<string> {
  const statedAt = report.stated_at ?? null;
  const created = await ctx.tx.report.create({
    data: {
      eventId,
      reporterId: await ctx.actor(report.reporter),
      reporterRole: report.reporter_role,
      documentId: await ctx.document(report.document),
      statedAt: statedAt ? new Date(statedAt) : null,
      statedAtPrecision: statedAt ? (statedAt.length === 10 ? 'date' : 'date_time') : null,
      stance: report.stance,
      quote: report.quote ?? null,
      reliability: report.reliability ?? null,
      credibility: report.credibility ?? null,
      createdBy: ctx.author,
      updatedBy: ctx.author,
    },
    select: { id: true },
  });
  const via = [];
  for (const [position, ref] of report.via.entries()) via.push({ reportId: created.id, position, actorId: await ctx.actor(ref) });
  if (via.length > 0) await ctx.tx.reportVia.createMany({ data: via });
  const figures = await figureRows(ctx, report.figures, { reportId: created.id });
  if (figures.length > 0) await ctx.tx.figure.createMany({ data: figures });
  return created.id;
}

export async function getReport(db: Db, id: string): Promise<ReportRow | null> {
  return db.report.findFirst({ where: { id, deletedAt: null }, include: REPORT_INCLUDE });
}

const SORT = 'id';

/** The live reports of one event, oldest first. */
export async function listEventReports(db: Db, eventId: string, page: { limit: number; cursor?: string | undefined }) {
  const after = page.cursor ? decodeCursor(page.cursor, SORT, (key) => key === null) : null;
  const rows = await db.report.findMany({
    where: { eventId, deletedAt: null, ...(after ? { id: { gt: after.id } } : {}) },
    include: REPORT_INCLUDE,
    orderBy: { id: 'asc' },
    take: page.limit + 1,
  });
  const data = rows.slice(0, page.limit);
  const last = data.at(-1);
  const nextCursor = rows.length > page.limit && last ? encodeCursor({ sort: SORT, key: null, id: last.id }) : null;
  return { rows: data, nextCursor };
}

/**
 * Adds a report to a live event in one transaction. The event's version is bumped
 * first, which also locks its row, so concurrent additions serialise cleanly.
 * Says 'missing' or 'deleted' when there is no live event to add to.
 */
export async function addReport(
  prisma: PrismaClient,
  eventId: string,
  report: ReportInput,
  author: string,
): Promise<ReportRow | 'missing' | 'deleted'> {
  return prisma.$transaction(async (tx) => {
    const bumped = await tx.event.updateMany({
      where: { id: eventId, deletedAt: null },
      data: { version: { increment: 1 }, updatedBy: author, updatedAt: new Date() },
    });
    if (bumped.count === 0) {
      const exists = await tx.event.findUnique({ where: { id: eventId }, select: { id: true } });
      return exists ? 'deleted' : 'missing';
    }
    const ctx = new WriteContext(tx, author);
    const refs = reportReferences(report, '');
    await ctx.verifyReferences(refs.actors, refs.documents);
    const id = await insertReport(ctx, eventId, report);
    return tx.report.findUniqueOrThrow({ where: { id }, include: REPORT_INCLUDE });
  });
}

// Data access for reports: writing one with its chain, document and figures
// (Prisma, in the caller's transaction), and reading them as JSON built by
// PostgreSQL (json-sql.ts), in a stable order.
import type pg from 'pg';
import type { PrismaClient } from '../../db/client.js';
import { SqlParams } from '../../db/sql.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import type { ActorRef } from '../actors/schemas.js';
import type { DocumentRef } from '../documents/schemas.js';
import { figureRows, figureSubjects } from '../figures/repository.js';
import { refreshEvent } from '../events/refresh.js';
import { WriteContext, type Located } from '../write-context.js';
import { reportConditions, type ReportFilters } from './filters.js';
import { REPORT_JSON } from './json-sql.js';
import type { ReportInput } from './schemas.js';

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

/** One live report as JSON text, with its version for the ETag. */
export async function getReport(pool: pg.Pool, id: string): Promise<{ json: string; version: number } | null> {
  const result = await pool.query<{ json: string; version: number }>(
    `SELECT (${REPORT_JSON})::text AS json, r.version FROM reports r WHERE r.id = $1 AND r.deleted_at IS NULL`,
    [id],
  );
  return result.rows[0] ?? null;
}

export const REPORT_SORTS = ['-created', 'created'] as const;

/**
 * A page of live reports as JSON texts, by creation (ids are time-ordered UUIDv7,
 * so the id is the whole sort key), with the cursor of the next page.
 */
export async function listReports(
  pool: pg.Pool,
  request: { filters: ReportFilters; eventId?: string; sort: (typeof REPORT_SORTS)[number]; cursor?: string | undefined; limit: number },
) {
  const p = new SqlParams();
  const where = ['r.deleted_at IS NULL', ...reportConditions(request.filters, p)];
  if (request.eventId) where.push(`r.event_id = ${p.add(request.eventId, 'uuid')}`);
  const direction = request.sort === 'created' ? 'ASC' : 'DESC';
  if (request.cursor) {
    const after = decodeCursor(request.cursor, request.sort, (key) => key === null);
    where.push(`r.id ${direction === 'ASC' ? '>' : '<'} ${p.add(after.id, 'uuid')}`);
  }
  const rows = (
    await pool.query<{ id: string; json: string }>(
      `SELECT r.id, (${REPORT_JSON})::text AS json FROM reports r
       WHERE ${where.join(' AND ')} ORDER BY r.id ${direction} LIMIT ${request.limit + 1}`,
      p.values,
    )
  ).rows;
  const page = rows.slice(0, request.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > request.limit && last ? encodeCursor({ sort: request.sort, key: null, id: last.id }) : null;
  return { items: page.map((row) => row.json), nextCursor };
}

/**
 * Adds a report to a live event in one transaction. The event's version is bumped
 * first, which also locks its row, so concurrent additions serialise cleanly.
 * Returns the new report's id, or says 'missing' or 'deleted' when there is no live event to add to.
 */
export async function addReport(
  prisma: PrismaClient,
  eventId: string,
  report: ReportInput,
  author: string,
): Promise<string | 'missing' | 'deleted'> {
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
    await refreshEvent(tx, eventId);
    return id;
  });
}

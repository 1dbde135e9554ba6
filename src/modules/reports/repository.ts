// Data access for reports: writing one with its chain, document and figures
// (Prisma, in the caller's transaction; the whole writes are in writes.ts), and
// reading them as JSON built by PostgreSQL (json-sql.ts), in a stable order.
import type pg from 'pg';
import { isoTimestamp, SqlParams } from '../../db/sql.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import type { ActorRef } from '../actors/schemas.js';
import { resolveActor } from '../actors/writes.js';
import type { DocumentRef } from '../documents/schemas.js';
import { resolveDocument } from '../documents/writes.js';
import { figureRows, figureSubjects } from '../figures/repository.js';
import type { Located, UnitOfWork } from '../../write/unit.js';
import { reportConditions, type ReportFilters } from './filters.js';
import { REPORT_JSON } from './json-sql.js';
import type { ReportInput } from './schemas.js';

/** Every actor and document reference of a report, located for UnitOfWork.verifyReferences. */
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
export async function insertReport(unit: UnitOfWork, eventId: string, report: ReportInput): Promise<string> {
  const statedAt = report.stated_at ?? null;
  const created = await unit.tx.report.create({
    data: {
      eventId,
      reporterId: await resolveActor(unit, report.reporter),
      reporterRole: report.reporter_role,
      documentId: await resolveDocument(unit, report.document),
      statedAt: statedAt ? new Date(statedAt) : null,
      statedAtPrecision: statedAt ? (statedAt.length === 10 ? 'date' : 'date_time') : null,
      stance: report.stance,
      quote: report.quote ?? null,
      reliability: report.reliability ?? null,
      credibility: report.credibility ?? null,
      createdBy: unit.author,
      updatedBy: unit.author,
    },
    select: { id: true },
  });
  unit.changed('report', created.id, 'created');
  await insertVia(unit, created.id, report.via);
  await insertReportFigures(unit, created.id, report.figures);
  return created.id;
}

/** Writes a report's chain of citation, nearest first. */
export async function insertVia(unit: UnitOfWork, reportId: string, via: ActorRef[]): Promise<void> {
  const rows = [];
  for (const [position, ref] of via.entries())
    rows.push({ reportId, position, actorId: await resolveActor(unit, ref) });
  if (rows.length > 0) await unit.tx.reportVia.createMany({ data: rows });
}

/** Writes what a report claims, in the order given. */
export async function insertReportFigures(
  unit: UnitOfWork,
  reportId: string,
  figures: ReportInput['figures'],
): Promise<void> {
  const rows = await figureRows(unit, figures, { reportId });
  if (rows.length > 0) await unit.tx.figure.createMany({ data: rows });
}

interface StoredReport {
  json: string;
  version: number;
  deleted_at: string | null;
  deleted_by: string | null;
  delete_reason: string | null;
  event_id: string;
  event_deleted_at: string | null;
}

/** One report as JSON text, with its version for the ETag and, when withdrawn, its tombstone. */
export async function getReport(pool: pg.Pool, id: string): Promise<StoredReport | null> {
  const result = await pool.query<StoredReport>(
    `SELECT (${REPORT_JSON})::text AS json, r.version, ${isoTimestamp('r.deleted_at')} AS deleted_at, r.deleted_by, r.delete_reason,
            r.event_id, (SELECT ${isoTimestamp('e.deleted_at')} FROM events e WHERE e.id = r.event_id) AS event_deleted_at
     FROM reports r WHERE r.id = $1`,
    [id],
  );
  return result.rows[0] ?? null;
}

export const REPORT_SORTS = ['-created', 'created'] as const;

/**
 * A page of live reports as JSON texts (of live events unless `ofDeletedEvents`), by creation (ids are time-ordered
 * UUIDv7, so the id is the whole sort key), with the cursor of the next page.
 */
export async function listReports(
  pool: pg.Pool,
  request: {
    filters: ReportFilters;
    eventId?: string;
    sort: (typeof REPORT_SORTS)[number];
    cursor?: string | undefined;
    limit: number;
    /** Whether reports of deleted events are listed too (editors'); they are left out otherwise. */
    ofDeletedEvents: boolean;
  },
) {
  const p = new SqlParams();
  const where = ['r.deleted_at IS NULL', ...reportConditions(request.filters, p)];
  if (!request.ofDeletedEvents)
    where.push('EXISTS (SELECT 1 FROM events e WHERE e.id = r.event_id AND e.deleted_at IS NULL)');
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
  const nextCursor =
    rows.length > request.limit && last ? encodeCursor({ sort: request.sort, key: null, id: last.id }) : null;
  return { items: page.map((row) => row.json), nextCursor };
}

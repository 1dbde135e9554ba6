// Writes to reports: adding one to an event, editing it (JSON merge patch) and
// withdrawing it. A report is part of its event's record, so each of these is also a
// change to the event: the event is locked first (by the caller before addReport, by
// lockLiveReport otherwise; always event, then report, so two writers never wait on each
// other crosswise) and gets a new version and revision.
import type { Transaction } from '../../db/client.js';
import { ApiError, notFound, ruleViolation } from '../../http/errors.js';
import { assertVersion, type ExpectedVersion } from '../../http/preconditions.js';
import type { ActorRef } from '../actors/schemas.js';
import { resolveActor } from '../actors/writes.js';
import { resolveDocument } from '../documents/writes.js';
import { figureSubjects } from '../figures/repository.js';
import type { Located, UnitOfWork } from '../../write/unit.js';
import { REPORT_JSON } from './json-sql.js';
import { insertReport, insertReportFigures, insertVia, reportReferences } from './repository.js';
import type { ReportInput, ReportPatch } from './schemas.js';

/** Adds a report to a live event, which the caller has locked (lockLiveEvent, events/writes.ts). */
export async function addReport(unit: UnitOfWork, eventId: string, report: ReportInput): Promise<string> {
  const refs = reportReferences(report, '');
  await unit.verifyReferences(refs.actors, refs.documents);
  const id = await insertReport(unit, eventId, report);
  unit.changed('event', eventId, 'updated');
  return id;
}

/** The report as the API serves it, read inside the write's transaction. */
export async function readReport(tx: Transaction, id: string): Promise<{ json: string; version: number }> {
  // eslint-disable-next-line raw-sql/unsafe -- REPORT_JSON is a constant SQL expression; the id is bound
  const rows = await tx.$queryRawUnsafe<{ json: string; version: number }[]>(
    `SELECT (${REPORT_JSON})::text AS json, r.version FROM reports r WHERE r.id = $1::uuid`,
    id,
  );
  if (!rows[0]) throw notFound('report', id);
  return rows[0];
}

/**
 * Locks a live report and its event for a write and checks the report's If-Match: 404 when
 * there is no such report, 410 when it was withdrawn, 409 when its event was deleted
 * (the reports of a deleted event are frozen with it), 412 when stale. Returns the event's id.
 */
export async function lockLiveReport(tx: Transaction, id: string, expected: ExpectedVersion): Promise<string> {
  const [event] = await tx.$queryRaw<{ id: string; deleted_at: Date | null }[]>`
    SELECT e.id, e.deleted_at FROM events e WHERE e.id = (SELECT event_id FROM reports WHERE id = ${id}::uuid) FOR UPDATE`;
  const [report] = await tx.$queryRaw<{ version: number; deleted_at: Date | null; event_id: string }[]>`
    SELECT version, deleted_at, event_id FROM reports WHERE id = ${id}::uuid FOR UPDATE`;
  if (!report || !event) throw notFound('report', id);
  // A merge may have moved the report between the two statements; its new event was not locked.
  if (report.event_id !== event.id)
    throw new ApiError('conflict', `The report ${id} moved to another event meanwhile; retry.`);
  if (report.deleted_at) throw new ApiError('gone', `The report ${id} was withdrawn.`);
  if (event.deleted_at)
    throw new ApiError('conflict', `The event ${event.id} of this report was deleted; its reports cannot change.`);
  assertVersion(expected, report.version, 'report');
  return event.id;
}

/** Applies a JSON merge patch to a locked live report: fields merge, via and figures are replaced. */
export async function patchReport(unit: UnitOfWork, id: string, eventId: string, patch: ReportPatch): Promise<void> {
  const { tx } = unit;
  const actors: Located<ActorRef>[] = [
    ...(patch.reporter ? [[patch.reporter, '/reporter'] as Located<ActorRef>] : []),
    ...(patch.via ?? []).map((ref, i): Located<ActorRef> => [ref, `/via/${i}`]),
    ...figureSubjects(patch.figures ?? [], '/figures'),
  ];
  await unit.verifyReferences(actors, [[patch.document, '/document']]);
  const statedAt = patch.stated_at;
  await tx.report.update({
    where: { id },
    data: {
      ...(patch.reporter ? { reporterId: await resolveActor(unit, patch.reporter) } : {}),
      ...(patch.reporter_role !== undefined ? { reporterRole: patch.reporter_role } : {}),
      ...(patch.document !== undefined ? { documentId: await resolveDocument(unit, patch.document) } : {}),
      ...(statedAt !== undefined
        ? {
            statedAt: statedAt ? new Date(statedAt) : null,
            statedAtPrecision: statedAt ? (statedAt.length === 10 ? ('date' as const) : ('date_time' as const)) : null,
          }
        : {}),
      ...(patch.stance !== undefined ? { stance: patch.stance } : {}),
      ...(patch.quote !== undefined ? { quote: patch.quote } : {}),
      ...(patch.reliability !== undefined ? { reliability: patch.reliability } : {}),
      ...(patch.credibility !== undefined ? { credibility: patch.credibility } : {}),
    },
  });
  if (patch.via !== undefined) {
    await tx.reportVia.deleteMany({ where: { reportId: id } });
    await insertVia(unit, id, patch.via);
  }
  if (patch.figures !== undefined) {
    await tx.figure.deleteMany({ where: { reportId: id } });
    await insertReportFigures(unit, id, patch.figures);
  }
  unit.changed('report', id, 'updated');
  unit.changed('event', eventId, 'updated');
}

/** Withdraws a locked live report; 422 when it is the last live report of its (live) event. */
export async function withdrawReport(
  unit: UnitOfWork,
  id: string,
  eventId: string,
  reason: string | null,
): Promise<void> {
  const live = await unit.tx.report.count({ where: { eventId, deletedAt: null } });
  if (live <= 1) {
    throw ruleViolation(
      `This is the last live report of the event ${eventId}: an event needs at least one. Delete the event instead.`,
    );
  }
  await unit.tx.report.update({
    where: { id },
    data: { deletedAt: new Date(), deletedBy: unit.author, deleteReason: reason },
  });
  unit.changed('report', id, 'deleted');
  unit.changed('event', eventId, 'updated');
}

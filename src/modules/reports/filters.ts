// Report filters: GET /v1/reports uses them directly, and the event filters use
// the same conditions inside EXISTS ("events with at least one such report").
import { z } from 'zod';
import type { SqlParams } from '../../db/sql.js';
import { commaList } from '../../http/query-values.js';
import { ReliabilitySchema, StanceSchema } from './schemas.js';

const Uuid = z.uuid();
const DateOrInstant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const ReportFilterFields = {
  reporter: commaList(Uuid, 'Reporter actor ids').optional(),
  via: commaList(Uuid, 'Actor ids cited anywhere in the via chain').optional(),
  document: commaList(Uuid, 'Document ids').optional(),
  stance: commaList(StanceSchema, 'Stances').optional(),
  min_reliability: ReliabilitySchema.optional().describe(
    'Reports graded this or better (A is best, F cannot be judged)',
  ),
};

export const StatedAtFilterFields = {
  stated_from: DateOrInstant.optional().describe('Statements made at or after this date (midnight UTC) or instant'),
  stated_to: DateOrInstant.optional().describe('Statements made on or before this date (to its end, UTC) or instant'),
};

export type ReportFilters = {
  [K in keyof typeof ReportFilterFields | keyof typeof StatedAtFilterFields]?: z.output<
    (typeof ReportFilterFields & typeof StatedAtFilterFields)[K]
  >;
};

/** Conditions on the live report row aliased `r`; an empty list when no report filter is set. */
export function reportConditions(filters: ReportFilters, p: SqlParams): string[] {
  const where: string[] = [];
  if (filters.reporter) where.push(`r.reporter_id = ANY(${p.add(filters.reporter, 'uuid[]')})`);
  if (filters.document) where.push(`r.document_id = ANY(${p.add(filters.document, 'uuid[]')})`);
  if (filters.stance) where.push(`r.stance = ANY(${p.add(filters.stance, 'stance[]')})`);
  if (filters.min_reliability) where.push(`r.reliability <= ${p.add(filters.min_reliability)}`);
  if (filters.via) {
    where.push(
      `EXISTS (SELECT 1 FROM report_via v WHERE v.report_id = r.id AND v.actor_id = ANY(${p.add(filters.via, 'uuid[]')}))`,
    );
  }
  if (filters.stated_from) {
    // A date bound starts at midnight UTC, whatever the session's time zone.
    where.push(
      filters.stated_from.length === 10
        ? `r.stated_at >= ${p.add(filters.stated_from, 'date')}::timestamp AT TIME ZONE 'UTC'`
        : `r.stated_at >= ${p.add(filters.stated_from, 'timestamptz')}`,
    );
  }
  if (filters.stated_to) {
    // A date bound includes the whole day.
    where.push(
      filters.stated_to.length === 10
        ? `r.stated_at < (${p.add(filters.stated_to, 'date')} + 1)::timestamp AT TIME ZONE 'UTC'`
        : `r.stated_at <= ${p.add(filters.stated_to, 'timestamptz')}`,
    );
  }
  return where;
}

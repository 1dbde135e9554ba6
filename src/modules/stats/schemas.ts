// The wire format of the stats for dashboards (docs/data-model.md, Stats): the query strings
// (every event filter, plus the grouping) and the rows they return.
import { z } from 'zod';
import { commaList, QueryBoolean } from '../../http/query-values.js';
import { ActorSummarySchema, CountryCodeSchema } from '../actors/schemas.js';
import { EventFilterFields, refineEventFilters } from '../events/filters.js';
import { EventStatusSchema } from '../events/schemas.js';
import { MeasureSchema } from '../figures/schemas.js';
import { ReporterRoleSchema, StanceSchema } from '../reports/schemas.js';

export const GROUP_KEYS = ['period', 'type', 'status', 'country', 'admin1', 'admin3', 'reporter', 'actor'] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];
export const INTERVALS = ['day', 'week', 'month', 'year'] as const;
export type Interval = (typeof INTERVALS)[number];

/** More groups than this is a 400: a chart cannot show them, and the answer would be large. */
export const MAX_GROUPS = 10_000;

export const FILL_TOO_LONG = `filling would give more than ${MAX_GROUPS} rows: narrow the window or lengthen the interval`;

/** How many periods of `interval` the days from `from` to `to` (YYYY-MM-DD, any order) touch. */
export function periodsBetween(from: string, to: string, interval: Interval): number {
  const [a, b] = [new Date(`${from.slice(0, 10)}T00:00:00Z`), new Date(`${to.slice(0, 10)}T00:00:00Z`)];
  if (Number.isNaN(a.getTime()) || Number.isNaN(b.getTime()) || b < a) return 0;
  const days = (date: Date) => Math.floor(date.getTime() / 86_400_000);
  switch (interval) {
    case 'day':
      return days(b) - days(a) + 1;
    case 'week':
      // Days since a Monday (1970-01-05 was one), in whole weeks.
      return Math.floor((days(b) - 4) / 7) - Math.floor((days(a) - 4) / 7) + 1;
    case 'month':
      return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth() + 1;
    case 'year':
      return b.getUTCFullYear() - a.getUTCFullYear() + 1;
  }
}

export const EventStatsQuerySchema = z
  .strictObject({
    ...EventFilterFields,
    group_by: commaList(
      z.enum(GROUP_KEYS),
      `Keys to group by: ${GROUP_KEYS.join(', ')}`,
      'several keys separated by commas give a row per combination of their values',
    ).optional(),
    interval: z
      .enum(INTERVALS)
      .optional()
      .describe('Length of a period with group_by=period: day, week (from Monday), month (default) or year'),
    fill: QueryBoolean.optional().describe(
      'With group_by=period: true adds the periods without events, with zero counts, from occurred_from (or the ' +
        'first period found) to occurred_to (or the last), for every combination of the other keys found',
    ),
    measure: commaList(MeasureSchema, 'Measures whose figures are summed (default: every measure found)').optional(),
  })
  .superRefine((query, ctx) => {
    refineEventFilters(query, ctx);
    const groups = query.group_by ?? [];
    if (new Set(groups).size !== groups.length)
      ctx.addIssue({ code: 'custom', path: ['group_by'], message: 'each key may appear once' });
    if (query.interval && !groups.includes('period'))
      ctx.addIssue({ code: 'custom', path: ['interval'], message: 'interval needs group_by=period' });
    if (query.fill && !groups.includes('period'))
      ctx.addIssue({ code: 'custom', path: ['fill'], message: 'fill needs group_by=period' });
    // Known from the query alone: refused here, before any query runs (fillPeriods checks the rest, with the series
    // found).
    if (
      query.fill &&
      query.occurred_from &&
      query.occurred_to &&
      periodsBetween(query.occurred_from, query.occurred_to, query.interval ?? 'month') > MAX_GROUPS
    )
      ctx.addIssue({ code: 'custom', path: ['fill'], message: FILL_TOO_LONG });
  });
export type EventStatsQuery = z.output<typeof EventStatsQuerySchema>;

/** Sums of one measure: for each bound, the sum and how many contributed to it (null sums where none did). */
export const FigureSumsSchema = z
  .object({
    low: z.number().min(0).nullable(),
    best: z.number().min(0).nullable(),
    high: z.number().min(0).nullable(),
    low_n: z.number().int().min(0),
    best_n: z.number().int().min(0),
    high_n: z.number().int().min(0),
  })
  .meta({
    id: 'FigureSums',
    description:
      'Sums of low, best and high, each with the number of contributions it adds up (a bound nobody gave is not ' +
      'counted as 0)',
    example: { low: 1, best: 7, high: 3, low_n: 1, best_n: 2, high_n: 1 },
  });

export const EventStatsRowSchema = z
  .object({
    period: z.iso.date().optional().describe('First day of the period (weeks start on Monday); with group_by=period'),
    type: z.string().optional().describe('Event-type code; with group_by=type'),
    status: EventStatusSchema.optional(),
    country: CountryCodeSchema.nullable().optional(),
    admin1: z.string().nullable().optional(),
    admin3: z.string().nullable().optional(),
    reporter: ActorSummarySchema.optional().describe(
      'With group_by=reporter: an event counts under each of its reporters',
    ),
    actor: ActorSummarySchema.optional().describe(
      'With group_by=actor: an event counts under each actor taking part (in the roles of `role`)',
    ),
    events: z.number().int().min(0).describe('Matching events in the group'),
    reports: z.number().int().min(0).describe("Their live reports (with group_by=reporter: that reporter's)"),
    figures: z
      .partialRecord(MeasureSchema, FigureSumsSchema)
      .describe(
        "Per measure, the sums of the events' figures (an editor's or derived from the reports); a measure no event " +
          'of the group has is absent',
      ),
  })
  .meta({ id: 'EventStatsRow', description: 'One group: its keys, its counts and its figure sums' });

export const EventStatsSchema = z.object({ data: z.array(EventStatsRowSchema) }).meta({
  id: 'EventStats',
  example: {
    data: [
      {
        period: '2025-01-01',
        type: 'strike',
        events: 2,
        reports: 3,
        figures: { killed: { low: 1, best: 7, high: 3, low_n: 1, best_n: 2, high_n: 1 } },
      },
    ],
  },
});

export const ClaimStatsQuerySchema = z
  .strictObject({
    ...EventFilterFields,
    measure: MeasureSchema.describe('The measure whose claims are compared, such as killed'),
  })
  .superRefine(refineEventFilters);
export type ClaimStatsQuery = z.output<typeof ClaimStatsQuerySchema>;

export const ClaimRowSchema = z
  .object({
    reporter: ActorSummarySchema,
    reporter_role: ReporterRoleSchema,
    stance: StanceSchema,
    events: z.number().int().min(0).describe('Matching events this reporter reported, in this role and stance'),
    reports: z.number().int().min(0).describe('Its live reports on them'),
    figures: FigureSumsSchema.describe("Sums of the reports' own figures of the measure (n: reports giving the bound)"),
  })
  .meta({ id: 'ClaimRow', description: 'What one reporter claims, in one role and stance, over the matching events' });

export const ClaimStatsSchema = z
  .object({
    measure: MeasureSchema,
    data: z.array(ClaimRowSchema),
  })
  .meta({ id: 'ClaimStats', description: "Every reporter's claims side by side, most reports first" });

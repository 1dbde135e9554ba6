// Aggregates for dashboards (docs/data-model.md, Stats): counts and figure sums grouped by any
// keys, and every reporter's claims side by side.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { admit } from '../../http/admission.js';
import { problemResponses } from '../../http/problem-details.js';
import type { ModuleDeps } from '../deps.js';
import { assertKnownTypeFilter } from '../event-types/repository.js';
import { claimStats, eventStats, fillPeriods } from './repository.js';
import {
  ClaimStatsQuerySchema,
  ClaimStatsSchema,
  EventStatsQuerySchema,
  EventStatsSchema,
  GROUP_KEYS,
} from './schemas.js';

/** How the stats are bounded, for both operations' descriptions. */
const EXPENSIVE_TEXT = [
  'Stats are expensive reads: a server runs a limited number at once (EXPENSIVE_MAX_CONCURRENT), and one caller (an ' +
    'API key, or an',
  'address without one) a share of them (EXPENSIVE_MAX_PER_CLIENT). Beyond its share a caller gets 429, beyond the ' +
    'instance 503,',
  'both at once and with Retry-After. Callers without an API key share fewer of them, with their exports ' +
    '(ANONYMOUS_HEAVY_MAX_CONCURRENT):',
  'beyond, 503. A query that runs longer than the server allows answers 503 `/problems/query-timeout`:',
  'narrow the filters (a shorter window, fewer keys).',
].join('\n');

export const statsRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db }) => {
  app.get('/v1/stats/events', {
    schema: {
      operationId: 'eventStats',
      tags: ['stats'],
      summary: 'Count events and sum their figures, grouped',
      description: [
        `Takes every filter of GET /v1/events and groups the matching events by \`group_by\` (any of ${GROUP_KEYS.join(', ')};`,
        'none gives one row for all). An event counts in the period of its occurred start,',
        'whatever its precision: one bucket per event, never spread over the periods its interval spans (an ACLED ' +
          'import',
        "starts the interval on event_date, so these counts agree with ACLED's own by event_date).",
        "Each row holds its keys, `events`, `reports` and, per measure, the sums of the events' figures (an editor's " +
          'or derived from the reports) with how',
        'many events gave each bound (a bound nobody gave is not a 0). Grouped by reporter or actor, an event counts ' +
          'under',
        'each of its reporters or actors. Rows are ordered by their keys; more than 10,000 groups is a 400.',
        '',
        EXPENSIVE_TEXT,
      ].join('\n'),
      querystring: EventStatsQuerySchema,
      response: { 200: EventStatsSchema, ...problemResponses(400, 429, 503) },
    },
    handler: async (request) => {
      const query = request.query;
      await assertKnownTypeFilter(db.prisma, query.type);
      const release = admit(request, db.expensive, 'expensive reads', 2);
      const rows = await eventStats(db.expensive.pool, query).finally(release);
      if (!query.fill) return { data: rows };
      const window = { from: query.occurred_from, to: query.occurred_to };
      return { data: fillPeriods(rows, query.group_by ?? [], query.interval ?? 'month', window) };
    },
  });

  app.get('/v1/stats/claims', {
    schema: {
      operationId: 'claimStats',
      tags: ['stats'],
      summary: 'Compare what each reporter claims',
      description: [
        'For the events matching every filter of GET /v1/events, what each reporter claims of one measure: per ' +
          'reporter,',
        "reporter role and stance, how many events and reports, and the sums of the reports' own low, best and high " +
          'figures',
        'with how many reports gave each. A belligerent and an independent monitor appear side by side, with their ' +
          'numbers.',
        '',
        EXPENSIVE_TEXT,
      ].join('\n'),
      querystring: ClaimStatsQuerySchema,
      response: { 200: ClaimStatsSchema, ...problemResponses(400, 429, 503) },
    },
    handler: async (request) => {
      await assertKnownTypeFilter(db.prisma, request.query.type);
      const release = admit(request, db.expensive, 'expensive reads', 2);
      return {
        measure: request.query.measure,
        data: await claimStats(db.expensive.pool, request.query).finally(release),
      };
    },
  });
};

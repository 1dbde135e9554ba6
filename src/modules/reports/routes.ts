import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, notFound } from '../../http/errors.js';
import { isNotModified } from '../../http/etag.js';
import { CursorParamSchema, IdParamsSchema, LimitSchema, sendJsonPage, sendJsonText } from '../../http/pagination.js';
import { requireIfMatch } from '../../http/preconditions.js';
import { DeleteBodySchema, IfMatchHeadersSchema, MERGE_PATCH_TYPES } from '../../http/write-headers.js';
import { NO_CONTENT, resourceResponse, respondToWrite, sendWrite } from '../../write/run.js';
import type { WriteResponse } from '../../write/run.js';
import type { UnitOfWork } from '../../write/unit.js';
import type { Transaction } from '../../db/client.js';
import { authorOf, canReadDeleted } from '../../http/auth.js';
import { QueryBoolean } from '../../http/query-values.js';
import { problemResponses } from '../../http/problem-details.js';
import { type ModuleDeps } from '../deps.js';
import { ReportFilterFields, StatedAtFilterFields } from './filters.js';
import { getReport, listReports, REPORT_SORTS } from './repository.js';
import { ReportPageSchema, ReportPatchSchema, ReportSchema } from './schemas.js';
import { lockLiveReport, patchReport, readReport, withdrawReport } from './writes.js';

const ReportListQuerySchema = z
  .strictObject({
    ...ReportFilterFields,
    ...StatedAtFilterFields,
    include_deleted: QueryBoolean.optional().describe(
      'true also lists the reports of deleted (and merged) events (editors only); they are left out otherwise',
    ),
    sort: z.enum(REPORT_SORTS).default('-created').describe('-created (newest first, default) or created'),
    limit: LimitSchema,
    cursor: CursorParamSchema,
  })
  .superRefine((query, ctx) => {
    // A date-only stated_to runs to the end of its day (UTC), so it is compared by its last millisecond.
    const end = (to: string) => Date.parse(to) + (to.length === 10 ? 86_400_000 - 1 : 0);
    if (query.stated_from && query.stated_to && Date.parse(query.stated_from) > end(query.stated_to)) {
      ctx.addIssue({ code: 'custom', path: ['stated_to'], message: 'stated_to must not be before stated_from' });
    }
  });

export const reportRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db, publicUrl }) => {
  /**
   * A write to the live report `id` under the request's If-Match (428, 412, 404, 410, or 409 for a deleted
   * event, before `write` runs; `write` gets the report's event), answered by `answer`.
   */
  async function writeLiveReport(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    write: (unit: UnitOfWork, eventId: string) => Promise<unknown>,
    answer: (tx: Transaction) => Promise<WriteResponse> | WriteResponse,
  ) {
    const expected = requireIfMatch(request, 'report');
    const response = await respondToWrite(
      db,
      { author: authorOf(request) },
      async (unit) => write(unit, await lockLiveReport(unit.tx, id, expected)),
      answer,
    );
    return sendWrite(reply, response);
  }

  app.get('/v1/reports', {
    schema: {
      operationId: 'listReports',
      tags: ['reports'],
      summary: 'List reports across events',
      description:
        'Live reports of live events (and of deleted ones too with include_deleted=true, for editors), newest first ' +
        'by default. Filters combine with AND; commas inside one mean OR. `via` matches an actor anywhere in the ' +
        'chain. Keyset pagination as for events.',
      querystring: ReportListQuerySchema,
      response: { 200: ReportPageSchema, ...problemResponses(400) },
    },
    handler: async (request, reply) => {
      const { sort, limit, cursor, include_deleted, ...filters } = request.query;
      const page = await listReports(db.readPool, {
        filters,
        sort,
        cursor,
        limit,
        ofDeletedEvents: include_deleted ?? false,
      });
      return sendJsonPage(request, reply, page, publicUrl);
    },
  });

  app.get('/v1/reports/:id', {
    schema: {
      operationId: 'getReport',
      tags: ['reports'],
      summary: 'Get one report',
      description:
        'The ETag is the version (If-None-Match gives 304). A withdrawn report answers 410 with its tombstone; so ' +
        'does a report of a deleted event, except to editors.',
      params: IdParamsSchema,
      response: { 200: ReportSchema, 304: z.undefined().describe('Not modified'), ...problemResponses(400, 404, 410) },
    },
    handler: async (request, reply) => {
      const report = await getReport(db.pool, request.params.id);
      if (!report) throw notFound('report', request.params.id);
      if (report.deleted_at) {
        throw new ApiError('gone', `The report ${request.params.id} was withdrawn.`, {
          extra: { deleted_at: report.deleted_at, deleted_by: report.deleted_by, reason: report.delete_reason },
        });
      }
      // A deleted event's reports are its tombstone's contents: editors only.
      if (report.event_deleted_at && !canReadDeleted(request)) {
        throw new ApiError(
          'gone',
          `The report ${request.params.id} belongs to the event ${report.event_id}, which was deleted.`,
          {
            extra: { event_id: report.event_id, deleted_at: report.event_deleted_at },
          },
        );
      }
      if (isNotModified(request, reply, report.version)) return reply.code(304).send();
      return sendJsonText(reply, report.json);
    },
  });

  app.patch('/v1/reports/:id', {
    schema: {
      operationId: 'patchReport',
      tags: ['reports'],
      summary: 'Edit a report (JSON merge patch)',
      description:
        "A JSON merge patch (RFC 7396) of the report; needs the report's If-Match (428 without, 412 when stale). " +
        "The report's event gets a new version too, and its status is derived again from the evidence.",
      params: IdParamsSchema,
      consumes: MERGE_PATCH_TYPES,
      headers: IfMatchHeadersSchema,
      body: ReportPatchSchema,
      response: { 200: ReportSchema, ...problemResponses(400, 404, 409, 410, 412, 415, 428) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      return writeLiveReport(
        request,
        reply,
        id,
        (unit, eventId) => patchReport(unit, id, eventId, request.body),
        async (tx) => resourceResponse(200, await readReport(tx, id)),
      );
    },
  });

  app.delete('/v1/reports/:id', {
    schema: {
      operationId: 'deleteReport',
      tags: ['reports'],
      summary: 'Withdraw a report (soft)',
      description:
        "Withdraws the report with an optional reason; it is kept, answers 410, and leaves its event's JSON. Needs " +
        'If-Match. The last live report of a live event cannot be withdrawn (422): an event needs at least one.',
      params: IdParamsSchema,
      headers: IfMatchHeadersSchema,
      body: DeleteBodySchema,
      response: {
        204: z.undefined().describe('Withdrawn'),
        ...problemResponses(400, 404, 409, 410, 412, 415, 422, 428),
      },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      return writeLiveReport(
        request,
        reply,
        id,
        (unit, eventId) => withdrawReport(unit, id, eventId, request.body?.reason ?? null),
        () => NO_CONTENT,
      );
    },
  });
};

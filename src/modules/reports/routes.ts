import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, notFound } from '../../http/errors.js';
import { etagOf, isNotModified } from '../../http/etag.js';
import { CursorParamSchema, IdParamsSchema, LimitSchema, sendJsonPage } from '../../http/pagination.js';
import { problemResponses } from '../../http/problem-details.js';
import { ANONYMOUS, type ModuleDeps } from '../deps.js';
import { ReportFilterFields, StatedAtFilterFields } from './filters.js';
import { addReport, getReport, listReports, REPORT_SORTS } from './repository.js';
import { ReportInputSchema, ReportPageSchema, ReportSchema } from './schemas.js';

const EventReportsQuerySchema = z.strictObject({ limit: LimitSchema, cursor: CursorParamSchema });

const ReportListQuerySchema = z
  .strictObject({
    ...ReportFilterFields,
    ...StatedAtFilterFields,
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
  app.get('/v1/reports', {
    schema: {
      operationId: 'listReports',
      tags: ['reports'],
      summary: 'List reports across events',
      description:
        'Live reports of live and deleted events alike, newest first by default. Filters combine with AND; commas inside one mean OR. ' +
        '`via` matches an actor anywhere in the chain. Keyset pagination as for events.',
      querystring: ReportListQuerySchema,
      response: { 200: ReportPageSchema, ...problemResponses(400) },
    },
    handler: async (request, reply) => {
      const { sort, limit, cursor, ...filters } = request.query;
      return sendJsonPage(request, reply, await listReports(db.pool, { filters, sort, cursor, limit }), publicUrl);
    },
  });

  app.get('/v1/events/:id/reports', {
    schema: {
      operationId: 'listEventReports',
      tags: ['reports'],
      summary: "List an event's reports",
      description: 'The live reports of one event, oldest first.',
      params: IdParamsSchema,
      querystring: EventReportsQuerySchema,
      response: { 200: ReportPageSchema, ...problemResponses(400, 404) },
    },
    handler: async (request, reply) => {
      const event = await db.prisma.event.findUnique({ where: { id: request.params.id }, select: { id: true } });
      if (!event) throw notFound('event', request.params.id);
      const page = await listReports(db.pool, { filters: {}, eventId: request.params.id, sort: 'created', ...request.query });
      return sendJsonPage(request, reply, page, publicUrl);
    },
  });

  app.post('/v1/events/:id/reports', {
    schema: {
      operationId: 'createEventReport',
      tags: ['reports'],
      summary: 'Add a report to an event',
      description:
        'A new attribution of an existing event: another reporter, or the same one in another document. ' +
        "Actors and documents are given by id, or by name/URL to find or create them. The event's version grows by one.",
      params: IdParamsSchema,
      body: ReportInputSchema,
      response: { 201: ReportSchema, ...problemResponses(400, 404, 410, 415) },
    },
    handler: async (request, reply) => {
      const result = await addReport(db.prisma, request.params.id, request.body, ANONYMOUS);
      if (result === 'missing') throw notFound('event', request.params.id);
      if (result === 'deleted') throw new ApiError('gone', `The event ${request.params.id} has been deleted.`);
      const report = await getReport(db.pool, result);
      if (!report) throw notFound('report', result);
      reply.header('location', `/v1/reports/${result}`).header('etag', etagOf(report.version));
      return reply.code(201).send(JSON.parse(report.json));
    },
  });

  app.get('/v1/reports/:id', {
    schema: {
      operationId: 'getReport',
      tags: ['reports'],
      summary: 'Get one report',
      params: IdParamsSchema,
      response: { 200: ReportSchema, 304: z.undefined().describe('Not modified'), ...problemResponses(400, 404) },
    },
    handler: async (request, reply) => {
      const report = await getReport(db.pool, request.params.id);
      if (!report) throw notFound('report', request.params.id);
      if (isNotModified(request, reply, report.version)) return reply.code(304).send();
      return JSON.parse(report.json);
    },
  });
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, notFound } from '../../http/errors.js';
import { isNotModified } from '../../http/etag.js';
import { IdParamsSchema, pageReply } from '../../http/pagination.js';
import { problemResponses } from '../../http/problem-details.js';
import { ANONYMOUS, type ModuleDeps } from '../deps.js';
import { EventReportsQuerySchema } from '../events/schemas.js';
import { addReport, getReport, listEventReports, toReport } from './repository.js';
import { ReportInputSchema, ReportPageSchema, ReportSchema } from './schemas.js';

export const reportRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db, publicUrl }) => {
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
      return pageReply(request, reply, await listEventReports(db.prisma, request.params.id, request.query), toReport, publicUrl);
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
      reply.header('location', `/v1/reports/${result.id}`);
      return reply.code(201).send(toReport(result));
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
      const report = await getReport(db.prisma, request.params.id);
      if (!report) throw notFound('report', request.params.id);
      if (isNotModified(request, reply, report.version)) return reply.code(304).send();
      return toReport(report);
    },
  });
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, notFound } from '../../http/errors.js';
import { etagOf, isNotModified } from '../../http/etag.js';
import { IdParamsSchema, pageReply } from '../../http/pagination.js';
import { problemResponses } from '../../http/problem-details.js';
import { ANONYMOUS, type ModuleDeps } from '../deps.js';
import { createEvent, getEvent, listEvents, toEvent } from './repository.js';
import { EventInputSchema, EventListQuerySchema, EventPageSchema, EventSchema } from './schemas.js';

export const eventRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db, publicUrl }) => {
  app.get('/v1/events', {
    schema: {
      operationId: 'listEvents',
      tags: ['events'],
      summary: 'List events',
      description:
        'Events with their reports, newest occurrence first by default. Filters combine with AND; commas inside one mean OR. ' +
        'Keyset pagination: pass `next_cursor` back as `cursor` (also given in the Link header); a cursor stays valid while data changes.',
      querystring: EventListQuerySchema,
      response: { 200: EventPageSchema, ...problemResponses(400) },
    },
    handler: async (request, reply) => {
      return pageReply(request, reply, await listEvents(db.prisma, request.query), toEvent, publicUrl);
    },
  });

  app.post('/v1/events', {
    schema: {
      operationId: 'createEvent',
      tags: ['events'],
      summary: 'Create an event with its reports',
      description:
        'Creates an event with at least one report (422 otherwise), its participants, figures, tags and relations, in one transaction. ' +
        'Actors are found by kind and normalised name or created; documents are found by URL or created. ' +
        'A figure may give `value` with a qualifier instead of low/best/high. An unknown event type is a 400 listing the known codes.',
      body: EventInputSchema,
      response: { 201: EventSchema, ...problemResponses(400, 415, 422) },
    },
    handler: async (request, reply) => {
      const id = await createEvent(db.prisma, request.body, ANONYMOUS);
      const event = await getEvent(db.prisma, id);
      if (!event) throw notFound('event', id);
      reply.header('location', `/v1/events/${id}`).header('etag', etagOf(event.version));
      return reply.code(201).send(toEvent(event));
    },
  });

  app.get('/v1/events/:id', {
    schema: {
      operationId: 'getEvent',
      tags: ['events'],
      summary: 'Get one event with its reports',
      description: 'The ETag is the version; send it in If-None-Match to get 304 when unchanged. A deleted event answers 410.',
      params: IdParamsSchema,
      response: { 200: EventSchema, 304: z.undefined().describe('Not modified'), ...problemResponses(400, 404, 410) },
    },
    handler: async (request, reply) => {
      const event = await getEvent(db.prisma, request.params.id);
      if (!event) throw notFound('event', request.params.id);
      if (event.deletedAt) {
        throw new ApiError('gone', `The event ${event.id} was deleted.`, {
          extra: {
            deleted_at: event.deletedAt.toISOString(),
            deleted_by: event.deletedBy,
            reason: event.deleteReason,
            merged_into: event.mergedIntoId,
          },
        });
      }
      if (isNotModified(request, reply, event.version)) return reply.code(304).send();
      return toEvent(event);
    },
  });
};

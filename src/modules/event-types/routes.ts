import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError } from '../../http/errors.js';
import { problemResponses } from '../../http/problem-details.js';
import type { ModuleDeps } from '../deps.js';
import { createEventType, listEventTypes, toEventType } from './repository.js';
import { EventTypeCreateSchema, EventTypeListSchema, EventTypeSchema } from './schemas.js';

export const eventTypeRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db }) => {
  app.get('/v1/event-types', {
    schema: {
      operationId: 'listEventTypes',
      tags: ['event types'],
      summary: 'List the event-type vocabulary',
      description:
        'Every event-type code with its label, description and, where one corresponds, its ACLED event and sub-event ' +
        'type.',
      response: { 200: EventTypeListSchema, ...problemResponses() },
    },
    handler: async () => ({ data: (await listEventTypes(db.prisma)).map(toEventType) }),
  });
  app.post('/v1/event-types', {
    config: { access: 'admin' },
    schema: {
      operationId: 'createEventType',
      tags: ['event types'],
      summary: 'Add an event type (admins)',
      description:
        'Extends the vocabulary with a new code; 409 when the code exists. Codes are never removed, so old events ' +
        'stay valid.',
      body: EventTypeCreateSchema,
      response: { 201: EventTypeSchema, ...problemResponses(400, 409, 415) },
    },
    handler: async (request, reply) => {
      const row = await createEventType(db.prisma, request.body);
      if (!row) throw new ApiError('conflict', `The event type "${request.body.code}" exists already.`);
      return reply.code(201).header('location', '/v1/event-types').send(toEventType(row));
    },
  });
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemResponses } from '../../http/problem-details.js';
import type { ModuleDeps } from '../deps.js';
import { listEventTypes, toEventType } from './repository.js';
import { EventTypeListSchema } from './schemas.js';

export const eventTypeRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db }) => {
  app.get('/v1/event-types', {
    schema: {
      operationId: 'listEventTypes',
      tags: ['event types'],
      summary: 'List the event-type vocabulary',
      description: 'Every event-type code with its label, description and, where one corresponds, its ACLED event and sub-event type.',
      response: { 200: EventTypeListSchema, ...problemResponses() },
    },
    handler: async () => ({ data: (await listEventTypes(db.prisma)).map(toEventType) }),
  });
};

// Liveness and readiness for orchestrators and load balancers.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { databaseAnswers } from '../../db/client.js';
import type { ModuleDeps } from '../deps.js';

const HealthSchema = z.object({ status: z.enum(['ok', 'unavailable']) }).meta({ id: 'Health' });

/** How long readiness waits for the database before calling it unavailable. */
const READY_TIMEOUT_MS = 1_500;

export const healthRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db }) => {
  app.get('/healthz', {
    schema: {
      operationId: 'getLiveness',
      tags: ['operations'],
      summary: 'Liveness: the process answers',
      description:
        'Answers 200 while the process serves requests, without touching the database: a failing liveness probe ' +
        'means restart it.',
      response: { 200: HealthSchema },
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/readyz', {
    schema: {
      operationId: 'getReadiness',
      tags: ['operations'],
      summary: 'Readiness: the database is reachable',
      description:
        '200 when the database answers within 1.5 seconds; 503 with Retry-After otherwise, so a load balancer sends ' +
        'this instance no traffic until the database is back.',
      response: { 200: HealthSchema, 503: HealthSchema.describe('The database is unreachable') },
    },
    handler: async (_request, reply) => {
      if (await databaseAnswers(db.pool, READY_TIMEOUT_MS)) return { status: 'ok' as const };
      return reply
        .code(503)
        .header('retry-after', '2')
        .send({ status: 'unavailable' as const });
    },
  });
};

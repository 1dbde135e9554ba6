// GET /: where to go from the service's root, for someone who opens it in a browser or with curl.
// Public and not rate limited, as the health checks are (neither applies outside /v1/).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OPENAPI_INFO } from '../../openapi/info.js';
import type { ModuleDeps } from '../deps.js';

const IndexSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    links: z.object({
      docs: z.url().describe('The API reference for people'),
      openapi: z.url().describe('The OpenAPI 3.1 document'),
      events: z.url().describe('The events, newest occurrence first'),
      health: z.url().describe('Liveness'),
      ready: z.url().describe('Readiness (the database answers)'),
    }),
  })
  .meta({ id: 'Index' });

export const indexRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { publicUrl }) => {
  app.get('/', {
    schema: {
      operationId: 'getIndex',
      tags: ['operations'],
      summary: 'Where to start',
      description:
        'Links to the API reference, the OpenAPI document, the events and the health checks, for someone who opens the ' +
        "service's address. Public, with no rate limit.",
      response: { 200: IndexSchema },
    },
    handler: async (request) => {
      const base = (publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
      return {
        name: OPENAPI_INFO.info.title,
        version: OPENAPI_INFO.info.version,
        links: {
          docs: `${base}/docs`,
          openapi: `${base}/openapi.json`,
          events: `${base}/v1/events`,
          health: `${base}/healthz`,
          ready: `${base}/readyz`,
        },
      };
    },
  });
};

// GET /: where to go from the service's root, for someone who opens it in a browser or with curl.
// Public and not rate limited, as the health checks are (neither applies outside /v1/).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem-details.js';
import { publicOrigin } from '../../http/proxies.js';
import { OPENAPI_INFO } from '../../openapi/info.js';
import type { ModuleDeps } from '../deps.js';

/** Absolute on PUBLIC_URL or the request's origin; relative (from /) when the Host sent is not one a link may carry. */
const link = (description: string) =>
  z.string().describe(`${description}: a URL, or a path from the root when the request's host is not usable`);

const IndexSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    links: z.object({
      docs: link('The API reference for people'),
      openapi: link('The OpenAPI 3.1 document'),
      events: link('The events, newest occurrence first'),
      health: link('Liveness'),
      ready: link('Readiness (the database answers)'),
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
        'Links to the API reference, the OpenAPI document, the events and the health checks, for someone who opens ' +
        "the service's address. Public, with no rate limit.",
      response: { 200: IndexSchema, ...problemResponses(400, 408, 414, 431) },
    },
    handler: async (request) => {
      const base = (publicOrigin(request, publicUrl) ?? '').replace(/\/+$/, '');
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

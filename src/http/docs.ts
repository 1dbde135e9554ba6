// GET /docs: the API reference, rendered by Swagger UI in the browser from the document
// /openapi.json serves (the UI fetches /docs/json, which answers the same app.swagger()).
// Every asset comes from this service (@fastify/swagger-ui ships them): readers may be
// offline or behind a firewall that blocks CDNs.
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { OPENAPI_INFO } from '../openapi/info.js';

export const DOCS_PREFIX = '/docs';

/**
 * The API's own policy (`default-src 'none'`, src/http/hardening.ts) would block the page's
 * scripts, styles and its fetch of the document. The docs page alone may load them, from
 * this origin only; data: images are the icons inlined in Swagger UI's stylesheet. Nothing
 * inline may run, nothing may go to another origin, and framing stays refused.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export async function installDocs(app: FastifyInstance): Promise<void> {
  // Its own scope, so the relaxed policy and the route settings below stay on /docs.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      // Public whatever READ_ACCESS says (the document is public too), and never in the document itself.
      route.config = { ...route.config, access: 'public' };
      route.schema = { ...route.schema, hide: true };
    });
    // Runs after the app-wide onSend hook that set the API's policy, and replaces it.
    docs.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', DOCS_CSP);
    });
    await docs.register(fastifySwaggerUi, {
      routePrefix: DOCS_PREFIX,
      theme: { title: OPENAPI_INFO.info.title },
      // BaseLayout leaves out the top bar, whose box loads any other URL: this page documents this API.
      uiConfig: { layout: 'BaseLayout', deepLinking: true, docExpansion: 'list' },
    });
  });
}

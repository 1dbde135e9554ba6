// Request ids and the one log line per request. An incoming X-Request-Id (from a proxy
// or a client tracing a call) is kept when it looks like an id; otherwise one is made.
// Either way it is returned in X-Request-Id and carried by every log line of the request.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

const REQUEST_ID = /^[\w.:@-]{1,128}$/;

/** Fastify's genReqId: the caller's X-Request-Id when it is a plausible id, a UUID otherwise. */
export function requestId(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Echoes the id and logs each request once, when its response is sent (Fastify's own two lines are turned off). */
export function installRequestLog(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    const line = {
      method: request.method,
      // The path and query as sent; the Authorization header is never logged.
      url: request.url,
      route: request.routeOptions.url ?? null,
      status,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      principal: request.principal?.name ?? null,
    };
    // A 5xx with Retry-After is a refusal the server chose (no slot, under pressure, a query
    // timeout): a warning, so that a crowd of refused callers does not read as an outage.
    if (status >= 500 && !reply.hasHeader('retry-after')) request.log.error(line, 'request');
    else if (status >= 500) request.log.warn(line, 'request');
    else request.log.info(line, 'request');
  });
}

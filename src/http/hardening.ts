// What a service on an open network owes its callers and itself: security headers on
// every answer, CORS for the dashboards configured to call it, and a bound on URL length.
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

/** Longer URLs are refused (414) before any parsing: no filter needs more. */
export const MAX_URL_LENGTH = 4096;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // The API serves data, never pages: nothing it answers may run or be framed.
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
};

/** Headers a browser script may send, and the answer's headers it may read. */
const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'if-match',
  'if-none-match',
  'idempotency-key',
  'x-request-id',
  'last-event-id',
];
const EXPOSED_HEADERS = [
  'etag',
  'link',
  'location',
  'retry-after',
  'x-request-id',
  'idempotent-replayed',
  'ratelimit',
  'ratelimit-policy',
];

export async function installHardening(app: FastifyInstance, options: { corsOrigins: string[] }): Promise<void> {
  app.addHook('onRequest', async (request) => {
    if (request.url.length > MAX_URL_LENGTH) {
      throw new ApiError('uri-too-long', `The URL is longer than ${MAX_URL_LENGTH} characters; narrow the query.`);
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    // Only over HTTPS (as the proxy in front reports it): browsers ignore it on plain HTTP anyway.
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: options.corsOrigins.includes('*') ? '*' : options.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    });
  }
}

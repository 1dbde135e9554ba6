// How JSON answers end and look: every one ends with a newline (so `curl` leaves the prompt on a
// line of its own), and `?pretty=true` on any route indents it for reading. Handled here once for
// every route rather than in each query schema: `pretty` is taken out of the query before the
// routes' strict schemas see it, and the OpenAPI document declares it on every operation
// (src/openapi/tidy.ts). The fast paths that send stored JSON text end it with a newline
// themselves (src/http/pagination.ts), so the compact answer is never copied again here.
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** `?pretty=true`: indent the JSON answer. */
    prettyJson: boolean;
  }
}

export const PRETTY_PARAMETER = 'pretty';
export const PRETTY_DESCRIPTION =
  'true indents the JSON answer (two spaces) for reading; false (the default) sends it compact. Accepted by every ' +
  'operation.';

/** application/json, application/problem+json, application/geo+json...; not NDJSON, whose lines are the records. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;
const NEWLINE = 0x0a;

export function installJsonOutput(app: FastifyInstance): void {
  app.decorateRequest('prettyJson', false);

  app.addHook('onRequest', async (request) => {
    const query = request.query as Record<string, unknown> | undefined;
    if (!query || !Object.hasOwn(query, PRETTY_PARAMETER)) return;
    const value = query[PRETTY_PARAMETER];
    delete query[PRETTY_PARAMETER];
    if (value !== 'true' && value !== 'false') {
      throw new ApiError('invalid-input', 'The request has invalid values; see errors.', {
        errors: [{ in: 'query', path: `/${PRETTY_PARAMETER}`, message: 'must be true or false, given once' }],
      });
    }
    request.prettyJson = value === 'true';
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload; // streams, and no body at all
    if (payload.length === 0 || !JSON_TYPE.test(String(reply.getHeader('content-type') ?? ''))) return payload;
    if (request.prettyJson) {
      // Only when asked: parse what was sent (stored text included) and indent it.
      try {
        return `${JSON.stringify(JSON.parse(payload.toString()), null, 2)}\n`;
      } catch {
        return payload;
      }
    }
    if (typeof payload === 'string') return payload.endsWith('\n') ? payload : `${payload}\n`;
    return payload[payload.length - 1] === NEWLINE ? payload : Buffer.concat([payload, Buffer.from('\n')]);
  });
}

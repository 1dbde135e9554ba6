// A request must arrive whole within the request timeout (slow-loris), except on routes that
// stream their body (config.streamedBody: POST /v1/imports), which cut an upload only when it
// goes idle (their own timer). Node's own requestTimeout is server-wide, with no exception per
// route, and checked only every 30 s; so it is off (app.ts) and this hook keeps the same promise.
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads its body as a stream and applies its own idle timeout instead of the request timeout. */
    streamedBody?: boolean;
  }
}

export function installRequestTimeout(app: FastifyInstance, ms: number): void {
  if (ms <= 0) return;
  app.addHook('onRequest', (request, reply, done) => {
    const raw = request.raw;
    if (raw.complete || request.routeOptions.config?.streamedBody) return done();
    const timer = setTimeout(() => {
      if (raw.complete || raw.destroyed || reply.sent) return;
      // As Node does on its own request timeout: the client error handler answers 408 and closes the socket.
      const error = Object.assign(new Error('the request was not received within the request timeout'), {
        code: 'ERR_HTTP_REQUEST_TIMEOUT',
      });
      app.server.emit('clientError', error, raw.socket);
    }, ms);
    const clear = () => clearTimeout(timer);
    raw.once('end', clear);
    raw.once('close', clear);
    reply.raw.once('finish', clear);
    done();
  });
}

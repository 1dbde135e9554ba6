// Admission control over HTTP: the slots of src/db/admission.ts taken per caller, the guard that
// drops an export whose client reads too slowly, and @fastify/under-pressure for the process
// itself (event-loop delay, heap, RSS). Each refusal is a problem with Retry-After, answered at once.
import { Transform } from 'node:stream';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Slots } from '../db/admission.js';
import { ApiError } from './errors.js';

/** Who a slot is counted against: the API key, or the address of a caller without one. */
export function clientOf(request: FastifyRequest): string {
  return request.principal ? `key:${request.principal.name}` : `ip:${request.ip}`;
}

/**
 * Takes a slot of `slots` for the caller, or refuses at once: 429 when the caller holds its
 * share, 503 when the instance runs as many as it may. Returns the function that gives it back.
 */
export function admit(request: FastifyRequest, slots: Slots, what: string, retryAfter: number): () => void {
  const taken = slots.take(clientOf(request), !request.principal);
  if (typeof taken === 'function') return taken;
  const headers = { 'retry-after': String(retryAfter) };
  const caller = request.principal ? 'API key' : 'address';
  if (taken === 'anonymous')
    throw new ApiError(
      'service-unavailable',
      `Callers without an API key run as many expensive reads and exports at once as this server allows them (${slots.anonymous.max}); retry shortly, or call with an API key.`,
      { headers },
    );
  if (taken === 'client')
    throw new ApiError(
      'rate-limited',
      `This ${caller} already runs ${slots.perClient} ${what} at once, as many as one caller may; retry when one ends.`,
      { headers },
    );
  throw new ApiError(
    'service-unavailable',
    `This server runs as many ${what} at once as it may (${slots.max}); retry shortly.`,
    {
      headers,
    },
  );
}

export interface SlowClientLimits {
  /** The least a client must take, in bytes a second over a window, while its socket is full. */
  minBytesPerSecond: number;
  windowMs: number;
  /** The most an export streams to a caller without an API key, in bytes a second; 0 or unset: no cap. */
  anonymousBytesPerSecond?: number;
}

/**
 * A pass-through that lets `bytesPerSecond` through on average: a token bucket holding a second's
 * worth, a chunk beyond it held back until the bucket has refilled. Holding a chunk back holds
 * the pipeline: the database's COPY waits on its socket, so a capped export costs the server and
 * PostgreSQL a trickle of CPU instead of a core. (stream-throttle and throttle, the packages that
 * do this, are unmaintained since 2014 and 2016.)
 */
export function throttle(bytesPerSecond: number): Transform {
  let tokens = bytesPerSecond;
  let last = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const now = performance.now();
      tokens = Math.min(bytesPerSecond, tokens + ((now - last) * bytesPerSecond) / 1000) - chunk.length;
      last = now;
      if (tokens >= 0) return done(null, chunk);
      timer = setTimeout(() => done(null, chunk), (-tokens * 1000) / bytesPerSecond);
    },
  });
  stream.once('close', () => clearTimeout(timer));
  return stream;
}

/**
 * A pass-through for the end of an export's pipeline that drops the response when, over a whole
 * window, its client took less than the minimum while the response waited for it to drain (the
 * socket's buffers full: the client, not the database, is the bottleneck). Destroying the
 * response ends the pipeline, which frees the export's slot and closes its connection mid-COPY.
 */
export function slowClientGuard(request: FastifyRequest, reply: FastifyReply, limits: SlowClientLimits): Transform {
  let sent = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      done(null, chunk);
    },
  });
  if (limits.minBytesPerSecond === 0) return meter;
  const least = (limits.minBytesPerSecond * limits.windowMs) / 1000;
  const timer = setInterval(() => {
    const took = sent;
    sent = 0;
    if (took >= least || !reply.raw.writableNeedDrain) return;
    request.log.warn({ bytes: took, windowMs: limits.windowMs }, 'export client reads too slowly: dropped');
    reply.raw.destroy();
  }, limits.windowMs);
  timer.unref();
  meter.once('close', () => clearInterval(timer));
  reply.raw.once('close', () => clearInterval(timer));
  return meter;
}

export interface PressureLimits {
  maxEventLoopDelayMs: number;
  maxHeapBytes: number;
  maxRssBytes: number;
}

/**
 * 503 with Retry-After for /v1 requests while the process is under pressure. Health checks,
 * metrics and the documentation are exempt, so a load balancer still sees the instance up
 * (its /readyz says whether the database answers) and an operator can still read /metrics.
 */
export async function installPressure(app: FastifyInstance, limits: PressureLimits): Promise<void> {
  await app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.maxHeapBytes,
    maxRssBytes: limits.maxRssBytes,
    pressureHandler: async (request, _reply, type) => {
      if (!request.url.startsWith('/v1/')) return;
      request.log.warn({ pressure: type }, 'under pressure: request refused');
      throw new ApiError('service-unavailable', 'This server is overloaded; retry shortly.', {
        headers: { 'retry-after': '5' },
      });
    },
  });
}

// The fuzz harness: a raw HTTP client (keep-alive, bytes sent exactly as generated),
// the checks every response must pass, the counts, and the failures collected per
// test so one run shows every kind of failure instead of stopping at the first.
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/client.js';
import type { RateLimits } from '../../src/http/rate-limit.js';
import { Contract, mediaTypeOf, type Operation } from './contract.js';

/**
 * The app the fuzz runs against: behind a trusted proxy on loopback (so the X-Forwarded-* headers it
 * sends are read) and with the rate limiter on, at limits the fuzz never reaches, so every
 * forwarded address becomes a rate-limit key.
 */
export const FUZZ_APP: { trustProxy: string[]; rateLimits: RateLimits } = {
  trustProxy: ['loopback'],
  rateLimits: { perKey: 1_000_000, perAnonymousIp: 1_000_000 },
};

/** The fixed seed of every property; FUZZ_SEED overrides it to explore. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20_250_112);

export type Caller = 'anonymous' | 'reader' | 'editor' | 'admin';

export interface FuzzRequest {
  method: string;
  /** Path, already percent-encoded as it goes on the wire. */
  path: string;
  /** Raw query string (without "?"), already encoded as it goes on the wire. */
  query?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whose key goes in Authorization (unless headers set one); editor by default. */
  as?: Caller;
}

export interface FuzzResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

interface Failure {
  count: number;
  examples: string[];
}

const clip = (text: string, max = 400) =>
  text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;

/** The last error each URL raised in the app (for the cause of a 5xx); filled by `captureErrors`. */
const serverErrors = new Map<string, string>();

/** Passed as startTestApp's `extend`: remembers the error behind each failing request, to name the cause of a 5xx. */
export function captureErrors(app: FastifyInstance): void {
  app.addHook('onError', async (request, _reply, error) => {
    const cause = (error as { meta?: unknown }).meta;
    serverErrors.set(
      request.url,
      `${error.name}: ${error.message}${cause ? ` ${JSON.stringify(cause)}` : ''}`.replace(/\s+/g, ' ').slice(0, 600),
    );
    if (serverErrors.size > 1000) serverErrors.clear();
  });
}

/** Header values as Node's client accepts them (no control characters except tab). */
export const headerSafe = (value: string) => value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

export class Harness {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  readonly byClass: Record<string, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 };
  readonly byOperation = new Map<string, Map<number, number>>();
  /** 4xx statuses an operation answered that its document does not declare (each also a failure). */
  readonly undeclared = new Map<string, number>();
  /** Why requests were refused (with FUZZ_VERBOSE), to see what the generators hit. */
  readonly reasons = new Map<string, number>();
  /** Time spent waiting for responses, by operation. */
  readonly milliseconds = new Map<string, number>();
  private failures = new Map<string, Failure>();
  requests = 0;

  constructor(
    readonly name: string,
    readonly contract: Contract,
    private readonly port: number,
    readonly keys: Record<Exclude<Caller, 'anonymous'>, string>,
  ) {}

  /** Sends one request and returns the response (status 0 when none came). */
  async send(request: FuzzRequest): Promise<FuzzResponse> {
    const response = await this.sendOnce(request, true);
    // A kept-alive socket the server closed as the request went out: the request never arrived (Node's advice: retry).
    return response.status === -2 ? this.sendOnce(request, false) : response;
  }

  private sendOnce(request: FuzzRequest, reuse: boolean): Promise<FuzzResponse> {
    const headers: Record<string, string> = {};
    const as = request.as ?? 'editor';
    if (as !== 'anonymous') headers.authorization = `Bearer ${this.keys[as]}`;
    for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = headerSafe(value);
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    const path = request.query !== undefined ? `${request.path}?${request.query}` : request.path;
    if (reuse) this.requests++;
    return new Promise((resolve) => {
      let settled = false;
      const done = (response: FuzzResponse) => {
        if (!settled) resolve(response);
        settled = true;
      };
      try {
        const outgoing = http.request(
          // A request too large for Node's parser gets its answer on a socket the server then closes: send it on its own.
          {
            host: '127.0.0.1',
            port: this.port,
            method: request.method,
            path,
            headers,
            agent: path.length > 8_000 || !reuse ? false : this.agent,
            timeout: 60_000,
          },
          (incoming) => {
            // An event stream (GET /v1/changes/stream) never ends: its first chunk (the retry hint) is the answer.
            if (/^text\/event-stream/.test(incoming.headers['content-type'] ?? '')) {
              const answer = (text: string) =>
                done({ status: incoming.statusCode ?? 0, headers: incoming.headers, text });
              incoming.once('data', (chunk: Buffer) => {
                answer(chunk.toString('utf8'));
                outgoing.destroy();
              });
              incoming.once('end', () => answer('')); // HEAD
              return;
            }
            const chunks: Buffer[] = [];
            incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
            incoming.on('end', () =>
              done({
                status: incoming.statusCode ?? 0,
                headers: incoming.headers,
                text: Buffer.concat(chunks).toString('utf8'),
              }),
            );
            incoming.on('error', (error) => done({ status: 0, headers: {}, text: String(error) }));
          },
        );
        outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')));
        outgoing.on('error', (error: NodeJS.ErrnoException) => {
          const stale =
            reuse && outgoing.reusedSocket && (error.code === 'ECONNRESET' || error.message === 'socket hang up');
          done({ status: stale ? -2 : 0, headers: {}, text: String(error) });
        });
        outgoing.end(request.body);
      } catch (error) {
        // The request could not even be written (a generator produced what Node refuses to send).
        if (reuse) this.requests--;
        done({ status: -1, headers: {}, text: String(error) });
      }
    });
  }

  /** Sends a request for `operation` (undefined for paths and methods outside the contract) and checks its response. */
  async exchange(operation: Operation | undefined, request: FuzzRequest): Promise<FuzzResponse> {
    const started = performance.now();
    const response = await this.send(request);
    const label = operation?.operationId ?? 'outside';
    this.milliseconds.set(label, (this.milliseconds.get(label) ?? 0) + performance.now() - started);
    if (response.status === -1) throw new Error(`a generator produced an unsendable request: ${response.text}`);
    this.check(operation, request, response);
    return response;
  }

  /** The checks of the issue, recorded as failures rather than thrown. */
  check(operation: Operation | undefined, request: FuzzRequest, response: FuzzResponse): void {
    const label = operation?.operationId ?? `${request.method} (outside the contract)`;
    const status = response.status;
    const statusClass = status === 0 ? 'none' : `${Math.floor(status / 100)}xx`;
    this.byClass[statusClass] = (this.byClass[statusClass] ?? 0) + 1;
    const counts = this.byOperation.get(label) ?? new Map<number, number>();
    counts.set(status, (counts.get(status) ?? 0) + 1);
    this.byOperation.set(label, counts);

    const fail = (what: string) => this.fail(`${label} -> ${status || 'no response'}: ${what}`, request, response);
    if (status === 0) return fail(`no response (${response.text})`);
    // Refusals of load (a caller's share or the instance's slots, a query timeout, pressure): a problem
    // with Retry-After, checked as one below, where the operation declares the status; a failure elsewhere.
    const shed = status === 429 || status === 503;
    if (shed && operation?.responses[String(status)]) {
      if (!response.headers['retry-after']) return fail(`${status} without Retry-After`);
    } else if (status === 429 && operation) {
      return fail(`429 is not declared by ${operation.operationId}`);
    } else if (status >= 500) {
      const url = request.query !== undefined ? `${request.path}?${request.query}` : request.path;
      const cause = serverErrors.get(url);
      return this.fail(`${label} -> ${status}: server error`, request, {
        ...response,
        text: `${response.text}${cause ? `\ncause: ${cause}` : ''}`,
      });
    }
    const mediaType = mediaTypeOf(response.headers['content-type']);
    const hasBody = request.method !== 'HEAD';
    // Whatever Host or X-Forwarded-* a client sends, a Link is one well-formed URI reference.
    const link = response.headers.link;
    if (link !== undefined && !(typeof link === 'string' && /^<[^<>"\s]+>; rel="next"$/.test(link)))
      return fail(`malformed Link header ${String(link)}`);
    // Reads of deleted data need the editor role (docs/data-model.md, Deleted data).
    if (
      status < 400 &&
      /(^|&)include_deleted=true(&|$)/.test(request.query ?? '') &&
      !['editor', 'admin'].includes(request.as ?? 'editor')
    )
      return fail(`include_deleted=true answered ${status} to ${request.as ?? 'editor'}`);

    if (status >= 400) {
      if (mediaType !== 'application/problem+json')
        return fail(`4xx with Content-Type ${response.headers['content-type'] ?? '(none)'}`);
      // A generated client knows only the statuses the document declares: any other is a failure.
      if (operation && !operation.responses[String(status)]) {
        this.undeclared.set(`${label} ${status}`, (this.undeclared.get(`${label} ${status}`) ?? 0) + 1);
        fail(`status ${status} is not declared by ${operation.operationId}`);
      }
      if (!hasBody) return;
      let problem: Record<string, unknown>;
      try {
        problem = JSON.parse(response.text) as Record<string, unknown>;
      } catch {
        return fail('problem+json body is not JSON');
      }
      for (const field of ['type', 'title', 'detail', 'instance']) {
        if (typeof problem[field] !== 'string' || problem[field] === '')
          return fail(`problem field ${field} is missing or empty`);
      }
      if (problem.status !== status)
        return fail(`problem status ${String(problem.status)} differs from the HTTP status`);
      if (process.env.FUZZ_VERBOSE) {
        const first = (problem.errors as { path?: string; message?: string }[] | undefined)?.[0];
        const reason = `${label} ${status} ${first ? `${first.path} ${first.message}` : String(problem.detail)}`.slice(
          0,
          160,
        );
        this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
      }
      const validate = this.contract.componentValidator('Problem');
      if (!validate(problem))
        return fail(`problem does not match the Problem schema: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
      return;
    }

    // 1xx never reaches here; 2xx and 3xx must be declared by the operation, with their media type and schema.
    if (!operation)
      return request.path === '/openapi.json' && status === 200
        ? undefined
        : fail('a path outside the contract answered');
    const declared = this.contract.declared(operation, status);
    if (!declared) return fail(`status ${status} is not declared by ${operation.operationId}`);
    if (Object.keys(declared).length === 0) {
      if (hasBody && response.text !== '') return fail(`a ${status} declared without a body has one`);
      return;
    }
    if (!hasBody) return;
    if (!(mediaType in declared))
      return fail(`Content-Type ${response.headers['content-type'] ?? '(none)'} is not declared`);
    let body: unknown;
    if (mediaType === 'text/csv') return; // The contract says only "a string".
    // The first chunk of an event stream (send() reads no more): the reconnection hint, then comments or events.
    if (mediaType === 'text/event-stream')
      return /^retry: \d+\n/.test(response.text) ? undefined : fail('event stream without its retry hint');
    // With a sparse fieldset (fields=), the events carry the members selected and no other: checked against the document
    // with Event cut to them.
    const fields = operation.parameters.some((parameter) => parameter.name === 'fields')
      ? new URLSearchParams(request.query ?? '')
          .getAll('fields')
          .flatMap((value) => value.split(',').map((path) => path.trim()))
      : [];
    const documentId = fields.length > 0 ? this.contract.withFields(fields) : undefined;
    if (mediaType === 'application/x-ndjson') {
      // The contract says "one Event JSON object per line": each line is checked as an Event.
      const validate = this.contract.componentValidator('Event', documentId);
      const lines = response.text.split('\n').filter((line) => line !== '');
      for (const [index, line] of lines.entries()) {
        try {
          body = JSON.parse(line);
        } catch {
          return fail(`NDJSON line ${index + 1} is not JSON`);
        }
        if (!validate(body))
          return fail(`NDJSON line ${index + 1} is not an Event: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
      }
      return;
    }
    try {
      body = JSON.parse(response.text);
    } catch {
      return fail(`${mediaType} body is not JSON`);
    }
    const problems = this.contract.validate(operation, status, mediaType, body, documentId);
    if (problems.length > 0) return fail(`body does not match the declared schema: ${problems.join('; ')}`);
  }

  /** Records a failure under its signature, keeping a few examples. */
  fail(signature: string, request: FuzzRequest, response: FuzzResponse): void {
    const failure = this.failures.get(signature) ?? { count: 0, examples: [] };
    failure.count++;
    if (failure.examples.length < 3) failure.examples.push(describe(request, response));
    this.failures.set(signature, failure);
  }

  /** Throws, listing every kind of failure seen since the last call, with examples and the seed. */
  assertClean(scope: string): void {
    const failures = [...this.failures.entries()];
    this.failures = new Map();
    if (failures.length === 0) return;
    const total = failures.reduce((sum, [, f]) => sum + f.count, 0);
    const text = failures
      .map(
        ([signature, f]) =>
          `\n- ${signature} (x${f.count})\n${f.examples.map((e) => `    ${e.replaceAll('\n', '\n    ')}`).join('\n')}`,
      )
      .join('\n');
    throw new Error(
      `${scope}: ${total} failing response(s) of ${failures.length} kind(s) (fast-check seed ${SEED}):${text}`,
    );
  }

  summary(): string {
    const classes = Object.entries(this.byClass)
      .filter(([, n]) => n > 0)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    const slowest = [...this.milliseconds.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([label, ms]) => `${label} ${(ms / 1000).toFixed(1)}s`)
      .join(', ');
    return `[fuzz ${this.name}] ${this.requests} requests (${classes}), seed ${SEED}; most time in ${slowest}`;
  }

  /** Statuses by operation, one line each (printed with FUZZ_VERBOSE=1). */
  details(): string {
    return [...this.byOperation.entries()]
      .map(
        ([label, counts]) =>
          `  ${label}: ${[...counts.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([status, n]) => `${status}x${n}`)
            .join(' ')}`,
      )
      .join('\n')
      .concat(
        '\n',
        [...this.reasons.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 40)
          .map(([reason, n]) => `  ${n} x ${reason}`)
          .join('\n'),
      );
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A request and its response, short enough to read in a failure message. */
export function describe(request: FuzzRequest, response: FuzzResponse): string {
  const url = request.query !== undefined ? `${request.path}?${request.query}` : request.path;
  const headers = Object.entries(request.headers ?? {})
    .map(([name, value]) => `${name}: ${clip(value, 120)}`)
    .join('; ');
  const body = request.body === undefined ? '' : `\nbody: ${clip(request.body.toString(), 1500)}`;
  return (
    `${request.method} ${clip(url, 300)} as ${request.as ?? 'editor'}${headers ? ` [${headers}]` : ''}${body}\n` +
    `-> ${response.status} ${response.headers['content-type'] ?? ''} ${clip(response.text, 1200)}`
  );
}

/**
 * A cheap fingerprint of every table the API writes: counts, version sums, latest
 * updates, the last revision (the change feed) and the idempotency records. A rejected
 * write must leave it as it was.
 */
export async function fingerprint(db: Database): Promise<string> {
  const versioned = (table: string) =>
    `(SELECT json_build_array(count(*), coalesce(sum(version), 0), max(updated_at), count(deleted_at)) FROM ${table})`;
  const counted = (table: string) => `(SELECT count(*) FROM ${table})`;
  const result = await db.pool.query<{ f: string }>(
    `SELECT json_build_object(
       'events', ${versioned('events')}, 'reports', ${versioned('reports')},
       'actors', (SELECT json_build_array(count(*), coalesce(sum(version), 0), max(updated_at)) FROM actors),
       'documents', (SELECT json_build_array(count(*), coalesce(sum(version), 0), max(updated_at)) FROM documents),
       'report_via', ${counted('report_via')}, 'figures', ${counted('figures')}, 'participants', ${counted('participants')},
       'event_relations', ${counted('event_relations')}, 'event_types', ${counted('event_types')},
       'revisions', (SELECT json_build_array(count(*), max(id)) FROM revisions),
       'idempotency_keys', (SELECT json_build_array(count(*), coalesce(sum(status), 0)) FROM idempotency_keys),
       'api_keys', (SELECT json_build_array(count(*), count(revoked_at)) FROM api_keys)
     )::text AS f`,
  );
  return result.rows[0]!.f;
}

/** The number of revisions (rows of the change feed). */
export async function revisionCount(db: Database): Promise<number> {
  const result = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM revisions');
  return result.rows[0]!.n;
}

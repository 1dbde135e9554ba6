// One error handler for the whole API: every failure leaves as RFC 9457
// problem+json, and a 500 never carries a stack trace or SQL.
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import FindMyWay from 'find-my-way';
import { z } from 'zod';
import { driverErrorKind, isQueryCanceled, sqlState } from '../db/errors.js';
import { ApiError, PROBLEMS, problemType, type ProblemKind, type Violation } from './errors.js';

export const ViolationSchema = z
  .object({
    path: z.string().describe('JSON pointer to the offending value within the part named by `in`'),
    message: z.string(),
    in: z.enum(['body', 'query', 'path', 'header']).optional(),
  })
  .meta({ id: 'Violation' });

export const ProblemSchema = z
  .object({
    type: z.string().describe('Stable URI reference naming the kind of problem, such as /problems/invalid-input'),
    title: z.string(),
    status: z.number().int().min(100).max(599),
    detail: z.string(),
    instance: z.string().describe('The request path that failed'),
    errors: z.array(ViolationSchema).optional(),
  })
  .catchall(z.unknown())
  .meta({
    id: 'Problem',
    description: 'An RFC 9457 problem detail. Validation failures list each violation in `errors`.',
  });

export type Problem = z.infer<typeof ProblemSchema>;

/** Messages that mark a validation issue as a domain rule (422) rather than malformed input (400). */
const RULE_MESSAGES = new Set<string>();
export function ruleMessage(message: string): string {
  RULE_MESSAGES.add(message);
  return message;
}

const PART: Record<string, Violation['in']> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

interface ZodIssueLike {
  code?: string;
  path?: PropertyKey[];
  message?: string;
  keys?: string[];
  errors?: ZodIssueLike[][];
}

/**
 * Violations for one zod issue at `base`. An unknown key is named in the pointer;
 * a union that matched no branch reports the branch that came closest (fewest
 * issues), so `{ "name": "x" }` as an actor reference says that `kind` is missing
 * rather than "Invalid input".
 */
function violationsOf(issue: ZodIssueLike, base: string, part: Violation['in']): Violation[] {
  const at = base + (issue.path ?? []).map((segment) => `/${escapePointer(String(segment))}`).join('');
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    const what = part === 'query' ? 'query parameter' : 'field';
    return issue.keys.map((key) => ({
      path: `${at}/${escapePointer(key)}`,
      message: `unknown ${what} "${key}"`,
      in: part,
    }));
  }
  if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
    const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
    if (closest.length > 0) return closest.flatMap((inner) => violationsOf(inner, at, part));
  }
  // A query value is one string however it is parsed (a list, a bbox): name the parameter itself.
  const path = part === 'query' ? (/^\/[^/]*/.exec(at)?.[0] ?? at) : at;
  return [{ path, message: issue.message ?? 'invalid value', in: part }];
}

/**
 * Violations for zod issues, located as the API's 400s locate them (under `base`, a JSON
 * pointer), for input validated outside a route, such as the lines of a bulk import.
 */
export function zodViolations(issues: readonly ZodIssueLike[], part: Violation['in'], base = ''): Violation[] {
  return issues.flatMap((issue) =>
    violationsOf({ ...issue, path: [] }, base + (issue.path ?? []).map((s) => `/${String(s)}`).join(''), part),
  );
}

function fromValidation(
  error: FastifyError & {
    validation: { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }[];
  },
  part: Violation['in'],
) {
  return error.validation.flatMap((issue) =>
    violationsOf(
      { ...issue.params, code: issue.keyword, message: issue.message ?? 'invalid value', path: [] },
      issue.instancePath === '/' ? '' : issue.instancePath,
      part,
    ),
  );
}

/**
 * A query parameter that is not one of an enum's values (sort=, format=, measure=...) is named
 * with the value sent, as the comma lists do (src/http/query-values.ts): zod's issue lists the
 * known values but not the one it refused, which the raw query string still has.
 */
function namingQueryValues(
  violations: Violation[],
  error: FastifyError & { validation: { instancePath: string; keyword: string; params: Record<string, unknown> }[] },
  query: unknown,
): Violation[] {
  const raw = (query ?? {}) as Record<string, unknown>;
  const enums = new Map<string, unknown[]>();
  for (const issue of error.validation) {
    const values = issue.params.values;
    if (issue.keyword === 'invalid_value' && Array.isArray(values) && /^\/[^/]+$/.test(issue.instancePath))
      enums.set(issue.instancePath, values);
  }
  return violations.map((violation) => {
    const values = enums.get(violation.path);
    const sent = raw[violation.path.slice(1)];
    if (!values || typeof sent !== 'string') return violation;
    return { ...violation, message: `unknown value "${sent}"; known values: ${values.map(String).join(', ')}` };
  });
}

function send(
  reply: FastifyReply,
  request: FastifyRequest,
  kind: ProblemKind,
  detail: string,
  more: {
    errors?: Violation[];
    headers?: Record<string, string>;
    extra?: Record<string, unknown>;
    status?: number;
  } = {},
) {
  const status = more.status ?? PROBLEMS[kind].status;
  const body: Problem = {
    type: problemType(kind),
    title: PROBLEMS[kind].title,
    status,
    detail,
    instance: request.url.split('?')[0] ?? request.url,
    ...more.extra,
    ...(more.errors && more.errors.length > 0 ? { errors: more.errors } : {}),
  };
  for (const [name, value] of Object.entries(more.headers ?? {})) reply.header(name, value);
  // The schema-driven serialiser is bypassed: an error must never fail to serialise.
  return reply.code(status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

/**
 * PostgreSQL data exceptions that only a value sent by the client can cause: a date or time out of
 * range (a year before 1), a number out of range (a coordinate too small to represent), text
 * the encoding cannot hold. The statement failed, so its transaction wrote nothing. Other data
 * exceptions (a bad cast in our own SQL) stay 500s: they are bugs.
 */
const CLIENT_VALUE_ERRORS = new Set(['22003', '22007', '22008', '22021', '22P05']);

function isDataException(error: unknown): boolean {
  const code = sqlState(error);
  return typeof code === 'string' && CLIENT_VALUE_ERRORS.has(code);
}

/**
 * The client went away before the answer: its request stream was cut (a body half sent) or its
 * socket closed. Node reports the first as ECONNRESET "aborted", which must not read as the
 * database's connection being reset: nobody is left to answer, and nothing is wrong with the service.
 */
function isClientGone(error: unknown, request: FastifyRequest): boolean {
  const raw = request.raw;
  const gone = (raw.destroyed && !raw.complete) || raw.socket?.destroyed === true;
  const code = (error as { code?: unknown }).code;
  // Not a pg socket's "read ECONNRESET": that one is the database's connection.
  return (
    gone && ((code === 'ECONNRESET' && (error as Error).message === 'aborted') || code === 'ERR_STREAM_PREMATURE_CLOSE')
  );
}

/**
 * PostgreSQL and pool failures that mean "the database is unavailable", not "the request is wrong".
 * P2028 is Prisma's "unable to start a transaction in the given time": writers queued past maxWait
 * under overload, for which a retry later is the right answer too.
 */
function isDatabaseUnavailable(error: unknown): boolean {
  // Prisma reports a failed raw query as P2010 whatever the cause; the driver adapter's error kind says why.
  const code = (error as { code?: unknown }).code;
  const text = `${typeof code === 'string' ? code : ''} ${(error as Error).message ?? ''} ${driverErrorKind(error)}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|timeout exceeded when trying to connect|Connection terminated|57P0[123]|P1001|P1017|P2028|DatabaseNotReachable|ConnectionClosed|the database system is (starting up|shutting down)/i.test(
    text,
  );
}

export function installProblemDetails(app: FastifyInstance): void {
  // Answers any API route may give before its handler runs, declared on each for generated clients.
  app.addHook('onRoute', (route) => {
    if (!route.schema || !route.url.startsWith('/v1/')) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const readsOnly = methods.every((method) => method === 'GET' || method === 'HEAD');
    // 408 and 431: Node's parser (clientErrorHandler); 429: the rate limiter runs before every /v1 route;
    // 503: each touches the database (finishDocument adds their headers).
    const any = [408, 414, 429, 431, 503];
    const common = readsOnly ? problemResponses(...any) : problemResponses(413, 415, ...any);
    route.schema.response = { ...common, ...(route.schema.response as object | undefined) };
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ApiError) {
      return send(reply, request, error.kind, error.detail, error.options);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const part = PART[(error as { validationContext?: string }).validationContext ?? 'body'] ?? 'body';
      const errors =
        part === 'query'
          ? namingQueryValues(fromValidation(error, part), error, request.query)
          : fromValidation(error, part);
      if (errors.every((violation) => RULE_MESSAGES.has(violation.message))) {
        return send(reply, request, 'rule-violation', errors.map((v) => v.message).join('; '), { errors });
      }
      const where =
        part === 'query' ? 'query string' : part === 'path' ? 'path' : part === 'header' ? 'headers' : 'body';
      return send(
        reply,
        request,
        'invalid-input',
        `The request ${where} has ${errors.length} invalid value(s); see errors.`,
        { errors },
      );
    }
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(
          reply,
          request,
          'unsupported-media-type',
          `Content-Type ${request.headers['content-type'] ?? '(none)'} is not supported here; send application/json.`,
        );
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(reply, request, 'payload-too-large', 'The request body is larger than this server accepts.');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(reply, request, 'malformed-request', 'The body is empty but Content-Type says JSON.');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return send(reply, request, 'malformed-request', `The body is not valid JSON: ${error.message}`);
    }
    if (error instanceof SyntaxError && error.statusCode === 400) {
      return send(reply, request, 'malformed-request', `The body is not valid JSON: ${error.message}`);
    }
    if (isClientGone(error, request)) {
      // Answered for the record (the request log's line): the client is not there to read it.
      request.log.info({ err: error }, 'client closed the connection before the answer');
      return send(
        reply,
        request,
        'malformed-request',
        'The client closed the connection before the request was whole.',
      );
    }
    if (isQueryCanceled(error)) {
      request.log.warn({ err: error }, 'query timeout');
      return send(
        reply,
        request,
        'query-timeout',
        'The query ran longer than this server allows and was cancelled. Narrow the filters (a shorter occurred ' +
          'window, ' +
          'fewer group_by keys, a more specific q), or ask for pages with limit instead of everything at once.',
        { headers: { 'retry-after': '5' } },
      );
    }
    if (isDataException(error)) {
      return send(
        reply,
        request,
        'invalid-input',
        'A value in the request is outside what can be stored (such as a year before 1 or a number too small to ' +
          'represent).',
      );
    }
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, 'database unavailable');
      return send(reply, request, 'service-unavailable', 'The database is unavailable; retry shortly.', {
        headers: { 'retry-after': '2' },
      });
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      // Other client errors raised by Fastify itself (bad Content-Length, and the like).
      return send(reply, request, 'malformed-request', error.message, { status: error.statusCode });
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, request, 'internal-error', 'An unexpected error occurred; it has been logged.');
  });

  // Unknown paths are 404; a known path with a method it does not serve is 405 with Allow.
  const known = FindMyWay({ ignoreTrailingSlash: false });
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const url = route.url;
    let set = methodsByPath.get(url);
    if (!set) {
      set = new Set();
      methodsByPath.set(url, set);
      known.on('GET', url, () => {}, { url });
    }
    for (const method of methods) set.add(method);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const match = known.find('GET', path);
    const url = (match?.store as { url?: string } | undefined)?.url;
    const allowed = url ? methodsByPath.get(url) : undefined;
    // A route that serves this method and still found nothing (a missing file under a wildcard) is a 404.
    if (allowed && !allowed.has(request.method)) {
      const allow = [...allowed].sort().join(', ');
      return send(
        reply,
        request,
        'method-not-allowed',
        `${request.method} is not allowed on ${path}; allowed: ${allow}.`,
        {
          headers: { allow },
        },
      );
    }
    return send(reply, request, 'not-found', `No resource at ${path}.`);
  });
}

/**
 * Declares problem+json responses for an operation's error statuses, for the OpenAPI
 * document, plus a `default` for what any operation may answer: a 500.
 */
export function problemResponses(...statuses: number[]) {
  const problem = { 'application/problem+json': { schema: ProblemSchema } };
  const declared: Record<number | 'default', { description: string; content: typeof problem }> = {
    default: { description: 'Internal server error (500)', content: problem },
  };
  for (const status of statuses) {
    const titles = Object.values(PROBLEMS)
      .filter((p) => p.status === status)
      .map((p) => p.title);
    // The Retry-After of a 429 or 503 is declared by src/openapi/tidy.ts (declareRetryHeaders).
    declared[status] = { description: titles.join(' or ') || 'Error', content: problem };
  }
  return declared;
}

/** Fastify's own routing errors (a bad percent-encoding in the path, an over-long path parameter), as problems. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
    return send(reply, request, 'uri-too-long', 'A path segment is too long.');
  if (error.code === 'FST_ERR_BAD_URL')
    return send(reply, request, 'malformed-request', 'The path is not valid percent-encoded UTF-8.');
  request.log.error({ err: error }, 'framework error');
  return send(reply, request, 'internal-error', 'An unexpected error occurred; it has been logged.');
}

/** No request body of this API nests deeper; a deeper one is refused before validation walks it. */
const MAX_DEPTH = 32;

/**
 * Whether text has no unpaired surrogate (String.prototype.isWellFormed, Node 20; TypeScript's ES2023 lib lacks it).
 */
const isWellFormed = (text: string) => (text as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Text the database cannot store faithfully: a NUL character, or an unpaired UTF-16 surrogate
 * (which JSON allows but UTF-8 cannot encode). Every string of the query, the path and the
 * body is checked before validation; each one found is a 400 naming where it is.
 */
export function rejectUnstorableText(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    // A streamed body (a bulk import) is checked line by line as it is read.
    const body = request.body instanceof Readable ? undefined : request.body;
    const found = unstorableText([
      [request.query, 'query'],
      [request.params, 'path'],
      [body, 'body'],
    ]);
    if (found.length > 0)
      throw new ApiError('invalid-input', 'The request holds text that cannot be stored; see errors.', {
        errors: found,
      });
  });
}

/** Where the values hold text that cannot be stored, or nest too deep: up to 20 violations, [] when none. */
export function unstorableText(roots: [value: unknown, part: Violation['in']][]): Violation[] {
  const found: Violation[] = [];
  // Iterative, with a depth bound: a body nested thousands deep must not exhaust the stack.
  const pending = roots.map(([value, part]): [value: unknown, path: string, part: Violation['in'], depth: number] => [
    value,
    '',
    part,
    0,
  ]);
  while (pending.length > 0 && found.length < 20) {
    const [value, path, part, depth] = pending.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000') || !isWellFormed(value)) {
        found.push({ path, in: part, message: 'must not contain NUL characters or unpaired surrogates' });
      }
    } else if (value && typeof value === 'object') {
      if (depth >= MAX_DEPTH) {
        found.push({ path, in: part, message: `nested more than ${MAX_DEPTH} levels deep` });
        continue;
      }
      for (const [key, item] of Object.entries(value)) {
        const at = `${path}/${escapePointer(key)}`;
        if (key.includes('\u0000') || !isWellFormed(key))
          found.push({ path: at, in: part, message: 'names must not contain NUL characters' });
        pending.push([item, at, part, depth + 1]);
      }
    }
  }
  return found;
}

/** A raw answer for requests Node's HTTP parser refuses before Fastify sees them (headers over 16 KB, garbage). */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const kind: ProblemKind =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'headers-too-large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request-timeout'
        : 'malformed-request';
  const { status, title } = PROBLEMS[kind];
  // The request line, as far as it was read: its method decides whether a body may follow, its path is the instance.
  const line = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.subarray(0, 2048).toString('latin1') : '';
  const instance = /^[A-Z]+ (\/[^ ?#]{0,200})/.exec(line)?.[1] ?? '/';
  const detail =
    kind === 'headers-too-large'
      ? 'The request line and headers are larger than 16 KB.'
      : 'The request could not be read as HTTP.';
  const body = JSON.stringify({ type: problemType(kind), title, status, detail, instance });
  // A HEAD request gets no body (a client would read it as the next response).
  const head = line.startsWith('HEAD ');
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${head ? '' : body}`,
  );
}

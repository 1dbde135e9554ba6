// fastify-type-provider-zod emits every registered schema twice, as `X` (response
// side) and `XInput` (request side). Where both sides have the same JSON Schema
// the two are one component, and components no operation reaches are noise for
// generated clients. This folds the twins into `X` and drops unreachable components.
import { isDeepStrictEqual } from 'node:util';
import { COMMA_LIST_MARK } from '../http/query-values.js';
import { PRETTY_DESCRIPTION, PRETTY_PARAMETER } from '../http/json-output.js';

type Json = unknown;
type Schemas = Record<string, Json>;

const PREFIX = '#/components/schemas/';

function rewriteRefs(value: Json, rename: (name: string) => string): Json {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, rename));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) =>
        key === '$ref' && typeof inner === 'string' && inner.startsWith(PREFIX)
          ? [key, PREFIX + rename(inner.slice(PREFIX.length))]
          : [key, rewriteRefs(inner, rename)],
      ),
    );
  }
  return value;
}

function collectRefs(value: Json, into: Set<string>): void {
  if (Array.isArray(value)) for (const item of value) collectRefs(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string' && inner.startsWith(PREFIX)) into.add(inner.slice(PREFIX.length));
      else collectRefs(inner, into);
    }
  }
}

export function tidyComponents<T extends { paths?: Json; components?: { schemas?: Schemas } }>(document: T): T {
  const schemas = document.components?.schemas;
  if (!schemas) return document;

  // Twins whose request-side form equals the response-side form once their own twins are folded.
  const twins = new Set(Object.keys(schemas).filter((name) => !name.endsWith('Input') && `${name}Input` in schemas));
  const fold = (name: string) => (name.endsWith('Input') && twins.has(name.slice(0, -5)) ? name.slice(0, -5) : name);
  let changed = true;
  while (changed) {
    changed = false;
    for (const name of twins) {
      if (!isDeepStrictEqual(rewriteRefs(schemas[`${name}Input`], fold), schemas[name])) {
        twins.delete(name);
        changed = true;
      }
    }
  }
  const folded = rewriteRefs({ paths: document.paths, schemas }, fold) as { paths: Json; schemas: Schemas };
  for (const name of twins) delete folded.schemas[`${name}Input`];

  // Keep what the paths reach, directly or through other components.
  const reachable = new Set<string>();
  const pending: string[] = [];
  const visit = (value: Json) => {
    const found = new Set<string>();
    collectRefs(value, found);
    for (const name of found) {
      if (reachable.has(name)) continue;
      reachable.add(name);
      pending.push(name);
    }
  };
  visit(folded.paths);
  while (pending.length > 0) visit(folded.schemas[pending.pop()!]);
  const kept = Object.fromEntries(
    Object.entries(folded.schemas)
      .filter(([name]) => reachable.has(name))
      .sort(([a], [b]) => a.localeCompare(b)),
  );

  return { ...document, paths: folded.paths, components: { ...document.components, schemas: kept } };
}

type Operation = { requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> } };

/**
 * @fastify/swagger marks every request body required, since Fastify validates one; a body
 * whose schema admits null (a DELETE's optional reason) may in fact be left out.
 */
export function markOptionalBodies<T extends { paths?: Json; components?: { schemas?: Schemas } }>(document: T): T {
  const schemas = document.components?.schemas ?? {};
  const resolve = (schema: Json): Json => {
    const ref = (schema as { $ref?: string } | undefined)?.$ref;
    return ref?.startsWith(PREFIX) ? schemas[ref.slice(PREFIX.length)] : schema;
  };
  const admitsNull = (schema: Json) =>
    ((resolve(schema) as { anyOf?: { type?: string }[] })?.anyOf ?? []).some((s) => s.type === 'null');
  for (const operations of Object.values((document.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const operation of Object.values(operations)) {
      const body = operation.requestBody;
      if (body && Object.values(body.content ?? {}).every((media) => admitsNull(media.schema))) body.required = false;
    }
  }
  return document;
}

/**
 * installAuth (src/http/auth.ts) gives every route that needs or accepts a key its security
 * requirement; an operation left without one is public, which the document says with `security: []`.
 */
export function markPublicOperations<T extends { paths?: Json }>(document: T): T {
  for (const pathItem of Object.values(
    (document.paths ?? {}) as Record<string, Record<string, { security?: unknown[] }>>,
  )) {
    for (const [method, operation] of Object.entries(pathItem)) if (HTTP_METHODS.has(method)) operation.security ??= [];
  }
  return document;
}

/**
 * fastify-type-provider-zod drops the headers of responses; a 202 (an import going on as a job)
 * always names the job to poll in its Location, which the document declares.
 */
export function declareAcceptedLocations<T extends { paths?: Json }>(document: T): T {
  for (const pathItem of Object.values(
    (document.paths ?? {}) as Record<string, Record<string, { responses?: Record<string, Json> }>>,
  )) {
    for (const operation of Object.values(pathItem)) {
      const accepted = operation.responses?.['202'] as { headers?: Record<string, Json> } | undefined;
      if (!accepted) continue;
      accepted.headers = {
        ...accepted.headers,
        Location: {
          description: 'The job to poll for progress and the result',
          required: true,
          schema: { type: 'string' },
        },
      };
    }
  }
  return document;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/**
 * The headers of 429 and 503 answers (src/http/rate-limit.ts, problem-details.ts, the health routes), described once.
 */
const RETRY_HEADERS = {
  RetryAfter: {
    description: 'Seconds to wait before retrying',
    schema: { type: 'integer', minimum: 0 },
  },
  RateLimit: {
    description:
      'Where the caller stands in its window: `limit=N, remaining=N, reset=SECONDS` (IETF ' +
      'draft-ietf-httpapi-ratelimit-headers)',
    schema: { type: 'string' },
  },
  RateLimitPolicy: {
    description: 'The limit that applies: `N;w=60`, N requests a 60-second window',
    schema: { type: 'string' },
  },
};

const HEADER_REF = (name: keyof typeof RETRY_HEADERS) => ({ $ref: `#/components/headers/${name}` });

/**
 * Fastify's route schemas carry no response headers: a 429 says Retry-After and the RateLimit
 * headers, and a 503 Retry-After, added here to every such response of the document.
 */
export function declareRetryHeaders<T extends { paths?: Json; components?: object }>(document: T): T {
  for (const pathItem of Object.values(
    (document.paths ?? {}) as Record<string, Record<string, { responses?: Record<string, { headers?: object }> }>>,
  )) {
    for (const [method, operation] of Object.entries(pathItem)) {
      if (!HTTP_METHODS.has(method)) continue;
      const responses = operation.responses ?? {};
      if (responses['429'])
        responses['429'].headers = {
          'Retry-After': HEADER_REF('RetryAfter'),
          RateLimit: HEADER_REF('RateLimit'),
          'RateLimit-Policy': HEADER_REF('RateLimitPolicy'),
        };
      if (responses['503']) responses['503'].headers = { 'Retry-After': HEADER_REF('RetryAfter') };
    }
  }
  return { ...document, components: { ...document.components, headers: RETRY_HEADERS } };
}

type Parameter = {
  in: string;
  name: string;
  required?: boolean;
  style?: string;
  explode?: boolean;
  schema?: Record<string, Json>;
};
type ParameterOperation = { parameters?: Parameter[]; responses?: Record<string, unknown> };

/**
 * Query lists marked by commaList (src/http/query-values.ts) are arrays sent comma-separated:
 * style form, explode false (`status=reported,confirmed`). If-Match is required where a
 * missing one is a 428: the validator leaves it optional so that the handler answers 428
 * (src/http/preconditions.ts) rather than the validator a 400, but a client must send it.
 */
export function typeParameters<T extends { paths?: Json }>(document: T): T {
  for (const pathItem of Object.values((document.paths ?? {}) as Record<string, Record<string, ParameterOperation>>)) {
    for (const [method, operation] of Object.entries(pathItem)) {
      if (!HTTP_METHODS.has(method)) continue;
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.[COMMA_LIST_MARK]) {
          delete parameter.schema[COMMA_LIST_MARK];
          parameter.style = 'form';
          parameter.explode = false;
          // Swagger UI (/docs) has no input for an array of format uuid and warns; the items keep their pattern.
          const items = parameter.schema.items as Record<string, Json> | undefined;
          if (items?.format === 'uuid' && items.pattern) delete items.format;
        }
        if (parameter.in === 'header' && parameter.name === 'if-match' && operation.responses?.['428'])
          parameter.required = true;
      }
    }
  }
  return document;
}

/**
 * `?pretty=` is taken out of every request's query before its route sees it (src/http/json-output.ts);
 * the document declares it once, as a shared parameter every operation refers to.
 */
export function declarePrettyParameter<T extends { paths?: Json; components?: object }>(document: T): T {
  for (const pathItem of Object.values(
    (document.paths ?? {}) as Record<string, Record<string, { parameters?: unknown[] }>>,
  )) {
    for (const [method, operation] of Object.entries(pathItem)) {
      if (HTTP_METHODS.has(method))
        operation.parameters = [...(operation.parameters ?? []), { $ref: '#/components/parameters/pretty' }];
    }
  }
  const pretty = {
    name: PRETTY_PARAMETER,
    in: 'query',
    required: false,
    description: PRETTY_DESCRIPTION,
    schema: { type: 'boolean', default: false },
  };
  const components = (document.components ?? {}) as { parameters?: Record<string, unknown> };
  return { ...document, components: { ...components, parameters: { ...components.parameters, pretty } } };
}

type Document = Parameters<typeof tidyComponents>[0];

/** Every finishing step, in order, over what fastify-type-provider-zod made of the routes. */
export function finishDocument<T extends Document>(document: T): T {
  return declarePrettyParameter(
    declareAcceptedLocations(
      declareRetryHeaders(typeParameters(markPublicOperations(markOptionalBodies(tidyComponents(document))))),
    ),
  );
}

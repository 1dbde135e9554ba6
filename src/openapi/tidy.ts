// fastify-type-provider-zod emits every registered schema twice, as `X` (response
// side) and `XInput` (request side). Where both sides have the same JSON Schema
// the two are one component, and components no operation reaches are noise for
// generated clients. This folds the twins into `X` and drops unreachable components.
import { isDeepStrictEqual } from 'node:util';

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
    for (const name of found) if (!reachable.has(name)) (reachable.add(name), pending.push(name));
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
  const admitsNull = (schema: Json) => ((resolve(schema) as { anyOf?: { type?: string }[] })?.anyOf ?? []).some((s) => s.type === 'null');
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
  for (const pathItem of Object.values((document.paths ?? {}) as Record<string, Record<string, { security?: unknown[] }>>)) {
    for (const [method, operation] of Object.entries(pathItem)) if (HTTP_METHODS.has(method)) operation.security ??= [];
  }
  return document;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** The statuses whose answers always carry Retry-After: rate limits, slots and load shedding (src/http/admission.ts). */
const RETRY_STATUSES = ['429', '503'];

/**
 * Declares the Retry-After header of every 429 and 503 answer. problemResponses cannot say it
 * itself: fastify-type-provider-zod rebuilds each response from its description and content alone.
 */
export function declareRetryAfter<T extends { paths?: Json }>(document: T): T {
  type Response = { headers?: Record<string, unknown> };
  for (const pathItem of Object.values(
    (document.paths ?? {}) as Record<string, Record<string, { responses?: Record<string, Response> }>>,
  )) {
    for (const [method, operation] of Object.entries(pathItem)) {
      if (!HTTP_METHODS.has(method)) continue;
      for (const status of RETRY_STATUSES) {
        const response = operation.responses?.[status];
        if (response)
          response.headers = {
            ...response.headers,
            'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } },
          };
      }
    }
  }
  return document;
}

type Document = Parameters<typeof tidyComponents>[0];

/** Every finishing step, in order, over what fastify-type-provider-zod made of the routes. */
export function finishDocument<T extends Document>(document: T): T {
  return declareRetryAfter(markPublicOperations(markOptionalBodies(tidyComponents(document))));
}

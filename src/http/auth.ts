// Who is calling, and may they? `Authorization: Bearer <key>` names an API key; each
// route needs an access level: public (health, the OpenAPI document), read (GET under
// /v1; open to anyone when READ_ACCESS=public), edit (writes), admin (keys). A route
// says its level in `config.access`; without one, GET is read and anything else edit.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../generated/prisma/client.js';
import { ApiError } from './errors.js';
import { problemResponses } from './problem-details.js';

export type Access = 'public' | 'read' | 'edit' | 'admin';
export type ReadAccess = 'public' | 'key';

/** The caller: an API key's name and role. Anonymous callers have none. */
export interface Principal {
  name: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

/** What each role may do, in order: a role may do everything the ones before it may. */
export const ROLE_RANK: Record<Role, number> = { reader: 1, editor: 2, admin: 3 };

const NEEDED_ROLE: Record<Exclude<Access, 'public'>, Role> = { read: 'reader', edit: 'editor', admin: 'admin' };

/** The name a write records as its author. Writes always have a principal: edit access needs a key. */
export function authorOf(request: FastifyRequest): string {
  if (!request.principal) throw new Error('a write ran without an authenticated principal');
  return request.principal.name;
}

/**
 * Whether the caller may read deleted data: include_deleted=true, a deleted event's revisions, reports and past states.
 */
export function canReadDeleted(request: FastifyRequest): boolean {
  return request.principal !== null && ROLE_RANK[request.principal.role] >= ROLE_RANK.editor;
}

/**
 * Reads of deleted data need the editor role (docs/data-model.md, Deleted data): a 403 naming `what` for anyone else.
 */
export function requireDeletedAccess(request: FastifyRequest, what: string): void {
  if (canReadDeleted(request)) return;
  const who = request.principal
    ? `The API key "${request.principal.name}" is a ${request.principal.role} key`
    : 'No API key was sent';
  throw new ApiError('forbidden', `${who}; ${what} needs an API key with the editor role.`);
}

function accessOf(method: string | string[], url: string, configured: Access | undefined): Access {
  if (configured) return configured;
  if (!url.startsWith('/v1/')) return 'public';
  const methods = Array.isArray(method) ? method : [method];
  return methods.every((m) => m === 'GET' || m === 'HEAD') ? 'read' : 'edit';
}

const challenge = { 'www-authenticate': 'Bearer realm="conflict-events"' };

/**
 * Installs authentication and authorisation. Must run before @fastify/swagger is registered:
 * the onRoute hook adds each route's security requirement and 401/403 answers to its schema.
 */
export function installAuth(
  app: FastifyInstance,
  // findKey: the live API key a bearer token names (the keys module's, given by app.ts: http/ imports no module).
  options: { findKey: (key: string) => Promise<Principal | null>; readAccess: ReadAccess },
): void {
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const access = accessOf(route.method, route.url, route.config?.access);
    route.config = { ...route.config, access };
    if (access === 'public' || !route.schema) return;
    const optional = access === 'read' && options.readAccess === 'public';
    route.schema.security = optional ? [{ bearerAuth: [] }, {}] : [{ bearerAuth: [] }];
    const statuses = optional ? [401] : [401, 403];
    // A query with include_deleted may be refused by the hook below.
    const query = (route.schema.querystring as { shape?: Record<string, unknown> } | undefined)?.shape;
    if (query && 'include_deleted' in query && !statuses.includes(403)) statuses.push(403);
    route.schema.response = { ...problemResponses(...statuses), ...(route.schema.response as object | undefined) };
  });

  // include_deleted=true on any list, export or stats needs the editor role; checked once the query is parsed.
  app.addHook('preHandler', async (request) => {
    if ((request.query as { include_deleted?: unknown } | undefined)?.include_deleted === true) {
      requireDeletedAccess(request, 'include_deleted=true');
    }
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access ?? 'public';
    // Health checks, metrics and the document ignore credentials altogether.
    if (access === 'public') return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
      if (!match?.[1]) {
        throw new ApiError('unauthorized', 'The Authorization header must be "Bearer <API key>".', {
          headers: challenge,
        });
      }
      const key = await options.findKey(match[1]);
      // The same answer for an unknown and a revoked key: nothing to learn about which keys exist.
      if (!key)
        throw new ApiError('unauthorized', 'The API key is not valid: it is unknown or was revoked.', {
          headers: challenge,
        });
      request.principal = key;
    }
    if (access === 'read' && options.readAccess === 'public') return;
    const needed = NEEDED_ROLE[access];
    if (!request.principal) {
      throw new ApiError(
        'unauthorized',
        `This needs an API key with the ${needed} role: send Authorization: Bearer <key>.`,
        {
          headers: challenge,
        },
      );
    }
    if (ROLE_RANK[request.principal.role] < ROLE_RANK[needed]) {
      throw new ApiError(
        'forbidden',
        `The API key "${request.principal.name}" is a ${request.principal.role} key; this needs ${needed}.`,
      );
    }
  });
}

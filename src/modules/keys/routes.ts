// /v1/api-keys: admins create, list and revoke keys.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorOf } from '../../http/auth.js';
import { ApiError, notFound } from '../../http/errors.js';
import { problemResponses } from '../../http/problem-details.js';
import type { ModuleDeps } from '../deps.js';
import { createKey, listKeys, revokeKey, toKeyInfo } from './repository.js';
import { ApiKeyCreateSchema, ApiKeyListSchema, KeyNameSchema, NewApiKeySchema } from './schemas.js';

const admin = { access: 'admin' as const };

export const keyRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db }) => {
  app.get('/v1/api-keys', {
    config: admin,
    schema: {
      operationId: 'listApiKeys',
      tags: ['api keys'],
      summary: 'List API keys',
      description: 'Every key, revoked ones included, oldest first; a key shows only its prefix.',
      response: { 200: ApiKeyListSchema },
    },
    handler: async () => ({ data: (await listKeys(db.prisma)).map(toKeyInfo) }),
  });

  app.post('/v1/api-keys', {
    config: admin,
    schema: {
      operationId: 'createApiKey',
      tags: ['api keys'],
      summary: 'Create an API key',
      description:
        'Answers the key once; only its hash is kept. A name is used once, even after its key is revoked (409).',
      body: ApiKeyCreateSchema,
      response: { 201: NewApiKeySchema, ...problemResponses(400, 409, 415) },
    },
    handler: async (request, reply) => {
      const { name, role } = request.body;
      const created = await createKey(db.prisma, name, role, authorOf(request));
      if (!created) throw new ApiError('conflict', `A key named "${name}" exists already (names are never reused).`);
      const { row, key } = created;
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...toKeyInfo(row), key });
    },
  });

  app.delete('/v1/api-keys/:name', {
    config: admin,
    schema: {
      operationId: 'revokeApiKey',
      tags: ['api keys'],
      summary: 'Revoke an API key',
      description: 'The key stops working at once, on every instance.',
      params: z.object({ name: KeyNameSchema }),
      response: { 204: z.undefined().describe('Revoked'), ...problemResponses(400, 404) },
    },
    handler: async (request, reply) => {
      if (!(await revokeKey(db.prisma, request.params.name, authorOf(request))))
        throw notFound('live API key', request.params.name);
      return reply.code(204).send();
    },
  });
};

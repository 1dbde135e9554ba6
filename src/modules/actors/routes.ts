import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../http/errors.js';
import { isNotModified } from '../../http/etag.js';
import { IdParamsSchema, pageReply } from '../../http/pagination.js';
import { problemResponses } from '../../http/problem-details.js';
import { ANONYMOUS, type ModuleDeps } from '../deps.js';
import { findOrCreateActor, getActor, listActors, toActor } from './repository.js';
import { ActorByNameSchema, ActorListQuerySchema, ActorPageSchema, ActorSchema } from './schemas.js';

export const actorRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db, publicUrl }) => {
  app.get('/v1/actors', {
    schema: {
      operationId: 'listActors',
      tags: ['actors'],
      summary: 'List actors',
      description: 'Actors ordered by name. `q` searches names and aliases, case-insensitively.',
      querystring: ActorListQuerySchema,
      response: { 200: ActorPageSchema, ...problemResponses(400) },
    },
    handler: async (request, reply) => {
      return pageReply(request, reply, await listActors(db.prisma, request.query), toActor, publicUrl);
    },
  });

  app.post('/v1/actors', {
    schema: {
      operationId: 'createActor',
      tags: ['actors'],
      summary: 'Create an actor, or find the existing one',
      description:
        'Finds the actor with the same kind and normalised name (case, spacing, quotes and Unicode forms do not matter), ' +
        'or creates it. Answers 201 when created and 200 with the existing actor otherwise; an existing actor is not modified.',
      body: ActorByNameSchema,
      response: { 200: ActorSchema, 201: ActorSchema, ...problemResponses(400, 415) },
    },
    handler: async (request, reply) => {
      const { actor, created } = await findOrCreateActor(db.prisma, request.body, ANONYMOUS);
      reply.header('location', `/v1/actors/${actor.id}`);
      return reply.code(created ? 201 : 200).send(toActor(actor));
    },
  });

  app.get('/v1/actors/:id', {
    schema: {
      operationId: 'getActor',
      tags: ['actors'],
      summary: 'Get one actor',
      params: IdParamsSchema,
      response: { 200: ActorSchema, 304: z.undefined().describe('Not modified'), ...problemResponses(400, 404) },
    },
    handler: async (request, reply) => {
      const actor = await getActor(db.prisma, request.params.id);
      if (!actor) throw notFound('actor', request.params.id);
      if (isNotModified(request, reply, actor.version)) return reply.code(304).send();
      return toActor(actor);
    },
  });
};

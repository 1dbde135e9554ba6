import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../http/errors.js';
import { isNotModified } from '../../http/etag.js';
import { IdParamsSchema, pageReply } from '../../http/pagination.js';
import { authorOf } from '../../http/auth.js';
import { problemResponses } from '../../http/problem-details.js';
import { requireIfMatch } from '../../http/preconditions.js';
import { IdempotencyHeadersSchema, IDEMPOTENCY_TEXT, IfMatchHeadersSchema, MERGE_PATCH_TYPES } from '../../http/write-headers.js';
import { type ModuleDeps } from '../deps.js';
import { idempotencyClaim, resourceResponse, respondToWrite, sendWrite } from '../../write/run.js';
import { findOrCreateActor, getActor, listActors, lockActor, toActor } from './repository.js';
import { patchActor } from './writes.js';
import { ActorByNameSchema, ActorListQuerySchema, ActorPageSchema, ActorPatchSchema, ActorSchema } from './schemas.js';

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
        'or creates it. Answers 201 when created and 200 with the existing actor otherwise; an existing actor is not modified.\n\n' +
        IDEMPOTENCY_TEXT,
      headers: IdempotencyHeadersSchema,
      body: ActorByNameSchema,
      response: { 200: ActorSchema, 201: ActorSchema, ...problemResponses(400, 415, 422) },
    },
    handler: async (request, reply) => {
      const idempotency = idempotencyClaim(request, authorOf(request));
      const response = await respondToWrite(
        db,
        { author: authorOf(request), idempotency },
        async (unit) => {
          const found = await findOrCreateActor(unit.tx, request.body, unit.author);
          if (found.created) unit.changed('actor', found.actor.id, 'created');
          return found;
        },
        (_tx, { actor, created }) => resourceResponse(created ? 201 : 200, actorJson(actor), `/v1/actors/${actor.id}`),
      );
      return sendWrite(reply, response);
    },
  });

  app.get('/v1/actors/:id', {
    schema: {
      operationId: 'getActor',
      tags: ['actors'],
      summary: 'Get one actor',
      description:
        "The answer's ETag is the actor's version: send it as If-Match to edit the actor, or as If-None-Match to get 304 " +
        'while it is unchanged.',
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
  app.patch('/v1/actors/:id', {
    schema: {
      operationId: 'patchActor',
      tags: ['actors'],
      summary: 'Edit an actor (JSON merge patch)',
      description:
        "Needs the actor's If-Match (428 without, 412 when stale). Renaming shows the new name in every live event and report " +
        'that names the actor; each gets a new version and revision. 409 when another actor of the same kind has the new name.',
      params: IdParamsSchema,
      consumes: MERGE_PATCH_TYPES,
      headers: IfMatchHeadersSchema,
      body: ActorPatchSchema,
      response: { 200: ActorSchema, ...problemResponses(400, 404, 409, 412, 415, 428) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const expected = requireIfMatch(request, 'actor');
      const response = await respondToWrite(
        db,
        { author: authorOf(request) },
        async (unit) => patchActor(unit, await lockActor(unit.tx, id, expected), request.body),
        async (tx) => resourceResponse(200, actorJson(await tx.actor.findUniqueOrThrow({ where: { id } }))),
      );
      return sendWrite(reply, response);
    },
  });
};

/** An actor row as the JSON text of the API, with its version. */
function actorJson(actor: Parameters<typeof toActor>[0]) {
  return { json: JSON.stringify(toActor(actor)), version: actor.version };
}

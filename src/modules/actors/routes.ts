import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../http/errors.js';
import { isNotModified } from '../../http/etag.js';
import { IdParamsSchema, pageReply } from '../../http/pagination.js';
import { authorOf } from '../../http/auth.js';
import { problemResponses } from '../../http/problem-details.js';
import { requireIfMatch } from '../../http/preconditions.js';
import {
  IdempotencyHeadersSchema,
  IDEMPOTENCY_TEXT,
  IfMatchHeadersSchema,
  MERGE_PATCH_TYPES,
} from '../../http/write-headers.js';
import { type ModuleDeps } from '../deps.js';
import { idempotencyClaim, resourceResponse, respondToWrite, sendWrite } from '../../write/run.js';
import { findOrCreateActor, getActor, listActors, lockActor, mergedActor, readActor, toActor } from './repository.js';
import { mergeActor, patchActor } from './writes.js';
import {
  ActorByNameSchema,
  ActorListQuerySchema,
  ActorMergeBodySchema,
  ActorPageSchema,
  ActorPatchSchema,
  ActorSchema,
} from './schemas.js';

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
        'Finds the actor of the same kind whose name or alias is this name, normalised (case, spacing, quotes and ' +
        'Unicode forms do not matter), or creates it. Answers 201 when created and 200 with the existing actor ' +
        'otherwise; an existing actor is not modified. A name or alias names one actor of a kind: 409 (with ' +
        '`existing_id`) when a new actor would have an alias that another actor of its kind has as name or alias.\n\n' +
        IDEMPOTENCY_TEXT,
      headers: IdempotencyHeadersSchema,
      body: ActorByNameSchema,
      response: { 200: ActorSchema, 201: ActorSchema, ...problemResponses(400, 409, 415, 422) },
    },
    handler: async (request, reply) => {
      const idempotency = idempotencyClaim(request, authorOf(request));
      const response = await respondToWrite(
        db,
        { author: authorOf(request), idempotency },
        async (unit) => {
          const found = await findOrCreateActor(unit.tx, request.body, unit.author, { strictAliases: true });
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
        "The answer's ETag is the actor's version: send it as If-Match to edit the actor, or as If-None-Match to get " +
        '304 while it is unchanged. An actor merged into another answers 410 with `merged_into`, the survivor.',
      params: IdParamsSchema,
      response: { 200: ActorSchema, 304: z.undefined().describe('Not modified'), ...problemResponses(400, 404, 410) },
    },
    handler: async (request, reply) => {
      const actor = await getActor(db.prisma, request.params.id);
      if (!actor) throw notFound('actor', request.params.id);
      if (actor.mergedIntoId) throw mergedActor(actor.id, actor.mergedIntoId);
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
        "Needs the actor's If-Match (428 without, 412 when stale). Renaming shows the new name in every live event " +
        'and report that names the actor; each gets a new version and revision. 409 (with `existing_id`) when ' +
        'another actor of the same kind has the new name, or one of the aliases, as its name or alias. 410 when the ' +
        'actor was merged into another.',
      params: IdParamsSchema,
      consumes: MERGE_PATCH_TYPES,
      headers: IfMatchHeadersSchema,
      body: ActorPatchSchema,
      response: { 200: ActorSchema, ...problemResponses(400, 404, 409, 410, 412, 415, 428) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const expected = requireIfMatch(request, 'actor');
      const response = await respondToWrite(
        db,
        { author: authorOf(request) },
        async (unit) => patchActor(unit, await lockActor(unit.tx, id, expected), request.body),
        async (tx) => resourceResponse(200, await readActor(tx, id)),
      );
      return sendWrite(reply, response);
    },
  });

  app.post('/v1/actors/:id/merge', {
    schema: {
      operationId: 'mergeActor',
      tags: ['actors'],
      summary: 'Merge an actor into another',
      description:
        'This actor and `into` (of the same kind) are one: every participation, report (as reporter), via chain and ' +
        "figure subject naming this actor names `into` instead, this actor's name and aliases become aliases of " +
        '`into` (so find-or-create by any of them finds `into`), and this actor is left as a tombstone whose GET ' +
        'answers 410 with `merged_into`. An id of this actor in a later write stands for `into`. A write to this ' +
        'actor: it needs its If-Match (428 without, 412 when stale). Every event and report that changes, and both ' +
        'actors, get a new version, a revision and a change-feed entry (this actor as deleted). 409 when `into` is ' +
        'this actor, is of another kind, or was merged itself. Answers the surviving actor.\n\n' +
        IDEMPOTENCY_TEXT,
      params: IdParamsSchema,
      headers: IfMatchHeadersSchema.extend(IdempotencyHeadersSchema.shape),
      body: ActorMergeBodySchema,
      response: { 200: ActorSchema, ...problemResponses(400, 404, 409, 410, 412, 415, 422, 428) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const expected = requireIfMatch(request, 'actor');
      const idempotency = idempotencyClaim(request, authorOf(request));
      const response = await respondToWrite(
        db,
        { author: authorOf(request), idempotency },
        async (unit) => mergeActor(unit, await lockActor(unit.tx, id, expected), request.body.into),
        async (tx, into) => resourceResponse(200, await readActor(tx, into), `/v1/actors/${into}`),
      );
      return sendWrite(reply, response);
    },
  });
};

/** An actor row as the JSON text of the API, with its version. */
function actorJson(actor: Parameters<typeof toActor>[0]) {
  return { json: JSON.stringify(toActor(actor)), version: actor.version };
}

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireDeletedAccess } from '../../http/auth.js';
import { notFound } from '../../http/errors.js';
import { IdParamsSchema, sendJsonPage, sendJsonText } from '../../http/pagination.js';
import { problemResponses } from '../../http/problem-details.js';
import type { ModuleDeps } from '../deps.js';
import { listChanges, listEventRevisions } from './repository.js';
import { ChangeListQuerySchema, ChangePageSchema, EventRevisionPageSchema, RevisionListQuerySchema } from './schemas.js';

export const changeRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db, publicUrl }) => {
  app.get('/v1/changes', {
    schema: {
      operationId: 'listChanges',
      tags: ['changes'],
      summary: 'The change feed',
      description: [
        'Every create, update and delete of events, reports, actors and documents, in the order the transactions committed.',
        'To mirror the data set: read from the start, pass `next_cursor` back as `since`, and for each change GET the resource',
        '(a `deleted` change removes it). A page with no new changes returns an empty `data` and the same cursor: poll again later.',
        'No change is ever skipped: a change appears only once every change before it in the feed is visible.',
      ].join('\n'),
      querystring: ChangeListQuerySchema,
      response: { 200: ChangePageSchema, ...problemResponses(400) },
    },
    handler: async (request, reply) => {
      const { since, limit } = request.query;
      const page = await listChanges(db.pool, since ?? '0', limit);
      // No Link header and never a null cursor: the feed has no last page, a client polls with next_cursor.
      const body = `{"data":[${page.items.join(',')}],"next_cursor":${JSON.stringify(page.nextCursor)}}`;
      return sendJsonText(reply.header('cache-control', 'no-store'), body);
    },
  });

  app.get('/v1/events/:id/revisions', {
    schema: {
      operationId: 'listEventRevisions',
      tags: ['events'],
      summary: "An event's revisions",
      description:
        'Every version of the event, oldest first: who made it, when, which fields changed, and the whole event as it then stood. ' +
        'Deleted and merged events keep their revisions; those of a deleted event need the editor role (403 otherwise).',
      params: IdParamsSchema,
      querystring: RevisionListQuerySchema,
      response: { 200: EventRevisionPageSchema, ...problemResponses(400, 403, 404) },
    },
    handler: async (request, reply) => {
      const found = await db.pool.query<{ deleted: boolean }>('SELECT deleted_at IS NOT NULL AS deleted FROM events WHERE id = $1', [
        request.params.id,
      ]);
      if (found.rowCount === 0) throw notFound('event', request.params.id);
      if (found.rows[0]?.deleted) requireDeletedAccess(request, "a deleted event's revisions");
      return sendJsonPage(request, reply, await listEventRevisions(db.pool, request.params.id, request.query), publicUrl);
    },
  });
};

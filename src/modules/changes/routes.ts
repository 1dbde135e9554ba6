import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Slots } from '../../db/admission.js';
import { admit } from '../../http/admission.js';
import { requireDeletedAccess } from '../../http/auth.js';
import { invalidInput, notFound } from '../../http/errors.js';
import { IdParamsSchema, sendJsonPage, sendJsonText } from '../../http/pagination.js';
import { problemResponses } from '../../http/problem-details.js';
import type { ModuleDeps } from '../deps.js';
import { eventLiveness } from '../events/repository.js';
import { ChangeListener, DEFAULT_STREAM_SETTINGS } from './live.js';
import { latestSeq, listChanges, listEventRevisions } from './repository.js';
import {
  ChangeListQuerySchema,
  ChangePageSchema,
  ChangeStreamHeadersSchema,
  ChangeStreamQuerySchema,
  EventRevisionPageSchema,
  RevisionListQuerySchema,
} from './schemas.js';

export const changeRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db, publicUrl, changeStream }) => {
  app.get('/v1/changes', {
    schema: {
      operationId: 'listChanges',
      tags: ['changes'],
      summary: 'The change feed',
      description: [
        'Every create, update and delete of events, reports, actors and documents, in the order the transactions ' +
          'committed.',
        'To mirror the data set: read from the start, pass `next_cursor` back as `since`, and for each change GET ' +
          'the resource',
        '(a `deleted` change removes it). A page with no new changes returns an empty `data` and the same cursor: ' +
          'poll again later.',
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

  // The live stream: one LISTEN connection for the instance, started by the first stream; ended
  // before the server closes, so open streams do not hold the close up.
  const settings = { ...DEFAULT_STREAM_SETTINGS, ...changeStream };
  const listener = new ChangeListener(db, settings, app.log);
  // The streams' table reads run on the primary pool, a page at a time.
  const streams = new Slots(settings.maxSubscribers, settings.perClient, db.pool);
  app.addHook('preClose', () => listener.close());

  app.get('/v1/changes/stream', {
    schema: {
      operationId: 'streamChanges',
      tags: ['changes'],
      summary: 'The change feed, live (Server-Sent Events)',
      description: [
        'The changes of `GET /v1/changes` pushed as they commit, on any instance, as Server-Sent Events ' +
          '(`text/event-stream`):',
        'each change is one event whose `id` is its seq, whose `event` name is its resource (`event`, `report`, ' +
          '`actor`, `document`)',
        'and whose `data` is the same object as an item of `GET /v1/changes`. Listen for those names ' +
          '(`addEventListener("event", ...)`):',
        'named events do not reach `onmessage`.',
        '',
        'Starts after `Last-Event-ID` (sent by EventSource when it reconnects), else after `since`, else from now;',
        'every change after that seq is sent exactly once, in commit order, with none skipped across reconnects.',
        'A seq after the latest change is a 400. A comment line is sent as heartbeat when nothing else was',
        `(every ${DEFAULT_STREAM_SETTINGS.heartbeatMs / 1000} s by default), and \`retry:\` tells the client how long to wait before reconnecting.`,
        'Each instance serves a bounded number of streams (503 with Retry-After beyond), and one client a share of ' +
          'them (429).',
      ].join('\n'),
      headers: ChangeStreamHeadersSchema,
      querystring: ChangeStreamQuerySchema,
      response: {
        200: {
          description: 'An endless stream of events, one per change',
          content: {
            'text/event-stream': {
              schema: z
                .string()
                .describe(
                  'id: <seq>\nevent: <resource>\ndata: <a Change as JSON>\n\n for each change; lines starting with ' +
                    '":" are heartbeats',
                ),
            },
          },
        },
        ...problemResponses(400, 429, 503),
      },
    },
    handler: async (request, reply) => {
      const header = request.headers['last-event-id'];
      const given = header ?? request.query.since;
      const latest = await latestSeq(db.pool);
      if (given !== undefined && BigInt(given) > BigInt(latest)) {
        const where =
          header === undefined
            ? { in: 'query' as const, path: '/since' }
            : { in: 'header' as const, path: '/last-event-id' };
        throw invalidInput([{ ...where, message: `no change has the seq ${given}: the latest is ${latest}` }]);
      }
      const headers = {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no', // nginx: pass each event on at once
      };
      // A HEAD gets the headers a stream would have, and opens none.
      if (request.method === 'HEAD') return reply.headers(headers).send(undefined as never);
      const release = admit(request, streams, 'change streams', Math.ceil(settings.retryMs / 1000));
      const body = await listener.open(
        reply.raw,
        BigInt(given ?? latest),
        request.query.resource,
        release,
        request.log,
      );
      return reply.headers(headers).send((body ?? undefined) as never);
    },
  });

  app.get('/v1/events/:id/revisions', {
    schema: {
      operationId: 'listEventRevisions',
      tags: ['events'],
      summary: "An event's revisions",
      description:
        'Every version of the event, oldest first: who made it, when, which fields changed, and the whole event as ' +
        'it then stood. Deleted and merged events keep their revisions; those of a deleted event need the editor ' +
        'role (403 otherwise).',
      params: IdParamsSchema,
      querystring: RevisionListQuerySchema,
      response: { 200: EventRevisionPageSchema, ...problemResponses(400, 403, 404) },
    },
    handler: async (request, reply) => {
      const event = await eventLiveness(db.pool, request.params.id);
      if (!event) throw notFound('event', request.params.id);
      if (event.deleted) requireDeletedAccess(request, "a deleted event's revisions");
      return sendJsonPage(
        request,
        reply,
        await listEventRevisions(db.pool, request.params.id, request.query),
        publicUrl,
      );
    },
  });
};

import { pipeline, Readable, type Transform } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, notFound } from '../../http/errors.js';
import { etagOf, isNotModified } from '../../http/etag.js';
import { negotiate } from '../../http/negotiation.js';
import { IdParamsSchema, linkNext, sendJsonPage } from '../../http/pagination.js';
import { problemResponses } from '../../http/problem-details.js';
import { ANONYMOUS, type ModuleDeps } from '../deps.js';
import { toCsv, toGeoJson, toNdjson } from './export.js';
import { DEFAULT_PAGE_SIZE, EventListQuerySchema } from './list-query.js';
import { countEvents, createEvent, getEvent, listEvents, streamEvents, type StoredEvent } from './repository.js';
import { EventInputSchema, EventPageSchema, EventSchema } from './schemas.js';

const REPRESENTATIONS = [
  { format: 'json', mediaType: 'application/json' },
  { format: 'csv', mediaType: 'text/csv' },
  { format: 'ndjson', mediaType: 'application/x-ndjson' },
  { format: 'geojson', mediaType: 'application/geo+json' },
] as const;

const EXPORTERS: Record<'csv' | 'ndjson' | 'geojson', { transform: () => Transform; contentType: string }> = {
  csv: { transform: toCsv, contentType: 'text/csv; charset=utf-8; header=present' },
  ndjson: { transform: toNdjson, contentType: 'application/x-ndjson; charset=utf-8' },
  geojson: { transform: toGeoJson, contentType: 'application/geo+json; charset=utf-8' },
};

const GeoJsonSchema = z
  .object({
    type: z.literal('FeatureCollection'),
    features: z.array(
      z.object({
        type: z.literal('Feature'),
        id: z.uuid(),
        geometry: z.object({ type: z.literal('Point'), coordinates: z.tuple([z.number(), z.number()]) }),
        properties: EventSchema,
      }),
    ),
  })
  .meta({ id: 'EventFeatureCollection', description: 'RFC 7946 FeatureCollection of the events that have coordinates' });

/** The body of a 410 for a deleted event: its tombstone. */
function tombstone(event: StoredEvent, id: string): ApiError {
  return new ApiError('gone', `The event ${id} was deleted.`, {
    extra: { deleted_at: event.deleted_at, deleted_by: event.deleted_by, reason: event.delete_reason, merged_into: event.merged_into },
  });
}

export const eventRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db, publicUrl }) => {
  app.get('/v1/events', {
    schema: {
      operationId: 'listEvents',
      tags: ['events'],
      summary: 'List, filter and export events',
      description: [
        'Events with their live reports, newest occurrence first by default. Filters combine with AND; commas inside one mean OR.',
        'The report filters (reporter, via, document, stance, min_reliability) must all hold for one and the same report:',
        '`reporter=X&stance=denies` finds events that X denies.',
        '',
        'Keyset pagination: pass `next_cursor` back as `cursor` with the same query (the Link header carries it); a cursor stays valid while data changes.',
        '',
        'Formats, by `format=` or the Accept header: JSON (default), CSV (one row per event), NDJSON, GeoJSON (events with coordinates).',
        'An export without `limit` streams every matching event; with `limit` it is one page, with a Link header to the next.',
      ].join('\n'),
      querystring: EventListQuerySchema,
      response: {
        200: {
          description: 'A page of events, or the export',
          content: {
            'application/json': { schema: EventPageSchema },
            'text/csv': { schema: z.string().describe('RFC 4180 CSV with a header row') },
            'application/x-ndjson': { schema: z.string().describe('One Event JSON object per line') },
            'application/geo+json': { schema: GeoJsonSchema },
          },
        },
        ...problemResponses(400, 406),
      },
    },
    handler: async (request, reply) => {
      const { format, limit, cursor, sort, count, ...filters } = request.query;
      const { format: chosen } = negotiate(request, REPRESENTATIONS, format);
      reply.header('vary', 'accept');
      if (chosen === 'json') {
        const size = limit ?? DEFAULT_PAGE_SIZE;
        const [page, total] = await Promise.all([
          listEvents(db.pool, { filters, sort, cursor, limit: size }),
          count ? countEvents(db.pool, filters) : Promise.resolve(undefined),
        ]);
        return sendJsonPage(request, reply, page, publicUrl, total === undefined ? {} : { total });
      }
      const exporter = EXPORTERS[chosen];
      const request_ = { filters, sort, cursor, withCoordinates: chosen === 'geojson' };
      // Batches of event JSON texts: many from the database stream, or one page.
      let rows: Readable;
      if (limit === undefined) {
        rows = await streamEvents(db.pool, request_);
      } else {
        const page = await listEvents(db.pool, { ...request_, limit });
        linkNext(request, reply, page.nextCursor, publicUrl);
        rows = Readable.from([page.items]);
      }
      // pipeline, not pipe: a database failure mid-export must abort the response, not leave it hanging.
      const body = pipeline(rows, exporter.transform(), (error) => {
        if (error && error.code !== 'ERR_STREAM_PREMATURE_CLOSE') request.log.error({ err: error }, 'export failed');
      });
      // A stream is sent as it is read; the typed reply only knows the JSON shapes, hence the cast.
      return reply.type(exporter.contentType).send(body as never);
    },
  });

  app.post('/v1/events', {
    schema: {
      operationId: 'createEvent',
      tags: ['events'],
      summary: 'Create an event with its reports',
      description:
        'Creates an event with at least one report (422 otherwise), its participants, figures, tags and relations, in one transaction. ' +
        'Actors are found by kind and normalised name or created; documents are found by URL or created. ' +
        'A figure may give `value` with a qualifier instead of low/best/high. An unknown event type is a 400 listing the known codes.',
      body: EventInputSchema,
      response: { 201: EventSchema, ...problemResponses(400, 415, 422) },
    },
    handler: async (request, reply) => {
      const id = await createEvent(db.prisma, request.body, ANONYMOUS);
      const event = await getEvent(db.pool, id);
      if (!event) throw notFound('event', id);
      reply.header('location', `/v1/events/${id}`).header('etag', etagOf(event.version));
      return reply.code(201).send(JSON.parse(event.json));
    },
  });

  app.get('/v1/events/:id', {
    schema: {
      operationId: 'getEvent',
      tags: ['events'],
      summary: 'Get one event with its reports',
      description:
        'The ETag is the version; send it in If-None-Match to get 304 when unchanged. A deleted event answers 410 with its tombstone.',
      params: IdParamsSchema,
      response: { 200: EventSchema, 304: z.undefined().describe('Not modified'), ...problemResponses(400, 404, 410) },
    },
    handler: async (request, reply) => {
      const event = await getEvent(db.pool, request.params.id);
      if (!event) throw notFound('event', request.params.id);
      if (event.deleted_at) throw tombstone(event, request.params.id);
      if (isNotModified(request, reply, event.version)) return reply.code(304).send();
      return JSON.parse(event.json);
    },
  });
};

import { pipeline, Readable, type Transform } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, notFound } from '../../http/errors.js';
import { isNotModified } from '../../http/etag.js';
import { addVary, negotiate } from '../../http/negotiation.js';
import {
  CursorParamSchema,
  IdParamsSchema,
  LimitSchema,
  linkNext,
  sendJsonPage,
  sendJsonText,
} from '../../http/pagination.js';
import { authorOf, canReadDeleted, requireDeletedAccess } from '../../http/auth.js';
import { problemResponses } from '../../http/problem-details.js';
import { admit, slowClientGuard, throttle } from '../../http/admission.js';
import { DEFAULT_SLOW_CLIENT, type ModuleDeps } from '../deps.js';
import { toCsv, toGeoJson, toNdjson } from './render/streams.js';
import { AcledTypes } from './render/acled-codebook.js';
import { toAcledCsv } from './render/acled.js';
import { assertKnownTypeFilter, listEventTypes, toEventType } from '../event-types/repository.js';
import {
  DEFAULT_PAGE_SIZE,
  EventExportQuerySchema,
  EventFieldsExportQuerySchema,
  EventListQuerySchema,
  type EventSort,
} from './list-query.js';
import { FieldsParamSchema, fieldSelection, selectionTag, type FieldSelection } from './fields.js';
import type { EventFilters } from './filters.js';
import {
  IdempotencyHeadersSchema,
  IDEMPOTENCY_TEXT,
  DeleteBodySchema,
  IfMatchHeadersSchema,
  MERGE_PATCH_TYPES,
} from '../../http/write-headers.js';
import { optionalIfMatch, requireIfMatch } from '../../http/preconditions.js';
import { idempotencyClaim, NO_CONTENT, resourceResponse, respondToWrite, sendWrite } from '../../write/run.js';
import type { WriteResponse } from '../../write/run.js';
import type { UnitOfWork } from '../../write/unit.js';
import type { Transaction } from '../../db/client.js';
import {
  countEvents,
  eventLiveness,
  eventRevisionAt,
  getEvent,
  listEvents,
  projectEventJson,
  streamEvents,
  type StoredEvent,
} from './repository.js';
import { listReports } from '../reports/repository.js';
import { ReportInputSchema, ReportPageSchema, ReportSchema } from '../reports/schemas.js';
import { addReport, readReport } from '../reports/writes.js';
import {
  EventInputSchema,
  EventPageSchema,
  EventPatchSchema,
  EventSchema,
  MergeBodySchema,
  RelationInputSchema,
  RelationParamsSchema,
} from './schemas.js';
import {
  addRelation,
  createEvent,
  deleteEvent,
  lockLiveEvent,
  mergeEvent,
  patchEvent,
  readEvent,
  removeRelation,
} from './writes.js';

const EventGetQuerySchema = z.strictObject({
  fields: FieldsParamSchema.optional(),
  as_of: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('A past date-time: the event as it stood then, from its revisions (to reproduce a past analysis)'),
});

const EventReportsQuerySchema = z.strictObject({ limit: LimitSchema, cursor: CursorParamSchema });

const REPRESENTATIONS = [
  { format: 'json', mediaType: 'application/json' },
  { format: 'csv', mediaType: 'text/csv' },
  { format: 'ndjson', mediaType: 'application/x-ndjson' },
  { format: 'geojson', mediaType: 'application/geo+json' },
] as const;

/** Each export format: the rendering its rows are read in, and the transform that writes them out. */
interface Exporter {
  rendering: 'json' | 'csv' | 'geojson';
  /** `bom`: the UTF-8 byte-order mark first (CSV only; the route refuses it for the others). */
  transform: (bom: boolean) => Transform;
  contentType: string;
}

const EXPORTERS: Record<'csv' | 'ndjson' | 'geojson', Exporter> = {
  csv: { rendering: 'csv', transform: toCsv, contentType: 'text/csv; charset=utf-8; header=present' },
  ndjson: { rendering: 'json', transform: toNdjson, contentType: 'application/x-ndjson; charset=utf-8' },
  geojson: { rendering: 'geojson', transform: toGeoJson, contentType: 'application/geo+json; charset=utf-8' },
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
  .meta({
    id: 'EventFeatureCollection',
    description: 'RFC 7946 FeatureCollection of the events that have coordinates',
  });

type ExportFormat = 'csv' | 'ndjson' | 'geojson' | 'acled-csv';

const CSV_TEXT = z
  .string()
  .describe("RFC 4180 CSV with a header row: this service's columns (csv), or ACLED's codebook columns (acled-csv)");
const NDJSON_TEXT = z.string().describe('One Event JSON object per line');

const EXPORT_OPERATIONS: {
  format: ExportFormat;
  path: string;
  operationId: string;
  summary: string;
  mediaType: string;
  schema: z.ZodType;
}[] = [
  {
    format: 'csv',
    path: '/v1/events.csv',
    operationId: 'exportEventsCsv',
    summary: 'Export events as CSV',
    mediaType: 'text/csv',
    schema: CSV_TEXT,
  },
  {
    format: 'ndjson',
    path: '/v1/events.ndjson',
    operationId: 'exportEventsNdjson',
    summary: 'Export events as NDJSON (one event per line; each line is also an import line of POST /v1/imports)',
    mediaType: 'application/x-ndjson',
    schema: NDJSON_TEXT,
  },
  {
    format: 'geojson',
    path: '/v1/events.geojson',
    operationId: 'exportEventsGeoJson',
    summary: 'Export the events that have coordinates as a GeoJSON FeatureCollection',
    mediaType: 'application/geo+json',
    schema: GeoJsonSchema,
  },
  {
    format: 'acled-csv',
    path: '/v1/events.acled.csv',
    operationId: 'exportEventsAcledCsv',
    summary: "Export events as CSV in ACLED's codebook columns",
    mediaType: 'text/csv',
    schema: CSV_TEXT,
  },
];

/** bom=true is for the CSV exports (csv, acled-csv) alone: a 400 with any other format, named or negotiated. */
function refuseBom(bom: boolean | undefined, chosen: string): void {
  if (bom && chosen !== 'csv' && chosen !== 'acled-csv') {
    throw new ApiError('invalid-input', 'The request has invalid values; see errors.', {
      errors: [{ in: 'query', path: '/bom', message: `applies to CSV exports only (csv, acled-csv), not ${chosen}` }],
    });
  }
}

/** fields= picks members of the JSON: the CSV exports (csv, acled-csv) have fixed columns, so it is a 400 with them. */
function refuseFields(fields: FieldSelection | undefined, chosen: string): void {
  if (fields && chosen !== 'json' && chosen !== 'ndjson' && chosen !== 'geojson') {
    throw new ApiError('invalid-input', 'The request has invalid values; see errors.', {
      errors: [
        {
          in: 'query',
          path: '/fields',
          message: `applies to json, ndjson and geojson, not ${chosen}: its columns are fixed`,
        },
      ],
    });
  }
}

/** The body of a 410 for a deleted event: its tombstone. */
function tombstone(event: StoredEvent, id: string): ApiError {
  return new ApiError('gone', `The event ${id} was deleted.`, {
    extra: {
      deleted_at: event.deleted_at,
      deleted_by: event.deleted_by,
      reason: event.delete_reason,
      merged_into: event.merged_into,
    },
  });
}

export const eventRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (
  app,
  { db, publicUrl, exportClients = DEFAULT_SLOW_CLIENT },
) => {
  type PageRequest = Parameters<typeof listEvents>[1];

  /**
   * A write to the live event `id` under the request's If-Match (428, 412, 404 or 410 before `write` runs),
   * answered by `answer` (given what `write` returned); an `idempotent` write honours an Idempotency-Key, and
   * with `optionalIfMatch` a request without If-Match writes to the current version.
   */
  async function writeLiveEvent<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    write: (unit: UnitOfWork) => Promise<T>,
    answer: (tx: Transaction, written: T) => Promise<WriteResponse> | WriteResponse,
    { idempotent = false, optionalIfMatch: ifMatchOptional = false } = {},
  ) {
    const expected = ifMatchOptional ? optionalIfMatch(request, 'event') : requireIfMatch(request, 'event');
    const author = authorOf(request);
    const idempotency = idempotent ? idempotencyClaim(request, author) : undefined;
    const response = await respondToWrite(
      db,
      { author, idempotency },
      async (unit) => {
        await lockLiveEvent(unit.tx, id, expected);
        return write(unit);
      },
      answer,
    );
    return sendWrite(reply, response);
  }

  /** The answer of a write: the event `id` as it now is. */
  const eventAnswer =
    (id: string, status = 200, location?: string) =>
    async (tx: Transaction) =>
      resourceResponse(status, await readEvent(tx, id), location);

  /**
   * One page, on the replica when there is one (db.readPool: it may lag a moment). Full-text search
   * and totals cost far more than a page: they run in the expensive reads' slots and pool.
   */
  async function readPage(request: FastifyRequest, pageRequest: PageRequest, withTotal: boolean) {
    const expensive = pageRequest.filters.q !== undefined || withTotal;
    if (!expensive) return { page: await listEvents(db.readPool, pageRequest), total: undefined };
    const release = admit(request, db.expensive, 'expensive reads', 2);
    try {
      // One after the other: the slot holds one connection.
      const found = await listEvents(db.expensive.pool, pageRequest);
      return { page: found, total: withTotal ? await countEvents(db.expensive.pool, pageRequest.filters) : undefined };
    } finally {
      release();
    }
  }

  /**
   * An export in `chosen` format: streamed whole (in an export slot), or one page with a Link to the next when `limit`
   * is given.
   */
  async function sendExport(
    request: FastifyRequest,
    reply: FastifyReply,
    chosen: ExportFormat,
    {
      filters,
      sort,
      cursor,
      limit,
      bom = false,
      fields,
    }: {
      filters: EventFilters;
      sort: EventSort;
      cursor: string | undefined;
      limit: number | undefined;
      bom?: boolean | undefined;
      fields?: FieldSelection | undefined;
    },
  ) {
    let exporter = chosen === 'acled-csv' ? null : EXPORTERS[chosen];
    if (!exporter) {
      // ACLED's types come from the vocabulary, read once per export (a few rows).
      const types = new AcledTypes((await listEventTypes(db.prisma)).map(toEventType));
      exporter = {
        rendering: 'json',
        transform: (withBom) => toAcledCsv(types, withBom),
        contentType: EXPORTERS.csv.contentType,
      };
    }
    const request_ = {
      filters,
      sort,
      cursor,
      withCoordinates: chosen === 'geojson',
      rendering: exporter.rendering,
      fields,
    };
    // Batches of the events' texts: many from the database stream, or one page.
    let rows: Readable;
    // An export of everything holds a connection of the export pool while it streams: it needs one of the export slots.
    let release = () => {};
    if (limit === undefined) {
      // HEAD gets the headers alone: Fastify never reads a HEAD's stream, which would hold its connection and slot for
      // good.
      if (request.method === 'HEAD') return reply.type(exporter.contentType).send(undefined);
      release = admit(request, db.exports, 'exports of everything', 5);
      try {
        rows = await streamEvents(db.exports.pool, request_);
      } catch (error) {
        release();
        throw error;
      }
    } else {
      const { page } = await readPage(request, { ...request_, limit }, false);
      linkNext(request, reply, page.nextCursor, publicUrl);
      rows = Readable.from([page.items]);
    }
    // A streamed export drops a client that reads too slowly for too long, freeing its slot. A caller without a key
    // gets it at a capped rate, so that an anonymous crowd's exports cost a trickle of CPU, not a core each.
    const cap = request.principal ? 0 : (exportClients.anonymousBytesPerSecond ?? 0);
    const stages =
      limit === undefined
        ? [exporter.transform(bom), ...(cap > 0 ? [throttle(cap)] : []), slowClientGuard(request, reply, exportClients)]
        : [exporter.transform(bom)];
    // pipeline, not pipe: a database failure mid-export must abort the response, not leave it hanging.
    const body = pipeline([rows, ...stages], (error) => {
      release();
      if (error && error.code !== 'ERR_STREAM_PREMATURE_CLOSE') request.log.error({ err: error }, 'export failed');
    });
    // A stream is sent as it is read; the typed reply only knows the JSON shapes, hence the cast.
    return reply.type(exporter.contentType).send(body);
  }

  app.get('/v1/events', {
    schema: {
      operationId: 'listEvents',
      tags: ['events'],
      summary: 'List, filter and export events',
      description: [
        'Events with their live reports, newest occurrence first by default. Filters combine with AND; commas inside ' +
          'one mean OR.',
        'The report filters (reporter, via, document, stance, min_reliability) must all hold for one and the same ' +
          'report:',
        '`reporter=X&stance=denies` finds events that X denies.',
        '',
        'Keyset pagination: pass `next_cursor` back as `cursor` with the same query (the Link header carries it); a ' +
          'cursor stays valid while data changes.',
        '',
        'Formats, by `format=` or the Accept header: JSON (default), CSV (one row per event), NDJSON, GeoJSON ' +
          '(events with coordinates).',
        "`format=acled-csv` is CSV in ACLED's codebook columns (event_id_cnty, event_date, ..., timestamp): types, " +
          'precisions, actors, ' +
          'sources and fatalities mapped as docs/acled.md describes; `npm run import -- --format acled FILE` reads ' +
          'it back.',
        'An export without `limit` streams every matching event; with `limit` it is one page, with a Link header to ' +
          'the next.',
        '`fields` (a sparse fieldset) sends only the members of each event it names, `id` always among them: in ' +
          'JSON, NDJSON and the',
        "GeoJSON Features' properties; the CSV formats have fixed columns and refuse it (400).",
        'In both CSVs a text cell that a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a ' +
          "CR, or a fullwidth =, +, - or @) gets a leading single quote (OWASP's CSV-injection advice); numeric " +
          'columns keep their sign, and the ACLED import drops the quote.',
        'The same exports have operations of their own, each answering its one media type (for generated clients):',
        '`/v1/events.csv`, `/v1/events.ndjson`, `/v1/events.geojson` and `/v1/events.acled.csv`.',
        '',
        'A server streams a limited number of exports of everything at once (EXPORT_MAX_CONCURRENT), and one caller ' +
          '(an API key, or an',
        'address without one) a share of them (EXPORT_MAX_PER_CLIENT); it drops an export whose client reads too ' +
          'slowly for too long.',
        'Full-text `q` and `count=true` are expensive reads, which run in slots of their own the same way ' +
          '(EXPENSIVE_MAX_CONCURRENT,',
        'EXPENSIVE_MAX_PER_CLIENT). Beyond its share a caller gets 429, beyond the instance 503, both at once and ' +
          'with Retry-After.',
        'Callers without an API key share fewer of both kinds together (ANONYMOUS_HEAVY_MAX_CONCURRENT; beyond, ' +
          '503), and may get a',
        'whole export at a capped rate (EXPORT_ANONYMOUS_BYTES_PER_SECOND); a key lifts both.',
        'A query that runs longer than the server allows answers 503 `/problems/query-timeout`: narrow the filters, ' +
          'or ask for pages.',
      ].join('\n'),
      querystring: EventListQuerySchema,
      response: {
        200: {
          description: 'A page of events, or the export',
          content: {
            'application/json': { schema: EventPageSchema },
            'text/csv': { schema: CSV_TEXT },
            'application/x-ndjson': { schema: NDJSON_TEXT },
            'application/geo+json': { schema: GeoJsonSchema },
          },
        },
        ...problemResponses(400, 406, 503),
      },
    },
    handler: async (request, reply) => {
      const { format, limit, cursor, sort, count, bom, fields: paths, ...filters } = request.query;
      await assertKnownTypeFilter(db.prisma, filters.type);
      // acled-csv is chosen by name only: in Accept, text/csv means this service's own CSV.
      const chosen = format === 'acled-csv' ? format : negotiate(request, REPRESENTATIONS, format).format;
      addVary(reply, 'Accept');
      refuseBom(bom, chosen);
      const fields = fieldSelection(paths);
      refuseFields(fields, chosen);
      if (chosen === 'json') {
        const pageRequest = { filters, sort, cursor, limit: limit ?? DEFAULT_PAGE_SIZE, fields };
        const { page, total } = await readPage(request, pageRequest, count === true);
        return sendJsonPage(request, reply, page, publicUrl, total === undefined ? {} : { total });
      }
      return sendExport(request, reply, chosen, { filters, sort, cursor, limit, bom, fields });
    },
  });

  // One operation per export format, each with the one media type it answers: a generated client types and parses
  // each as what it is (GET /v1/events?format= answers the same, but a client generator sees only its JSON).
  for (const { format, path, operationId, summary, mediaType, schema } of EXPORT_OPERATIONS) {
    app.get(path, {
      schema: {
        operationId,
        tags: ['events'],
        summary,
        description: [
          `The events GET /v1/events?format=${format} exports, with the same filters, sort and paging: without \`limit\` every`,
          'matching event, streamed (in one of the export slots: 503 with Retry-After when all are taken); with ' +
            '`limit` one page,',
          'with a Link header to the next.',
        ].join('\n'),
        // fields= is declared where it applies (NDJSON, GeoJSON): a CSV's columns are fixed, and it is a 400 there.
        querystring:
          format === 'ndjson' || format === 'geojson' ? EventFieldsExportQuerySchema : EventExportQuerySchema,
        response: {
          200: { description: summary, content: { [mediaType]: { schema } } },
          ...problemResponses(400, 503),
        },
      },
      handler: async (request, reply) => {
        const {
          limit,
          cursor,
          sort,
          bom,
          fields: paths,
          ...filters
        } = request.query as z.output<typeof EventFieldsExportQuerySchema>;
        await assertKnownTypeFilter(db.prisma, filters.type);
        refuseBom(bom, format);
        const fields = fieldSelection(paths);
        refuseFields(fields, format);
        return sendExport(request, reply, format, { filters, sort, cursor, limit, bom, fields });
      },
    });
  }

  app.post('/v1/events', {
    schema: {
      operationId: 'createEvent',
      tags: ['events'],
      summary: 'Create an event with its reports',
      description:
        'Creates an event with at least one report (422 otherwise), its participants, figures, tags and relations, ' +
        'in one transaction. Actors are found by kind and normalised name or created; documents are found by URL or ' +
        'created. A figure may give `value` with a qualifier instead of low/best/high. An unknown event type is a ' +
        '400 listing the known codes. `external_ids` name the event in other systems; 409 (with `existing_id`) when ' +
        'another event has one of them already.\n\n' +
        IDEMPOTENCY_TEXT,
      headers: IdempotencyHeadersSchema,
      body: EventInputSchema,
      response: { 201: EventSchema, ...problemResponses(400, 409, 415, 422) },
    },
    handler: async (request, reply) => {
      const response = await respondToWrite(
        db,
        { author: authorOf(request), idempotency: idempotencyClaim(request, authorOf(request)) },
        (unit) => createEvent(unit, request.body),
        async (tx, id) => resourceResponse(201, await readEvent(tx, id), `/v1/events/${id}`),
      );
      return sendWrite(reply, response);
    },
  });

  app.get('/v1/events/:id', {
    schema: {
      operationId: 'getEvent',
      tags: ['events'],
      summary: 'Get one event with its reports',
      description:
        'The ETag is the version; send it in If-None-Match to get 304 when unchanged. A deleted event answers 410 ' +
        'with its tombstone (merged_into names the survivor of a merge). With `fields`, only the members selected ' +
        '(and id); the ETag then names the selection too (`"<version>-<tag>"`), so two selections never share one, ' +
        'and it is accepted as If-Match for that version. With `as_of`, the event as it stood at that time, from its ' +
        'revisions: 404 if it did not exist yet, 410 if it was deleted by then. The past states of an event deleted ' +
        'since are for editors: others get its 410 tombstone.',
      params: IdParamsSchema,
      querystring: EventGetQuerySchema,
      response: { 200: EventSchema, 304: z.undefined().describe('Not modified'), ...problemResponses(400, 404, 410) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const asOf = request.query.as_of;
      const fields = fieldSelection(request.query.fields);
      // A deleted event's past states are its tombstone's contents: editors only, the tombstone for others.
      if (asOf && !canReadDeleted(request)) {
        const current = await getEvent(db.pool, id);
        if (current?.deleted_at) throw tombstone(current, id);
      }
      const event = asOf ? await eventAsOf(id, asOf) : await getEvent(db.pool, id, fields);
      if (!event) throw notFound('event', id);
      if (event.deleted_at) throw tombstone(event, id);
      if (isNotModified(request, reply, event.version, fields && selectionTag(fields))) return reply.code(304).send();
      // A past state comes whole from its revision: projected here as a stored event is.
      return sendJsonText(reply, asOf && fields ? await projectEventJson(db.pool, event.json, fields) : event.json);
    },
  });

  /** The event at a past time, shaped like a stored event (the tombstone fields from its state). */
  async function eventAsOf(id: string, asOf: string): Promise<StoredEvent | null> {
    const revision = await eventRevisionAt(db.pool, id, asOf);
    if (!revision) {
      const exists = await getEvent(db.pool, id);
      if (exists) throw new ApiError('not-found', `The event ${id} did not exist yet at ${asOf}.`);
      return null;
    }
    const state = JSON.parse(revision.json) as { deleted_at: string | null; updated_by: string };
    const deleted = revision.action === 'deleted';
    return {
      json: revision.json,
      version: revision.version,
      deleted_at: deleted ? state.deleted_at : null,
      deleted_by: deleted ? state.updated_by : null,
      delete_reason: null,
      merged_into: null,
    };
  }

  app.patch('/v1/events/:id', {
    schema: {
      operationId: 'patchEvent',
      tags: ['events'],
      summary: 'Edit an event (JSON merge patch)',
      description:
        'A JSON merge patch (RFC 7396), as application/merge-patch+json or application/json. Needs If-Match with the ' +
        'ETag read (428 without, 412 with the current version when another change came first). Answers the new event ' +
        'and its ETag; every accepted PATCH is a new version and revision, whose changed_fields may be empty when it ' +
        'changed nothing. 409 (with `existing_id`) when another event has one of the new external ids.',
      params: IdParamsSchema,
      consumes: MERGE_PATCH_TYPES,
      headers: IfMatchHeadersSchema,
      body: EventPatchSchema,
      response: { 200: EventSchema, ...problemResponses(400, 404, 409, 410, 412, 415, 428) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      return writeLiveEvent(request, reply, id, (unit) => patchEvent(unit, id, request.body), eventAnswer(id));
    },
  });

  app.delete('/v1/events/:id', {
    schema: {
      operationId: 'deleteEvent',
      tags: ['events'],
      summary: 'Delete an event (soft)',
      description:
        'Marks the event deleted with an optional reason; nothing is removed. It then answers 410 with its ' +
        'tombstone, leaves the lists (unless include_deleted=true) and keeps its revisions. Needs If-Match.',
      params: IdParamsSchema,
      headers: IfMatchHeadersSchema,
      body: DeleteBodySchema,
      response: { 204: z.undefined().describe('Deleted'), ...problemResponses(400, 404, 410, 412, 415, 428) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      return writeLiveEvent(
        request,
        reply,
        id,
        (unit) => deleteEvent(unit, id, request.body?.reason ?? null),
        () => NO_CONTENT,
      );
    },
  });

  app.post('/v1/events/:id/relations', {
    schema: {
      operationId: 'createEventRelation',
      tags: ['events'],
      summary: 'Relate an event to another',
      description:
        "Adds a relation from this event to another live event: a change to this event, so it needs this event's " +
        'If-Match. Answers the event with its new ETag; 409 when the relation exists already.\n\n' +
        IDEMPOTENCY_TEXT,
      params: IdParamsSchema,
      headers: IfMatchHeadersSchema.extend(IdempotencyHeadersSchema.shape),
      body: RelationInputSchema,
      response: { 201: EventSchema, ...problemResponses(400, 404, 409, 410, 412, 415, 422, 428) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      return writeLiveEvent(
        request,
        reply,
        id,
        (unit) => addRelation(unit, id, request.body),
        eventAnswer(id, 201, `/v1/events/${id}`),
        { idempotent: true },
      );
    },
  });

  app.delete('/v1/events/:id/relations/:relation/:event_id', {
    schema: {
      operationId: 'deleteEventRelation',
      tags: ['events'],
      summary: 'Remove a relation',
      description:
        "Removes the relation of this kind to event_id. Needs this event's If-Match; answers the event with its new " +
        'ETag.',
      params: RelationParamsSchema,
      headers: IfMatchHeadersSchema,
      response: { 200: EventSchema, ...problemResponses(400, 404, 410, 412, 428) },
    },
    handler: async (request, reply) => {
      const { id, relation, event_id } = request.params;
      return writeLiveEvent(
        request,
        reply,
        id,
        (unit) => removeRelation(unit, id, { relation, event_id }),
        eventAnswer(id),
      );
    },
  });

  app.post('/v1/events/:id/merge', {
    schema: {
      operationId: 'mergeEvent',
      tags: ['events'],
      summary: 'Merge a duplicate into another event',
      description:
        'This event is a duplicate of `into`: its live reports, participants, tags and relations move to `into` (and ' +
        'its external ids, for the sources `into` has none of), and it is deleted with merged_into set, so its GET ' +
        'answers 410 naming the survivor. A write to this event: it needs its If-Match. Both changes are revisions ' +
        'and appear in the change feed. Answers the surviving event.\n\n' +
        IDEMPOTENCY_TEXT,
      params: IdParamsSchema,
      headers: IfMatchHeadersSchema.extend(IdempotencyHeadersSchema.shape),
      body: MergeBodySchema,
      response: { 200: EventSchema, ...problemResponses(400, 404, 410, 412, 415, 422, 428) },
    },
    handler: async (request, reply) => {
      const { id } = request.params;
      const { into, reason } = request.body;
      return writeLiveEvent(
        request,
        reply,
        id,
        (unit) => mergeEvent(unit, id, into, reason ?? null),
        eventAnswer(into, 200, `/v1/events/${into}`),
        { idempotent: true },
      );
    },
  });

  // An event's reports: served here, where the event is at hand; the reports module owns the rest.
  app.get('/v1/events/:id/reports', {
    schema: {
      operationId: 'listEventReports',
      tags: ['reports'],
      summary: "List an event's reports",
      description:
        'The live reports of one event, oldest first. Those of a deleted event need the editor role (403 otherwise).',
      params: IdParamsSchema,
      querystring: EventReportsQuerySchema,
      response: { 200: ReportPageSchema, ...problemResponses(400, 403, 404) },
    },
    handler: async (request, reply) => {
      const event = await eventLiveness(db.pool, request.params.id);
      if (!event) throw notFound('event', request.params.id);
      if (event.deleted) requireDeletedAccess(request, "a deleted event's reports");
      const page = await listReports(db.pool, {
        filters: {},
        eventId: request.params.id,
        sort: 'created',
        ofDeletedEvents: true,
        ...request.query,
      });
      return sendJsonPage(request, reply, page, publicUrl);
    },
  });

  app.post('/v1/events/:id/reports', {
    schema: {
      operationId: 'createEventReport',
      tags: ['reports'],
      summary: 'Add a report to an event',
      description:
        'A new attribution of an existing event: another reporter, or the same one in another document. Actors and ' +
        "documents are given by id, or by name/URL to find or create them. The event's version grows by one " +
        "(If-Match with the event's ETag is optional here: when sent, a stale one is a 412).\n\n" +
        IDEMPOTENCY_TEXT,
      params: IdParamsSchema,
      headers: IfMatchHeadersSchema.extend(IdempotencyHeadersSchema.shape),
      body: ReportInputSchema,
      response: { 201: ReportSchema, ...problemResponses(400, 404, 410, 412, 415, 422, 428) },
    },
    handler: async (request, reply) =>
      writeLiveEvent(
        request,
        reply,
        request.params.id,
        (unit) => addReport(unit, request.params.id, request.body),
        async (tx, id) => resourceResponse(201, await readReport(tx, id), `/v1/reports/${id}`),
        { idempotent: true, optionalIfMatch: true },
      ),
  });
};

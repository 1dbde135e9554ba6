// The query string of GET /v1/events: the filters, the sort, paging, the total
// and the export format.
import { z } from 'zod';
import { CursorParamSchema } from '../../http/pagination.js';
import { QueryBoolean } from '../../http/query-values.js';
import { EventFilterFields, refineEventFilters } from './filters.js';
import { FieldsParamSchema } from './fields.js';

export const EVENT_SORTS = ['-occurred', 'occurred', '-updated', '-created', 'relevance'] as const;
export type EventSort = (typeof EVENT_SORTS)[number];

export const EVENT_FORMATS = ['json', 'csv', 'ndjson', 'geojson', 'acled-csv'] as const;

/** Page size when a JSON request names none; an export without `limit` streams every matching event. */
export const DEFAULT_PAGE_SIZE = 50;

/** The filters, sort and paging of a list or an export. */
const ListFields = {
  ...EventFilterFields,
  sort: z
    .enum(EVENT_SORTS)
    .default('-occurred')
    .describe('-occurred (default), occurred, -updated, -created, or relevance (with q); every order ends on the id'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe(
      `Page size, 1 to 1000; default ${DEFAULT_PAGE_SIZE} for JSON. An export (csv, ndjson, geojson, acled-csv) without limit streams every matching event.`,
    ),
  cursor: CursorParamSchema,
  bom: QueryBoolean.optional().describe(
    'true starts a CSV export (csv, acled-csv) with the UTF-8 byte-order mark, so spreadsheets such as Excel read ' +
      'its ' +
      'non-ASCII text right; a 400 with any other format',
  ),
};

function refineList(query: z.output<z.ZodObject<typeof ListFields>>, ctx: z.RefinementCtx): void {
  refineEventFilters(query, ctx);
  if (query.sort === 'relevance' && !query.q)
    ctx.addIssue({ code: 'custom', path: ['sort'], message: 'sort=relevance needs q' });
}

export const EventListQuerySchema = z
  .strictObject({
    ...ListFields,
    fields: FieldsParamSchema.optional(),
    count: QueryBoolean.optional().describe('true adds `total`, the number of matching events (costs a count)'),
    format: z
      .enum(EVENT_FORMATS)
      .optional()
      .describe(
        'Representation, instead of the Accept header: json, csv, ndjson, geojson, or acled-csv (text/csv in the ' +
          'columns of ' +
          "ACLED's codebook, see docs/acled.md; only by this parameter, since text/csv in Accept means csv)",
      ),
  })
  .superRefine(refineList);

export type EventListQuery = z.output<typeof EventListQuerySchema>;

/** The query string of the CSV export operations (GET /v1/events.csv, ...): a list's, the format being in the path. */
export const EventExportQuerySchema = z.strictObject(ListFields).superRefine(refineList);

/**
 * The query string of the NDJSON and GeoJSON export operations: an export's, with a sparse fieldset (a CSV's columns
 * are fixed).
 */
export const EventFieldsExportQuerySchema = z
  .strictObject({ ...ListFields, fields: FieldsParamSchema.optional() })
  .superRefine(refineList);

// Wire format of history: an event's revisions, and the change feed across resources.
import { z } from 'zod';
import { LimitSchema, CursorParamSchema } from '../../http/pagination.js';
import { commaList } from '../../http/query-values.js';
import { EventSchema } from '../events/schemas.js';
import { ACTIONS, RESOURCES } from './record.js';

export const ChangeActionSchema = z.enum(ACTIONS).meta({ id: 'ChangeAction' });

export const EventRevisionSchema = z
  .object({
    version: z.number().int().min(1),
    action: ChangeActionSchema,
    author: z.string().describe('Who made the change: the API key\'s principal, or "anonymous"'),
    at: z.iso.datetime().describe('When the change was made: the updated_at of that version'),
    changed_fields: z
      .array(z.string())
      .describe('Fields whose value differs from the previous version (every field of the first)'),
    state: EventSchema.describe('The whole event as it stood after the change'),
  })
  .meta({ id: 'EventRevision' });

export const EventRevisionPageSchema = z
  .object({
    data: z.array(EventRevisionSchema),
    next_cursor: z.string().nullable().describe('Cursor of the next page, null on the last page'),
  })
  .meta({ id: 'EventRevisionPage' });

export const RevisionListQuerySchema = z.strictObject({ limit: LimitSchema, cursor: CursorParamSchema });

/** The feed's cursor: the seq of the last change served, written as a decimal number. */
const SEQ = /^\d{1,18}$/;
const SinceSchema = z
  .string()
  .regex(SEQ, 'must be a next_cursor returned by this endpoint')
  .optional()
  .describe('The next_cursor of a previous page; leave out to start from the first change');

export const ChangeListQuerySchema = z.strictObject({ since: SinceSchema, limit: LimitSchema });

export const ChangeSchema = z
  .object({
    seq: z.number().int().min(1).describe('Position in commit order; grows with every change'),
    resource: z.enum(RESOURCES),
    id: z.uuid(),
    action: ChangeActionSchema,
    version: z.number().int().min(1).describe('The version the change produced: GET the resource for its state'),
    at: z.iso.datetime(),
  })
  .meta({ id: 'Change' });

export const ChangePageSchema = z
  .object({
    data: z.array(ChangeSchema),
    next_cursor: z
      .string()
      .describe('Pass as since to read on; a page with no changes returns the same cursor, to poll again'),
  })
  .meta({ id: 'ChangePage' });

export const ChangeResourceSchema = z.enum(RESOURCES).meta({ id: 'ChangeResource' });

export const ChangeStreamQuerySchema = z.strictObject({
  since: z
    .string()
    .regex(SEQ, 'must be the seq of a change (an event id of this stream, a next_cursor of GET /v1/changes), or 0')
    .optional()
    .describe(
      'Start after this seq: a next_cursor of GET /v1/changes, the id of the last event received, or 0 for the whole ' +
        'feed. ' +
        'Leave out to receive only changes from now on. The Last-Event-ID header, when sent, wins.',
    ),
  resource: commaList(ChangeResourceSchema, 'Only changes of these resources').optional(),
});

export const ChangeStreamHeadersSchema = z.object({
  'last-event-id': z
    .string()
    .regex(SEQ, 'must be the id of an event of this stream')
    .optional()
    .describe(
      'The id of the last event received: the stream resumes with the change after it (EventSource sends it when it ' +
        'reconnects)',
    ),
});

// Wire format of history: an event's revisions, and the change feed across resources.
import { z } from 'zod';
import { LimitSchema, CursorParamSchema } from '../../http/pagination.js';
import { EventSchema } from '../events/schemas.js';
import { ACTIONS, RESOURCES } from './record.js';

export const ChangeActionSchema = z.enum(ACTIONS).meta({ id: 'ChangeAction' });

export const EventRevisionSchema = z
  .object({
    version: z.number().int().min(1),
    action: ChangeActionSchema,
    author: z.string().describe('Who made the change: the API key\'s principal, or "anonymous"'),
    at: z.iso.datetime().describe('When the change was made: the updated_at of that version'),
    changed_fields: z.array(z.string()).describe('Fields whose value differs from the previous version (every field of the first)'),
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
const SinceSchema = z
  .string()
  .regex(/^\d{1,18}$/, 'must be a next_cursor returned by this endpoint')
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
    next_cursor: z.string().describe('Pass as since to read on; a page with no changes returns the same cursor, to poll again'),
  })
  .meta({ id: 'ChangePage' });

// The request headers of writes, declared so the OpenAPI document shows them, and the body of
// every soft delete (an event's, a report's).
// Both headers are optional to the validator: a missing If-Match is a 428 (preconditions.ts), not a 400.
import { z } from 'zod';

export const IfMatchHeadersSchema = z.object({
  'if-match': z
    .string()
    .optional()
    .describe(
      'Required: the ETag of the version you read, such as "3" (428 without it, 412 when it is no longer current)',
    ),
});

export const IdempotencyHeadersSchema = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .describe('A key of your choosing (1 to 255 visible ASCII characters, such as a UUID) that makes a retry safe'),
});

export const IDEMPOTENCY_TEXT =
  'With an Idempotency-Key, a retry with the same key and body returns the first response (same status, body and id, ' +
  'with the header Idempotent-Replayed: true) for at least 24 hours, even when the retries race; the same key with ' +
  'another request is a 422.';

/** The media types a PATCH body may be sent as (RFC 7396's own, or plain JSON). */
export const MERGE_PATCH_TYPES = ['application/merge-patch+json', 'application/json'];

export const DeleteBodySchema = z
  .strictObject({ reason: z.string().trim().min(1).max(2000).optional() })
  // Fastify hands a request without a body to validation as null.
  .nullish()
  .meta({ id: 'DeleteRequest', description: 'Why the record is withdrawn; kept in its tombstone and revision' });

// The page envelope shared by every list: `{ data, next_cursor }` plus an RFC 8288
// Link header pointing at the next page with the same query.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

export const LimitSchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .default(50)
  .describe('Page size, 1 to 1000');

export const CursorParamSchema = z
  .string()
  .min(1)
  .max(2000)
  .optional()
  .describe('Opaque cursor from a previous page\'s next_cursor');

export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      data: z.array(item),
      next_cursor: z.string().nullable().describe('Cursor of the next page, null on the last page'),
    })
    .meta({ id });
}

/** Sets the Link header for the next page, built from the request's own query string. */
export function linkNext(request: FastifyRequest, reply: FastifyReply, nextCursor: string | null, baseUrl?: string): void {
  if (!nextCursor) return;
  const url = new URL(request.url, baseUrl ?? `${request.protocol}://${request.host}`);
  url.searchParams.set('cursor', nextCursor);
  reply.header('link', `<${url.toString()}>; rel="next"`);
}

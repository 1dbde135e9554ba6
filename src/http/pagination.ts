// The page envelope shared by every list: `{ data, next_cursor }` plus an RFC 8288
// Link header pointing at the next page with the same query.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { publicOrigin } from './proxies.js';

export const LimitSchema = z.coerce.number().int().min(1).max(1000).default(50).describe('Page size, 1 to 1000');

export const CursorParamSchema = z
  .string()
  .min(1)
  .max(2000)
  .optional()
  .describe("Opaque cursor from a previous page's next_cursor");

export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      data: z.array(item),
      next_cursor: z.string().nullable().describe('Cursor of the next page, null on the last page'),
    })
    .meta({ id });
}

/** A path parameter that must be a UUID, as every resource id is. */
export const IdParamsSchema = z.object({ id: z.uuid() });

/**
 * The page envelope for `rows`, with the Link header for the next page built from
 * the request's own query string (so the next page keeps the same filters).
 */
export function pageReply<Row, Wire>(
  request: FastifyRequest,
  reply: FastifyReply,
  page: { rows: Row[]; nextCursor: string | null },
  toWire: (row: Row) => Wire,
  baseUrl?: string,
): { data: Wire[]; next_cursor: string | null } {
  linkNext(request, reply, page.nextCursor, baseUrl);
  return { data: page.rows.map(toWire), next_cursor: page.nextCursor };
}

/**
 * Sets `Link: <...>; rel="next"` to this request's URL with the next cursor, when there is a next page:
 * absolute on PUBLIC_URL or the request's origin (publicOrigin), relative when the Host sent is not one
 * a link may carry. The URL serialiser percent-encodes what could end the link (<, >, quotes, spaces).
 */
export function linkNext(
  request: FastifyRequest,
  reply: FastifyReply,
  nextCursor: string | null,
  baseUrl?: string,
): void {
  if (!nextCursor) return;
  const origin = publicOrigin(request, baseUrl);
  const url = new URL(request.url, origin ?? 'http://relative.invalid');
  url.searchParams.set('cursor', nextCursor);
  reply.header('link', `<${origin ? url.toString() : url.pathname + url.search}>; rel="next"`);
}

const PAGE_HEAD = Buffer.from('{"data":[');
const COMMA = Buffer.from(',');

/**
 * Sends a page whose items are already JSON text (stored, or built by PostgreSQL), as strings or
 * as UTF-8 bytes: they are joined into the envelope, not parsed and serialised again. `extra`
 * adds members.
 */
export function sendJsonPage(
  request: FastifyRequest,
  reply: FastifyReply,
  page: { items: (string | Buffer)[]; nextCursor: string | null },
  baseUrl?: string,
  extra: Record<string, unknown> = {},
) {
  linkNext(request, reply, page.nextCursor, baseUrl);
  const members = Object.entries(extra).map(([key, value]) => `,${JSON.stringify(key)}:${JSON.stringify(value)}`);
  const parts: Buffer[] = [PAGE_HEAD];
  page.items.forEach((item, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(typeof item === 'string' ? Buffer.from(item, 'utf8') : item);
  });
  // Ends with the newline every JSON answer ends with (json-output.ts), here so the page is not copied again to add it.
  parts.push(Buffer.from(`],"next_cursor":${JSON.stringify(page.nextCursor)}${members.join('')}}\n`, 'utf8'));
  return sendJson(reply, Buffer.concat(parts));
}

/**
 * Sends JSON that is already text (stored, or built by PostgreSQL) as it is, past the schema
 * serialiser, encoded to UTF-8 once here: given a string, the reply would scan it once for its
 * byte length and encode it again when writing, which took about a third of the service's CPU
 * on 50-event pages (about 170 KB each) under load.
 */
export function sendJsonText(reply: FastifyReply, json: string) {
  return sendJson(reply, Buffer.from(`${json}\n`, 'utf8'));
}

function sendJson(reply: FastifyReply, json: Buffer) {
  return reply
    .type('application/json; charset=utf-8')
    .serializer((payload) => payload as string)
    .send(json);
}

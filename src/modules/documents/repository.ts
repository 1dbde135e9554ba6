// Data access for documents. Find-or-create by URL is one INSERT ... ON CONFLICT,
// so concurrent writers citing the same new article end with one row.
import type { z } from 'zod';
import type { Document as DocumentRow, Prisma } from '../../generated/prisma/client.js';
import type { PrismaHandle, Transaction } from '../../db/client.js';
import { uuidv7 } from '../../db/uuid.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import type { DocumentByUrl, DocumentListQuerySchema, DocumentSchema, DocumentSummarySchema } from './schemas.js';

/** The find-or-create key: the URL as the WHATWG parser writes it, without its fragment. */
export function normaliseUrl(url: string): string {
  const parsed = new URL(url);
  parsed.hash = '';
  return parsed.toString();
}

const toDateTime = (value: string | null | undefined) => (value ? new Date(value) : null);

export function toDocumentSummary(row: DocumentRow): z.infer<typeof DocumentSummarySchema> {
  return {
    id: row.id,
    url: row.url,
    title: row.title,
    publisher: row.publisher,
    published_at: row.publishedAt?.toISOString() ?? null,
  };
}

export function toDocument(row: DocumentRow): z.infer<typeof DocumentSchema> {
  return {
    ...toDocumentSummary(row),
    language: row.language,
    archive_url: row.archiveUrl,
    content_hash: row.contentHash,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export async function findOrCreateDocument(
  db: PrismaHandle,
  input: DocumentByUrl,
  author: string,
): Promise<{ document: DocumentRow; created: boolean }> {
  const url = normaliseUrl(input.url);
  const inserted = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO documents (id, url, title, publisher, published_at, language, archive_url, content_hash, created_by, updated_by)
    VALUES (${uuidv7()}::uuid, ${url}, ${input.title ?? null}, ${input.publisher ?? null}, ${toDateTime(input.published_at)},
            ${input.language ?? null}, ${input.archive_url ?? null}, ${input.content_hash ?? null}, ${author}, ${author})
    ON CONFLICT (url) DO NOTHING
    RETURNING id`;
  const document = await db.document.findUniqueOrThrow({ where: inserted[0] ? { id: inserted[0].id } : { url } });
  return { document, created: inserted.length > 0 };
}

export async function getDocument(db: PrismaHandle, id: string): Promise<DocumentRow | null> {
  return db.document.findUnique({ where: { id } });
}

const SORT = '-created';

/** Documents newest first (ids are time-ordered UUIDv7, so the id is the sort key). */
export async function listDocuments(db: PrismaHandle, query: z.infer<typeof DocumentListQuerySchema>) {
  const after = query.cursor ? decodeCursor(query.cursor, SORT, (key) => key === null) : null;
  // Prisma passes `contains` to LIKE as it is: escape the wildcards so q is matched literally.
  const q = query.q?.replace(/[\\%_]/g, (c) => `\\${c}`);
  const where: Prisma.DocumentWhereInput = {
    ...(query.publisher ? { publisher: query.publisher } : {}),
    ...(q
      ? { OR: [{ title: { contains: q, mode: 'insensitive' } }, { url: { contains: q, mode: 'insensitive' } }] }
      : {}),
    ...(after ? { id: { lt: after.id } } : {}),
  };
  const rows = await db.document.findMany({ where, orderBy: { id: 'desc' }, take: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > query.limit && last ? encodeCursor({ sort: SORT, key: null, id: last.id }) : null;
  return { rows: page, nextCursor };
}

/**
 * Finds or creates the documents given by URL, as findOrCreateDocument does, in two statements:
 * the first mention's fields (first in `refs`) make a new document. Returns the ids by normalised
 * URL, and the ids of the documents it created.
 */
export async function findOrCreateDocuments(
  tx: Transaction,
  author: string,
  refs: Iterable<DocumentByUrl>,
): Promise<{ ids: Map<string, string>; created: string[] }> {
  const wanted = new Map<string, DocumentByUrl>();
  for (const ref of refs) if (!wanted.has(normaliseUrl(ref.url))) wanted.set(normaliseUrl(ref.url), ref);
  const ids = new Map<string, string>();
  if (wanted.size === 0) return { ids, created: [] };
  const rows = [...wanted].map(([url, ref]) => ({
    id: uuidv7(),
    url,
    title: ref.title ?? null,
    publisher: ref.publisher ?? null,
    published_at: ref.published_at ? new Date(ref.published_at).toISOString() : null,
    language: ref.language ?? null,
    archive_url: ref.archive_url ?? null,
    content_hash: ref.content_hash ?? null,
  }));
  const inserted = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO documents (id, url, title, publisher, published_at, language, archive_url, content_hash, created_by, updated_by)
    SELECT id, url, title, publisher, published_at, language, archive_url, content_hash, ${author}, ${author}
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(id uuid, url text, title text, publisher text,
      published_at timestamptz, language text, archive_url text, content_hash text)
    ORDER BY url
    ON CONFLICT (url) DO NOTHING
    RETURNING id`;
  const found = await tx.$queryRaw<{ id: string; url: string }[]>`
    SELECT id, url FROM documents WHERE url = ANY(${rows.map((row) => row.url)}::text[])`;
  for (const row of found) ids.set(row.url, row.id);
  return { ids, created: inserted.map((row) => row.id) };
}

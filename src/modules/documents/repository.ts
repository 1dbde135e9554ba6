// Data access for documents. Find-or-create by URL is one INSERT ... ON CONFLICT,
// so concurrent writers citing the same new article end with one row.
import type { z } from 'zod';
import type { Document as DocumentRow, Prisma } from '../../generated/prisma/client.js';
import type { PrismaClient, Transaction } from '../../db/client.js';
import { uuidv7 } from '../../db/uuid.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import type { DocumentByUrl, DocumentListQuerySchema, DocumentSchema, DocumentSummarySchema } from './schemas.js';

type Db = PrismaClient | Transaction;

/** The find-or-create key: the URL as the WHATWG parser writes it, without its fragment. */
export function normaliseUrl(url: string): string {
  const parsed = new URL(url);
  parsed.hash = '';
  return parsed.toString();
}

const toDateTime = (value: string | null | undefined) => (value ? new Date(value) : null);

export function toDocumentSummary(row: DocumentRow): z.infer<typeof DocumentSummarySchema> {
  return { id: row.id, url: row.url, title: row.title, publisher: row.publisher, published_at: row.publishedAt?.toISOString() ?? null };
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
  db: Db,
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

export async function getDocument(db: Db, id: string): Promise<DocumentRow | null> {
  return db.document.findUnique({ where: { id } });
}

const SORT = '-created';

/** Documents newest first (ids are time-ordered UUIDv7, so the id is the sort key). */
export async function listDocuments(db: Db, query: z.infer<typeof DocumentListQuerySchema>) {
  const after = query.cursor ? decodeCursor(query.cursor, SORT, (key) => key === null) : null;
  // Prisma passes `contains` to LIKE as it is: escape the wildcards so q is matched literally.
  const q = query.q?.replace(/[\\%_]/g, (c) => `\\${c}`);
  const where: Prisma.DocumentWhereInput = {
    ...(query.publisher ? { publisher: query.publisher } : {}),
    ...(q ? { OR: [{ title: { contains: q, mode: 'insensitive' } }, { url: { contains: q, mode: 'insensitive' } }] } : {}),
    ...(after ? { id: { lt: after.id } } : {}),
  };
  const rows = await db.document.findMany({ where, orderBy: { id: 'desc' }, take: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > query.limit && last ? encodeCursor({ sort: SORT, key: null, id: last.id }) : null;
  return { rows: page, nextCursor };
}

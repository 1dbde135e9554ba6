// Wire format of documents: where a report was read.
import { z } from 'zod';
import { CursorParamSchema, LimitSchema, pageOf } from '../../http/pagination.js';

export const HttpUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).max(2000);

const OptionalText = (max: number) => z.string().trim().min(1).max(max).nullish();

export const DocumentByIdSchema = z
  .strictObject({ id: z.uuid() })
  .meta({ id: 'DocumentById', description: 'An existing document, by id' });

export const DocumentByUrlSchema = z
  .strictObject({
    url: HttpUrlSchema,
    title: OptionalText(1000),
    publisher: OptionalText(300),
    published_at: z
      .union([z.iso.datetime({ offset: true }), z.iso.date()])
      .nullish()
      .describe('Date-time, or a date taken as midnight UTC'),
    language: z
      .string()
      .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a BCP 47 language tag such as en or uk')
      .nullish(),
    archive_url: HttpUrlSchema.nullish(),
    content_hash: z
      .string()
      .regex(/^[a-z0-9]+:[A-Za-z0-9+/=_-]+$/, 'must look like sha256:<digest>')
      .max(200)
      .nullish(),
  })
  .meta({
    id: 'DocumentByUrl',
    description:
      'A document by URL: the document with the same URL (fragment ignored) is used, or created with these fields',
  });

export const DocumentRefSchema = z
  .union([DocumentByIdSchema, DocumentByUrlSchema])
  .meta({ id: 'DocumentRef', description: 'Reference to a document in a write: { id } or { url, ... }' });

export type DocumentRef = z.infer<typeof DocumentRefSchema>;
export type DocumentByUrl = z.infer<typeof DocumentByUrlSchema>;

export const DocumentSummarySchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    title: z.string().nullable(),
    publisher: z.string().nullable(),
    published_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'DocumentSummary', description: 'A document as embedded in reports' });

export const DocumentSchema = DocumentSummarySchema.extend({
  language: z.string().nullable(),
  archive_url: z.string().nullable(),
  content_hash: z.string().nullable(),
  version: z.number().int().min(1),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
}).meta({
  id: 'Document',
  description: 'Where a report was read: an article, an official statement, a social-media post',
  example: {
    id: '0193f1a0-7c1e-7b7a-9d51-3f2a1c0b9e02',
    url: 'https://news.example.org/2024/12/north-korean-soldier-dies-in-custody',
    title: 'First North Korean soldier captured by Ukraine dies in custody',
    publisher: 'Example News',
    published_at: '2024-12-29T09:30:00.000Z',
    language: 'en',
    archive_url: null,
    content_hash: null,
    version: 1,
    created_at: '2025-01-04T10:00:00.000Z',
    updated_at: '2025-01-04T10:00:00.000Z',
  },
});

export const DocumentPageSchema = pageOf(DocumentSchema, 'DocumentPage');

export const DocumentListQuerySchema = z.strictObject({
  q: z.string().trim().min(1).max(200).optional().describe('Case-insensitive search in titles and URLs'),
  publisher: z.string().trim().min(1).max(300).optional().describe('Exact publisher name'),
  limit: LimitSchema,
  cursor: CursorParamSchema,
});

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../http/errors.js';
import { isNotModified } from '../../http/etag.js';
import { IdParamsSchema, pageReply } from '../../http/pagination.js';
import { authorOf } from '../../http/auth.js';
import { problemResponses } from '../../http/problem-details.js';
import { IdempotencyHeadersSchema, IDEMPOTENCY_TEXT } from '../../http/write-headers.js';
import { type ModuleDeps } from '../deps.js';
import { idempotencyClaim, resourceResponse, respondToWrite, sendWrite } from '../../write/run.js';
import { findOrCreateDocument, getDocument, listDocuments, toDocument } from './repository.js';
import { DocumentByUrlSchema, DocumentListQuerySchema, DocumentPageSchema, DocumentSchema } from './schemas.js';

export const documentRoutes: FastifyPluginAsyncZod<ModuleDeps> = async (app, { db, publicUrl }) => {
  app.get('/v1/documents', {
    schema: {
      operationId: 'listDocuments',
      tags: ['documents'],
      summary: 'List documents',
      description: 'Documents, newest first. `q` searches titles and URLs.',
      querystring: DocumentListQuerySchema,
      response: { 200: DocumentPageSchema, ...problemResponses(400) },
    },
    handler: async (request, reply) => {
      return pageReply(request, reply, await listDocuments(db.prisma, request.query), toDocument, publicUrl);
    },
  });

  app.post('/v1/documents', {
    schema: {
      operationId: 'createDocument',
      tags: ['documents'],
      summary: 'Create a document, or find the existing one',
      description:
        'Finds the document with the same URL (the fragment is ignored), or creates it. Answers 201 when created and ' +
        '200 with the existing document otherwise; an existing document is not modified.\n\n' +
        IDEMPOTENCY_TEXT,
      headers: IdempotencyHeadersSchema,
      body: DocumentByUrlSchema,
      response: { 200: DocumentSchema, 201: DocumentSchema, ...problemResponses(400, 415, 422) },
    },
    handler: async (request, reply) => {
      const idempotency = idempotencyClaim(request, authorOf(request));
      const response = await respondToWrite(
        db,
        { author: authorOf(request), idempotency },
        async (unit) => {
          const found = await findOrCreateDocument(unit.tx, request.body, unit.author);
          if (found.created) unit.changed('document', found.document.id, 'created');
          return found;
        },
        (_tx, { document, created }) =>
          resourceResponse(
            created ? 201 : 200,
            { json: JSON.stringify(toDocument(document)), version: document.version },
            `/v1/documents/${document.id}`,
          ),
      );
      return sendWrite(reply, response);
    },
  });

  app.get('/v1/documents/:id', {
    schema: {
      operationId: 'getDocument',
      tags: ['documents'],
      summary: 'Get one document',
      description:
        "The answer's ETag is the document's version: send it as If-None-Match to get 304 while it is unchanged.",
      params: IdParamsSchema,
      response: { 200: DocumentSchema, 304: z.undefined().describe('Not modified'), ...problemResponses(400, 404) },
    },
    handler: async (request, reply) => {
      const document = await getDocument(db.prisma, request.params.id);
      if (!document) throw notFound('document', request.params.id);
      if (isNotModified(request, reply, document.version)) return reply.code(304).send();
      return toDocument(document);
    },
  });
};

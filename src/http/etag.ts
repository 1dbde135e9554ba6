// Strong ETags from resource versions: `"<version>"`. A matching If-None-Match
// answers 304 so dashboards can poll single records cheaply.
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * `"<version>"`; a partial representation of that version (a sparse fieldset) adds its tag, `"<version>-<tag>"`,
 * so that a cache never answers one selection with another.
 */
export function etagOf(version: number, variant?: string): string {
  return variant ? `"${version}-${variant}"` : `"${version}"`;
}

/** Sets the ETag; returns true when the client's copy is current (the caller then sends 304). */
export function isNotModified(
  request: FastifyRequest,
  reply: FastifyReply,
  version: number,
  variant?: string,
): boolean {
  const etag = etagOf(version, variant);
  reply.header('etag', etag);
  const header = request.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

// Strong ETags from resource versions: `"<version>"`. A matching If-None-Match
// answers 304 so dashboards can poll single records cheaply.
import type { FastifyReply, FastifyRequest } from 'fastify';

export function etagOf(version: number): string {
  return `"${version}"`;
}

/** Sets the ETag; returns true when the client's copy is current (the caller then sends 304). */
export function isNotModified(request: FastifyRequest, reply: FastifyReply, version: number): boolean {
  const etag = etagOf(version);
  reply.header('etag', etag);
  const header = request.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

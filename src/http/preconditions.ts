// If-Match on writes to existing resources (RFC 9110 13.1.1): the client proves it
// read the version it is changing, so two editors cannot silently overwrite each other.
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { etagOf } from './etag.js';

/** What the client's If-Match accepts: any current version (`*`), or these versions. */
export type ExpectedVersion = '*' | number[];

/**
 * The If-Match of a write; 428 when it is missing. Weak tags never match (strong comparison). The ETag of a
 * sparse read (`"<version>-<tag>"`, etag.ts) names the version it was read at, so it is accepted as that version.
 */
export function requireIfMatch(request: FastifyRequest, what: string): ExpectedVersion {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '') {
    throw new ApiError(
      'precondition-required',
      `Changing a ${what} needs an If-Match header with the ETag you read (GET it first), so a concurrent change is not overwritten.`,
    );
  }
  if (header.trim() === '*') return '*';
  return header.split(',').flatMap((tag) => {
    const match = /^"(\d{1,9})(?:-[0-9a-f]{8})?"$/.exec(tag.trim());
    return match ? [Number(match[1])] : [];
  });
}

/** The If-Match of a write where it is optional (adding to a resource): undefined when absent. */
export function optionalIfMatch(request: FastifyRequest, what: string): ExpectedVersion | undefined {
  return request.headers['if-match'] === undefined ? undefined : requireIfMatch(request, what);
}

/** 412 unless the current version is one the client expects; the problem and ETag carry the current version. */
export function assertVersion(expected: ExpectedVersion | undefined, current: number, what: string): void {
  if (expected === undefined || expected === '*' || expected.includes(current)) return;
  throw new ApiError(
    'precondition-failed',
    `The ${what} has changed since you read it: it is now at version ${current}. GET it again.`,
    {
      headers: { etag: etagOf(current) },
      extra: { current_version: current },
    },
  );
}

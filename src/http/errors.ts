// Typed errors thrown by the domain and the HTTP layer. The error handler
// (problem-details.ts) turns each into an RFC 9457 problem+json response.

/** One violation of a request, located by a JSON pointer into the part it came from. */
export interface Violation {
  path: string;
  message: string;
  /** Which part of the request the pointer refers to. */
  in?: 'body' | 'query' | 'path' | 'header';
}

/** The kinds of problem the API answers with; each has a stable type URI and title. */
export const PROBLEMS = {
  'malformed-request': { status: 400, title: 'Malformed request' },
  'invalid-input': { status: 400, title: 'Invalid input' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'not-acceptable': { status: 406, title: 'Not acceptable' },
  'request-timeout': { status: 408, title: 'Request timeout' },
  conflict: { status: 409, title: 'Conflict' },
  gone: { status: 410, title: 'Gone' },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'uri-too-long': { status: 414, title: 'URI too long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'rule-violation': { status: 422, title: 'Rule violation' },
  'precondition-required': { status: 428, title: 'Precondition required' },
  'headers-too-large': { status: 431, title: 'Request header fields too large' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'internal-error': { status: 500, title: 'Internal server error' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
  'query-timeout': { status: 503, title: 'Query timeout' },
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

export function problemType(kind: ProblemKind): string {
  return `/problems/${kind}`;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly options: { errors?: Violation[]; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.name = 'ApiError';
    this.status = PROBLEMS[kind].status;
  }
}

export const notFound = (what: string, id: string) => new ApiError('not-found', `No ${what} has the id ${id}.`);

export const invalidInput = (errors: Violation[], detail = 'The request has invalid values; see errors.') =>
  new ApiError('invalid-input', detail, { errors });

export const ruleViolation = (detail: string, errors?: Violation[]) =>
  new ApiError('rule-violation', detail, errors ? { errors } : {});

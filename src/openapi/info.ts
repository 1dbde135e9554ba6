// The OpenAPI document's front matter: what the service is, how it pages, how it fails.
import { PROBLEMS, problemType } from '../http/errors.js';

const problemList = Object.entries(PROBLEMS)
  .map(([kind, { status, title }]) => `| ${status} | \`${problemType(kind as keyof typeof PROBLEMS)}\` | ${title} |`)
  .join('\n');

export const OPENAPI_INFO = {
  info: {
    title: 'Conflict-event records API',
    version: '0.1.0',
    description: [
      'Conflict-event records that keep every claim side by side. An **event** says what happened; its **reports** ' +
        'say who',
      'claims so, through whom (`via`, nearest first), in which **document**, with what stance, Admiralty grading ' +
        'and figures.',
      '',
      '**Wire format.** snake_case JSON; `occurred` dates are calendar dates (YYYY-MM-DD); timestamps are UTC ISO ' +
        '8601.',
      '',
      '**Pagination.** Lists answer `{ data, next_cursor }` and a `Link: <...>; rel="next"` header. Pass ' +
        '`next_cursor` back',
      'as `cursor` with the same filters; a cursor is opaque, stays valid while data changes, and a tampered one is ' +
        'a 400.',
      '',
      '**Writes and history.** Every single-resource response carries `ETag: "<version>"`; `If-None-Match` gives ' +
        '304. Writes to an',
      'existing resource (PATCH, DELETE, relations, merge) need `If-Match` with that ETag: 428 without it, 412 (with ' +
        'the current',
      'version) when another change came first. PATCH bodies are JSON merge patches (RFC 7396, ' +
        '`application/merge-patch+json` or',
      '`application/json`). Deletes are soft. Every change is a revision (`/v1/events/{id}/revisions`, `?as_of=`) ' +
        'and an entry of',
      'the change feed (`/v1/changes`, in commit order). POSTs take an `Idempotency-Key` to make retries safe.',
      '',
      '**Access and limits.** Writes need an API key (`Authorization: Bearer <key>`, see the bearerAuth scheme): 401 ' +
        'without a',
      'valid one, 403 when its role is too low. Each key, and each address without one, has a request rate per minute:',
      '`RateLimit` and `RateLimit-Policy` headers say where it stands, and the excess gets 429 with `Retry-After`.',
      '',
      '**Errors.** Every error is `application/problem+json` (RFC 9457) with a stable `type`. Validation failures ' +
        'list each',
      'violation in `errors` as `{ path, message, in }`, where `path` is a JSON pointer into the part named by `in`.',
      '',
      '| status | type | title |',
      '|---|---|---|',
      problemList,
    ].join('\n'),
    // Not an SPDX-listed license: SPDX names such a one with a LicenseRef- identifier.
    license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
  },
  // The origin that serves this document: the committed file fits every deployment (PUBLIC_URL, proxies, ports).
  servers: [{ url: '/', description: 'The origin that serves this document' }],
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http' as const,
        scheme: 'bearer',
        description:
          'An API key: `Authorization: Bearer cek_...`. Roles: reader (GET), editor (writes), admin (API keys). ' +
          'Reads need no key unless the service runs with READ_ACCESS=key.',
      },
    },
  },
  tags: [
    { name: 'events', description: 'What happened, with every report that attributes it' },
    { name: 'reports', description: 'Who says so: one attribution of an event each' },
    { name: 'actors', description: 'Named parties: states, forces, agencies, people, outlets, unnamed groups' },
    { name: 'documents', description: 'Where reports were read' },
    { name: 'event types', description: 'The controlled vocabulary of event types' },
    { name: 'imports', description: 'Events loaded in bulk from NDJSON, with a report of every line' },
    {
      name: 'stats',
      description: 'Aggregates for dashboards: counts and figure sums grouped, and claims side by side',
    },
    {
      name: 'changes',
      description: 'The change feed: every create, update and delete in commit order, to mirror the data set',
    },
    { name: 'operations', description: 'Health and readiness' },
    { name: 'api keys', description: 'Who may read and write (admins only)' },
  ],
};

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
      'Conflict-event records that keep every claim side by side. An **event** says what happened; its **reports** say who',
      'claims so, through whom (`via`, nearest first), in which **document**, with what stance, Admiralty grading and figures.',
      '',
      '**Wire format.** snake_case JSON; `occurred` dates are calendar dates (YYYY-MM-DD); timestamps are UTC ISO 8601.',
      '',
      '**Pagination.** Lists answer `{ data, next_cursor }` and a `Link: <...>; rel="next"` header. Pass `next_cursor` back',
      'as `cursor` with the same filters; a cursor is opaque, stays valid while data changes, and a tampered one is a 400.',
      '',
      '**Errors.** Every error is `application/problem+json` (RFC 9457) with a stable `type`. Validation failures list each',
      'violation in `errors` as `{ path, message, in }`, where `path` is a JSON pointer into the part named by `in`.',
      '',
      '| status | type | title |',
      '|---|---|---|',
      problemList,
    ].join('\n'),
    license: { name: 'Proprietary' },
  },
  tags: [
    { name: 'events', description: 'What happened, with every report that attributes it' },
    { name: 'reports', description: 'Who says so: one attribution of an event each' },
    { name: 'actors', description: 'Named parties: states, forces, agencies, people, outlets, unnamed groups' },
    { name: 'documents', description: 'Where reports were read' },
    { name: 'event types', description: 'The controlled vocabulary of event types' },
    { name: 'operations', description: 'Health and readiness' },
  ],
};

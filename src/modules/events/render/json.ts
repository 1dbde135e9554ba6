// The Event wire format built by PostgreSQL in one expression (with its live
// reports). refreshEvent stores it in events.rendered after every write, and reads
// fall back to it for an event not rendered yet; one expression instead of the ORM's
// query per relation, which cost about half the throughput (PRISMA-OFFLINE.md).
// Must produce exactly EventSchema; the tests parse every event they read.
// EVENT_MEMBERS is the one list of the event's members: the JSON, the members a sparse
// fieldset reads from the row, the columns a create inserts and the members an import
// drops from a served event are all made from it.
import { ACTOR_SUMMARY_JSON, figuresJson, isoTimestamp } from '../../../db/sql.js';
import { REPORT_JSON } from '../../reports/json-sql.js';
import { INDEPENDENT_REPORTERS, REPORT_COUNT } from '../evidence.js';

/**
 * A member of the event's JSON, by path (`location.lat`): a column of the event row `e` (with the
 * expression that writes it, when not the column itself), or an expression over other rows; `served`
 * when the server alone writes it (derived, or kept by the server), so a client's body never has it.
 */
type Member = { path: string; served?: boolean } & ({ column: string; json?: string } | { sql: string });

const column = (path: string, name = path, options: { json?: string; served?: boolean } = {}): Member => ({
  path,
  column: name,
  ...options,
});
const timestamp = (path: string): Member => column(path, path, { json: isoTimestamp(`e.${path}`), served: true });

/** The members of the event's JSON, in the order it is written. */
const EVENT_MEMBERS: Member[] = [
  column('id', 'id', { served: true }),
  column('type'),
  column('title'),
  column('description'),
  column('status'),
  column('status_source', 'status_source', { served: true }),
  { path: 'report_count', sql: REPORT_COUNT, served: true },
  { path: 'independent_reporter_count', sql: INDEPENDENT_REPORTERS, served: true },
  column('occurred.start', 'occurred_start'),
  column('occurred.end', 'occurred_end'),
  column('occurred.precision', 'occurred_precision'),
  column('location.name', 'location_name'),
  column('location.admin1', 'admin1'),
  column('location.admin2', 'admin2'),
  column('location.admin3', 'admin3'),
  column('location.country', 'country'),
  column('location.lat', 'lat'),
  column('location.lon', 'lon'),
  column('location.precision', 'location_precision'),
  {
    path: 'participants',
    sql: `COALESCE((
    SELECT json_agg(json_build_object('actor', ${ACTOR_SUMMARY_JSON}, 'role', p.role) ORDER BY p.position)
    FROM participants p JOIN actors a ON a.id = p.actor_id WHERE p.event_id = e.id
  ), '[]'::json)`,
  },
  { path: 'figures', sql: figuresJson('event_id = e.id', true) },
  {
    path: 'reports',
    sql: `COALESCE((
    SELECT json_agg(${REPORT_JSON} ORDER BY r.id) FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL
  ), '[]'::json)`,
  },
  column('tags', 'tags', { json: 'to_json(e.tags)' }),
  {
    path: 'external_ids',
    sql: `COALESCE((
    SELECT json_object_agg(x.source, x.external_id ORDER BY x.source) FROM event_external_ids x WHERE x.event_id = e.id
  ), '{}'::json)`,
  },
  {
    path: 'relations',
    sql: `COALESCE((
    SELECT json_agg(json_build_object('event_id', x.related_event_id, 'relation', x.relation) ORDER BY x.created_at, x.related_event_id)
    FROM event_relations x WHERE x.event_id = e.id
  ), '[]'::json)`,
  },
  column('version', 'version', { served: true }),
  timestamp('created_at'),
  timestamp('updated_at'),
  column('created_by', 'created_by', { served: true }),
  column('updated_by', 'updated_by', { served: true }),
  timestamp('deleted_at'),
];

/** A member's SQL expression over the event row `e`. */
const expressionOf = (member: Member): string => ('sql' in member ? member.sql : (member.json ?? `e.${member.column}`));

/** json_build_object of members, nesting the dotted paths (`occurred.start`) into objects in the order they come. */
function jsonObject(members: { path: string; expression: string }[]): string {
  const entries: [key: string, value: string | { path: string; expression: string }[]][] = [];
  for (const { path, expression } of members) {
    const [key, ...rest] = path.split('.');
    if (rest.length === 0) {
      entries.push([key!, expression]);
      continue;
    }
    const inner = { path: rest.join('.'), expression };
    const group = entries.at(-1)?.[0] === key ? entries.at(-1)?.[1] : undefined;
    if (Array.isArray(group)) group.push(inner);
    else entries.push([key!, [inner]]);
  }
  const pairs = entries.map(([key, value]) => `'${key}', ${typeof value === 'string' ? value : jsonObject(value)}`);
  return `json_build_object(\n  ${pairs.join(',\n  ')}\n)`;
}

/** JSON of the event row aliased `e`. */
export const EVENT_JSON = jsonObject(
  EVENT_MEMBERS.map((member) => ({ path: member.path, expression: expressionOf(member) })),
);

const rowMembers = EVENT_MEMBERS.filter((member): member is Extract<Member, { column: string }> => 'column' in member);

/**
 * The members of EVENT_JSON that are columns of the event row `e`, by path, with the same expressions: a sparse
 * fieldset (fields.ts) reads these from the row, which costs PostgreSQL a fifth of parsing the stored text as jsonb.
 * tests/events/fields.test.ts compares every one of them with the whole event.
 */
export const EVENT_ROW_MEMBERS: Record<string, string> = Object.fromEntries(
  rowMembers.map((member) => [member.path, expressionOf(member)]),
);

/** The columns of the event row that its JSON shows: every one a create writes (writes.ts). */
export const EVENT_COLUMNS = rowMembers.map((member) => member.column);

/** The top-level members of a served event that only the server writes: an import of a served event drops them. */
export const EVENT_READ_ONLY = EVENT_MEMBERS.filter((member) => member.served).map((member) => member.path);

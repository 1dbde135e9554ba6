// Writing the revisions of a transaction's changes. Revisions are the history
// (GET /v1/events/{id}/revisions, ?as_of=) and, by their id, the change feed.
//
// The feed must list changes in commit order, and a sequence alone does not give
// that: two transactions may draw 5 and 6 and commit 6 first, and a client that read
// 6 would never see 5. So every writer inserts its revisions last, holding one
// transaction-level advisory lock until it commits: the next writer draws its ids only
// after the previous one is visible, and ids grow in commit order.
import type { Transaction } from '../../db/client.js';
import { takeRevisionLock } from '../../db/locks.js';
import type { Action, ChangeSet, Resource } from '../../write/unit.js';
import { REPORT_JSON } from '../reports/json-sql.js';
import { toActor } from '../actors/repository.js';
import { toDocument } from '../documents/repository.js';

// The vocabulary of changes is the unit of work's; named here too for the feed's schemas.
export { RESOURCES, ACTIONS, type Resource, type Action, type ChangeSet } from '../../write/unit.js';

/** Fields that change with every write and say nothing about what changed. */
const BOOKKEEPING_FIELDS = ['version', 'updated_at', 'updated_by'];

/**
 * The fields whose value differs from the resource's previous revision (all of them for its
 * first), comparing the new state `s.state` with the previous one, `prev.state` (null for none).
 */
const CHANGED_FIELDS = `COALESCE((
    SELECT array_agg(n.key ORDER BY n.key) FROM jsonb_each(s.state) n
    WHERE n.key <> ALL ('{${BOOKKEEPING_FIELDS.join(',')}}'::text[]) AND n.value IS DISTINCT FROM prev.state -> n.key
  ), '{}')`;

/**
 * The fields of a resource's first revision: every field of its state but the bookkeeping ones (CHANGED_FIELDS against
 * none).
 */
const FIRST_FIELDS = `ARRAY(
    SELECT n.key FROM jsonb_object_keys(s.state) n(key) WHERE n.key <> ALL ('{${BOOKKEEPING_FIELDS.join(',')}}'::text[]) ORDER BY n.key
  )`;

/**
 * Where a resource's rows live, and its state as an SQL expression over the row `alias`; `given`, when
 * there is one, is the placeholder of the states given by the caller (by id), which `state` reads.
 */
interface StateSource {
  table: string;
  alias: string;
  state: (given: string) => string;
  given?: true;
}

const SOURCES: Record<Resource, StateSource> = {
  event: { table: 'events', alias: 'e', state: () => 'e.rendered' },
  report: { table: 'reports', alias: 'r', state: () => REPORT_JSON },
  actor: { table: 'actors', alias: 'a', state: (given) => `${given}::jsonb -> a.id::text`, given: true },
  document: { table: 'documents', alias: 'd', state: (given) => `${given}::jsonb -> d.id::text`, given: true },
};

/**
 * Inserts one revision per (id, action) of one kind of resource, with the state and time (updated_at) each row now has:
 * first those of the resources created (which have no previous revision to compare with), then the others.
 */
async function insertRevisions(
  tx: Transaction,
  resource: Resource,
  changes: { id: string; action: Action }[],
  author: string,
  states: Record<string, unknown> = {},
): Promise<void> {
  const { table, alias, state, given } = SOURCES[resource];
  const givenStates = given ? [JSON.stringify(states)] : [];
  // OFFSET 0 keeps the state a subquery of its own: inlined, it was built twice a row (for the
  // column and again for the changed fields), which doubled the cost of large writes.
  const created = changes.filter((c) => c.action === 'created').map((c) => c.id);
  if (created.length > 0) {
    // eslint-disable-next-line raw-sql/unsafe -- text from SOURCES and this file's constants; values bound
    await tx.$executeRawUnsafe(
      `INSERT INTO revisions (resource, resource_id, version, action, author, at, state, changed_fields)
       SELECT '${resource}', ${alias}.id, ${alias}.version, 'created', $2, ${alias}.updated_at, s.state, ${FIRST_FIELDS}
       FROM ${table} ${alias}
       CROSS JOIN LATERAL (SELECT (${state('$3')})::jsonb AS state OFFSET 0) s
       WHERE ${alias}.id = ANY($1::uuid[])
       ORDER BY ${alias}.id`,
      created,
      author,
      ...givenStates,
    );
  }
  const others = changes.filter((c) => c.action !== 'created');
  if (others.length === 0) return;
  // eslint-disable-next-line raw-sql/unsafe -- text from SOURCES and this file's constants; values bound
  await tx.$executeRawUnsafe(
    `INSERT INTO revisions (resource, resource_id, version, action, author, at, state, changed_fields)
     SELECT '${resource}', ${alias}.id, ${alias}.version, c.action, $3, ${alias}.updated_at, s.state, ${CHANGED_FIELDS}
     FROM unnest($1::uuid[], $2::revision_action[]) AS c(id, action)
     JOIN ${table} ${alias} ON ${alias}.id = c.id
     CROSS JOIN LATERAL (SELECT (${state('$4')})::jsonb AS state OFFSET 0) s
     LEFT JOIN LATERAL (
       SELECT p.state FROM revisions p WHERE p.resource = '${resource}' AND p.resource_id = ${alias}.id ORDER BY p.version DESC LIMIT 1
     ) prev ON TRUE
     ORDER BY ${alias}.id`,
    others.map((c) => c.id),
    others.map((c) => c.action),
    author,
    ...givenStates,
  );
}

/**
 * Writes the revisions of every change of a transaction, with the resources' states
 * as they now stand. The last write of resources before COMMIT (only the stats rollups,
 * derived data, are recounted after it under the same lock).
 */
export async function recordRevisions(tx: Transaction, changes: ChangeSet, author: string): Promise<void> {
  // States of actors and documents come from the same mapping as their GET responses.
  const ids = (resource: Resource) => (changes.get(resource) ?? []).map((c) => c.id);
  const actorStates = (await tx.actor.findMany({ where: { id: { in: ids('actor') } } })).map(
    (row): [string, unknown] => [row.id, toActor(row)],
  );
  const documentStates = (await tx.document.findMany({ where: { id: { in: ids('document') } } })).map(
    (row): [string, unknown] => [row.id, toDocument(row)],
  );

  await takeRevisionLock(tx);
  // Within one transaction, what others refer to comes first: a mirror fetching in feed order meets actors and
  // documents before the events naming them.
  for (const resource of ['actor', 'document', 'event', 'report'] as const) {
    const states = resource === 'actor' ? actorStates : resource === 'document' ? documentStates : [];
    await insertRevisions(tx, resource, changes.get(resource) ?? [], author, Object.fromEntries(states));
  }
}

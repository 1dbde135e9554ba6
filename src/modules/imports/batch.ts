// The checks of a batch of validated events, made for the whole batch at once: the same checks
// as createEvent (../events/writes.ts) makes for one body, then the lines whose external id is
// taken set aside as skipped. The batch is then written by writeEvents, the one create path of
// events (POST /v1/events runs it for one event).
import type { Transaction } from '../../db/client.js';
import type { Violation } from '../../http/errors.js';
import { eventTypeCodes, unknownEventTypes } from '../event-types/repository.js';
import { eventReferences } from '../events/writes.js';
import type { EventInput } from '../events/schemas.js';
import { unknownIds } from '../../write/unit.js';
import { SELF_SOURCE } from '../events/render/exported.js';
import type { LineViolation } from './records.js';

/** A line whose value passed the schema of POST /v1/events. */
export interface ValidLine {
  line: number;
  input: EventInput;
}

export interface LineError {
  line: number;
  errors: LineViolation[];
}

const withoutPart = (violations: Violation[]): LineViolation[] =>
  violations.map(({ path, message }) => ({ path, message }));

const pairKey = (source: string, id: string) => `${source}\u0000${id}`;

/**
 * The checks createEvent makes in the database, for a whole batch at once: known event types,
 * actors and documents referenced by id, related events alive. Then the lines whose event has
 * an external id some event has already (or an earlier line of the batch) are set aside as
 * skipped: imported before.
 */
export async function checkBatch(
  tx: Transaction,
  lines: ValidLine[],
): Promise<{ valid: ValidLine[]; skipped: number[]; rejected: LineError[] }> {
  const known = await eventTypeCodes(tx);
  const references = lines.map((line) => eventReferences(line.input));
  const byId = <T>(refs: [T, string][]) =>
    refs.flatMap(([ref, pointer]): [string, string][] =>
      ref && typeof ref === 'object' && 'id' in ref ? [[ref.id as string, `${pointer}/id`]] : [],
    );
  const wanted = (pick: (i: number) => [string, string][]) => [
    ...new Set(lines.flatMap((_, i) => pick(i).map(([id]) => id))),
  ];
  const actorIds = wanted((i) => byId(references[i]!.actors));
  const documentIds = wanted((i) => byId(references[i]!.documents));
  const eventIds = [...new Set(lines.flatMap((line) => line.input.relations.map((r) => r.event_id)))];
  const [actors, documents, events] = await Promise.all([
    actorIds.length > 0 ? tx.actor.findMany({ where: { id: { in: actorIds } }, select: { id: true } }) : [],
    documentIds.length > 0 ? tx.document.findMany({ where: { id: { in: documentIds } }, select: { id: true } }) : [],
    eventIds.length > 0
      ? tx.event.findMany({ where: { id: { in: eventIds }, deletedAt: null }, select: { id: true } })
      : [],
  ]);
  // unknownIds words the violations as the single-event path does; here the ids were read above.
  const among = (rows: { id: string }[]) => {
    const present = new Set(rows.map((row) => row.id));
    return async (ids: string[]) => ids.filter((id) => present.has(id)).map((id) => ({ id }));
  };

  const rejected: LineError[] = [];
  const checked: ValidLine[] = [];
  for (const [i, line] of lines.entries()) {
    const refs = references[i]!;
    const violations = [
      ...unknownEventTypes(known, [[line.input.type, '/type']]),
      ...(await unknownIds(byId(refs.actors), 'actor', among(actors))),
      ...(await unknownIds(byId(refs.documents), 'document', among(documents))),
      ...(await unknownIds(
        line.input.relations.map((r, n): [string, string] => [r.event_id, `/relations/${n}/event_id`]),
        'live event',
        among(events),
      )),
    ];
    if (violations.length > 0) rejected.push({ line: line.line, errors: withoutPart(violations) });
    else checked.push(line);
  }

  const pairs = checked.flatMap((line) => Object.entries(line.input.external_ids ?? {}));
  const held = new Set<string>();
  if (pairs.length > 0) {
    const rows = await tx.$queryRaw<{ source: string; external_id: string }[]>`
      SELECT source, external_id FROM event_external_ids
      WHERE (source, external_id) IN (SELECT * FROM unnest(${pairs.map(([s]) => s)}::text[], ${pairs.map(([, id]) => id)}::text[]))`;
    for (const row of rows) held.add(pairKey(row.source, row.external_id));
    for (const id of await selfHeld(tx, pairs)) held.add(pairKey(SELF_SOURCE, id));
  }
  const valid: ValidLine[] = [];
  const skipped: number[] = [];
  for (const line of checked) {
    const own = Object.entries(line.input.external_ids ?? {}).map(([source, id]) => pairKey(source, id));
    if (own.some((key) => held.has(key))) {
      skipped.push(line.line);
      continue;
    }
    for (const key of own) held.add(key);
    valid.push(line);
  }
  return { valid, skipped, rejected };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The ids among the `self` pairs that name an event of this instance (deleted ones too): a line
 * exported here and imported back is that event, so it is skipped like any held pair.
 */
async function selfHeld(tx: Transaction, pairs: [string, string][]): Promise<string[]> {
  const ids = pairs.filter(([source, id]) => source === SELF_SOURCE && UUID.test(id)).map(([, id]) => id);
  if (ids.length === 0) return [];
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id::text AS id FROM events WHERE id = ANY(${ids}::uuid[])`;
  const present = new Set(rows.map((row) => row.id));
  return ids.filter((id) => present.has(id.toLowerCase()));
}

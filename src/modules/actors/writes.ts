// Actor writes, inside a write's unit of work: resolving a reference (find or create,
// once per transaction), patching an actor, which changes every record that shows it, and
// merging two actors that turn out to be one.
import type { Actor as ActorRow } from '../../generated/prisma/client.js';
import { ApiError, invalidInput } from '../../http/errors.js';
import type { UnitOfWork } from '../../write/unit.js';
import { aliasConflict, claimNames, findOrCreateActor, lockLiveActor, nameKeys, normaliseName } from './repository.js';
import type { ActorPatch, ActorRef } from './schemas.js';

/**
 * The id of the live actor a reference names (once per transaction): given, or found by kind and
 * name or alias, or created. An id of a merged actor stands for its survivor. Either way the actor
 * is locked against a merge until the transaction ends, so no record is written naming a tombstone.
 */
export async function resolveActor(unit: UnitOfWork, ref: ActorRef): Promise<string> {
  if ('id' in ref) {
    return unit.resolve('actor', `#${ref.id}`, async () => {
      const live = await lockLiveActor(unit.tx, ref.id);
      if (!live) throw invalidInput([{ path: '', in: 'body', message: `no actor has the id ${ref.id}` }]);
      return { id: live, created: false };
    });
  }
  return unit.resolve('actor', `${ref.kind}\u0000${normaliseName(ref.name)}`, async () => {
    const found = await findOrCreateActor(unit.tx, ref, unit.author);
    return { id: found.actor.id, created: found.created };
  });
}

/**
 * The live reports and the events that show an actor (as participant, reporter, via or figure subject), locked for a
 * write.
 */
async function lockRecordsShowing(unit: UnitOfWork, actorId: string) {
  const { tx } = unit;
  const reports = await tx.$queryRaw<{ id: string; event_id: string }[]>`
    SELECT r.id, r.event_id FROM reports r
    WHERE r.deleted_at IS NULL AND (r.reporter_id = ${actorId}::uuid
       OR EXISTS (SELECT 1 FROM report_via v WHERE v.report_id = r.id AND v.actor_id = ${actorId}::uuid)
       OR EXISTS (SELECT 1 FROM figures f WHERE f.report_id = r.id AND f.subject_id = ${actorId}::uuid))`;
  const events = await tx.$queryRaw<{ id: string; deleted: boolean }[]>`
    SELECT e.id, e.deleted_at IS NOT NULL AS deleted FROM events e
    WHERE e.id = ANY(${reports.map((r) => r.event_id)}::uuid[])
       OR EXISTS (SELECT 1 FROM participants p WHERE p.event_id = e.id AND p.actor_id = ${actorId}::uuid)
       OR EXISTS (SELECT 1 FROM figures f WHERE f.event_id = e.id AND f.subject_id = ${actorId}::uuid)
    ORDER BY e.id FOR UPDATE`;
  await tx.$executeRaw`SELECT 1 FROM reports WHERE id = ANY(${reports.map((r) => r.id)}::uuid[]) ORDER BY id FOR UPDATE`;
  return { reports, events };
}

/**
 * Notes the records that show a changed actor: live reports and events get new versions, deleted events are rendered
 * again.
 */
function noteRecordsShowing(unit: UnitOfWork, records: Awaited<ReturnType<typeof lockRecordsShowing>>): void {
  for (const report of records.reports) unit.changed('report', report.id, 'updated');
  // A deleted event's history is closed: no new version, only its stored JSON shows the change.
  for (const event of records.events) {
    if (event.deleted) unit.rerender(event.id);
    else unit.changed('event', event.id, 'updated');
  }
}

/**
 * Applies a merge patch to a locked actor. Its name and aliases are claimed again (409 when another
 * actor of the kind has one of them). Every event and report that shows the actor changes with
 * it, so they are locked (events first, as every writer does) and noted as changed.
 */
export async function patchActor(unit: UnitOfWork, current: ActorRow, patch: ActorPatch): Promise<void> {
  const { tx } = unit;
  const kind = patch.kind ?? current.kind;
  const name = patch.name?.trim() ?? current.name;
  const normalized = normaliseName(name);
  const aliases = patch.aliases ?? current.aliases;
  await tx.$executeRaw`DELETE FROM actor_names WHERE actor_id = ${current.id}::uuid`;
  const clashes = await claimNames(tx, current.id, kind, nameKeys(name, aliases));
  const named = clashes.find((clash) => clash.key === normalized);
  if (named) {
    throw new ApiError('conflict', `Another ${kind} actor is named "${name}" already: ${named.owner}.`, {
      extra: { existing_id: named.owner },
    });
  }
  if (clashes.length > 0) throw aliasConflict(kind, clashes, aliases);
  const externalIds = { ...(current.externalIds as Record<string, string>) };
  for (const [key, value] of Object.entries(patch.external_ids ?? {})) {
    if (value === null) delete externalIds[key];
    else externalIds[key] = value;
  }

  const records = await lockRecordsShowing(unit, current.id);
  await tx.actor.update({
    where: { id: current.id },
    data: {
      kind,
      name,
      normalizedName: normalized,
      ...(patch.country !== undefined ? { country: patch.country } : {}),
      ...(patch.aliases !== undefined ? { aliases: patch.aliases } : {}),
      externalIds,
    },
  });
  unit.changed('actor', current.id, 'updated');
  noteRecordsShowing(unit, records);
}

/**
 * Merges the locked actor `absorbed` into `into`, an actor of the same kind: every record that
 * names it (participations, reports as reporter, via chains, figure subjects; deleted ones too)
 * names `into` instead, its name and aliases become aliases of `into`, and it is left as a
 * tombstone with merged_into. Returns the survivor's id.
 */
export async function mergeActor(unit: UnitOfWork, absorbed: ActorRow, into: string): Promise<string> {
  const { tx } = unit;
  if (into === absorbed.id) throw new ApiError('conflict', 'An actor cannot be merged into itself.');
  const [survivor] = await tx.$queryRaw<
    { kind: string; name: string; aliases: string[]; merged_into: string | null }[]
  >`
    SELECT kind::text AS kind, name, aliases, merged_into FROM actors WHERE id = ${into}::uuid FOR UPDATE`;
  if (!survivor) throw invalidInput([{ path: '/into', in: 'body', message: `no actor has the id ${into}` }]);
  if (survivor.merged_into) {
    throw new ApiError(
      'conflict',
      `The actor ${into} was merged into ${survivor.merged_into} already: merge into that one.`,
      {
        extra: { merged_into: survivor.merged_into },
      },
    );
  }
  if (survivor.kind !== absorbed.kind) {
    throw new ApiError(
      'conflict',
      `Actors of different kinds cannot be merged: ${absorbed.kind} into ${survivor.kind}.`,
    );
  }

  // The absorbed actor's records show the survivor now; the survivor's show no aliases, so they stay as they are.
  const moved = await lockRecordsShowing(unit, absorbed.id);
  const from = absorbed.id;
  // A role the survivor has in the event already is kept once.
  await tx.$executeRaw`
    DELETE FROM participants p WHERE p.actor_id = ${from}::uuid AND EXISTS (
      SELECT 1 FROM participants q WHERE q.event_id = p.event_id AND q.role = p.role AND q.actor_id = ${into}::uuid)`;
  await tx.$executeRaw`UPDATE participants SET actor_id = ${into}::uuid WHERE actor_id = ${from}::uuid`;
  await tx.$executeRaw`UPDATE reports SET reporter_id = ${into}::uuid WHERE reporter_id = ${from}::uuid`;
  await tx.$executeRaw`UPDATE report_via SET actor_id = ${into}::uuid WHERE actor_id = ${from}::uuid`;
  await tx.$executeRaw`UPDATE figures SET subject_id = ${into}::uuid WHERE subject_id = ${from}::uuid`;
  await tx.$executeRaw`UPDATE actor_names SET actor_id = ${into}::uuid WHERE actor_id = ${from}::uuid`;
  // Actors merged into the absorbed one earlier name the survivor directly.
  await tx.$executeRaw`UPDATE actors SET merged_into = ${into}::uuid WHERE merged_into = ${from}::uuid`;

  const keys = new Set(nameKeys(survivor.name, survivor.aliases));
  const aliases = [...survivor.aliases];
  for (const alias of [absorbed.name, ...absorbed.aliases]) {
    const key = normaliseName(alias);
    if (keys.has(key)) continue;
    keys.add(key);
    aliases.push(alias);
  }
  await tx.actor.update({ where: { id: into }, data: { aliases } });
  await tx.actor.update({ where: { id: from }, data: { mergedIntoId: into } });

  unit.changed('actor', into, 'updated');
  unit.changed('actor', from, 'deleted');
  noteRecordsShowing(unit, moved);
  return into;
}

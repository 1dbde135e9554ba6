// Actor writes, inside a write's unit of work: resolving a reference (find or create,
// once per transaction) and patching an actor, which changes every record that shows it.
import type { Actor as ActorRow } from '../../generated/prisma/client.js';
import { ApiError } from '../../http/errors.js';
import type { UnitOfWork } from '../../write/unit.js';
import { findOrCreateActor, normaliseName } from './repository.js';
import type { ActorPatch, ActorRef } from './schemas.js';

/** The id of the actor a reference names: given, or found by kind and name, or created (once per transaction). */
export async function resolveActor(unit: UnitOfWork, ref: ActorRef): Promise<string> {
  if ('id' in ref) return ref.id;
  return unit.resolve('actor', `${ref.kind}\u0000${normaliseName(ref.name)}`, async () => {
    const found = await findOrCreateActor(unit.tx, ref, unit.author);
    return { id: found.actor.id, created: found.created };
  });
}

/**
 * Applies a merge patch to a locked actor. Every event and report that shows the actor
 * changes with it, so they are locked (events first, as every writer does) and noted as changed.
 */
export async function patchActor(unit: UnitOfWork, current: ActorRow, patch: ActorPatch): Promise<void> {
  const { tx } = unit;
  const kind = patch.kind ?? current.kind;
  const name = patch.name?.trim() ?? current.name;
  const normalized = normaliseName(name);
  if (kind !== current.kind || normalized !== current.normalizedName) {
    const clash = await tx.actor.findUnique({ where: { kind_normalizedName: { kind, normalizedName: normalized } }, select: { id: true } });
    if (clash && clash.id !== current.id) {
      throw new ApiError('conflict', `Another ${kind} actor is named "${name}" already: ${clash.id}.`, {
        extra: { existing_id: clash.id },
      });
    }
  }
  const externalIds = { ...(current.externalIds as Record<string, string>) };
  for (const [key, value] of Object.entries(patch.external_ids ?? {})) {
    if (value === null) delete externalIds[key];
    else externalIds[key] = value;
  }

  const reports = await tx.$queryRaw<{ id: string; event_id: string }[]>`
    SELECT r.id, r.event_id FROM reports r
    WHERE r.deleted_at IS NULL AND (r.reporter_id = ${current.id}::uuid
       OR EXISTS (SELECT 1 FROM report_via v WHERE v.report_id = r.id AND v.actor_id = ${current.id}::uuid)
       OR EXISTS (SELECT 1 FROM figures f WHERE f.report_id = r.id AND f.subject_id = ${current.id}::uuid))`;
  const events = await tx.$queryRaw<{ id: string; deleted: boolean }[]>`
    SELECT e.id, e.deleted_at IS NOT NULL AS deleted FROM events e
    WHERE e.id = ANY(${reports.map((r) => r.event_id)}::uuid[])
       OR EXISTS (SELECT 1 FROM participants p WHERE p.event_id = e.id AND p.actor_id = ${current.id}::uuid)
       OR EXISTS (SELECT 1 FROM figures f WHERE f.event_id = e.id AND f.subject_id = ${current.id}::uuid)
    ORDER BY e.id FOR UPDATE`;
  await tx.$executeRaw`SELECT 1 FROM reports WHERE id = ANY(${reports.map((r) => r.id)}::uuid[]) ORDER BY id FOR UPDATE`;

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
  for (const report of reports) unit.changed('report', report.id, 'updated');
  // A deleted event's history is closed: no new version, only its stored JSON shows the new name.
  for (const event of events) {
    if (event.deleted) unit.rerender(event.id);
    else unit.changed('event', event.id, 'updated');
  }
}

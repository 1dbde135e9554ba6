// Every write to events: create, merge-patch, soft delete, relations and merging
// duplicates. Each runs inside a write's unit of work (src/write/): it locks what it
// changes, checks, writes rows, and notes what changed; the runner's finish step does the rest.
import type { Transaction } from '../../db/client.js';
import { ApiError, invalidInput, notFound, ruleViolation, type Violation } from '../../http/errors.js';
import { assertVersion, type ExpectedVersion } from '../../http/preconditions.js';
import type { ActorRef } from '../actors/schemas.js';
import { resolveActor } from '../actors/writes.js';
import { assertEventTypes } from '../event-types/repository.js';
import { figureRows, figureSubjects } from '../figures/repository.js';
import type { FigureInput } from '../figures/schemas.js';
import { insertReport, reportReferences } from '../reports/repository.js';
import { unknownIds, type Located, type UnitOfWork } from '../../write/unit.js';
import type { EventInput, EventPatch, ParticipantInput, RelationInput } from './schemas.js';

/** Every actor and document reference in an event body, with where it stands. */
export function eventReferences(input: Pick<EventInput, 'participants' | 'figures'> & { reports?: EventInput['reports'] }) {
  const actors: Located<ActorRef>[] = [
    ...input.participants.map((p, i): Located<ActorRef> => [p.actor, `/participants/${i}/actor`]),
    ...figureSubjects(input.figures, '/figures'),
  ];
  const documents: ReturnType<typeof reportReferences>['documents'] = [];
  (input.reports ?? []).forEach((report, i) => {
    const refs = reportReferences(report, `/reports/${i}`);
    actors.push(...refs.actors);
    documents.push(...refs.documents);
  });
  return { actors, documents };
}

async function assertRelatedEventsExist(tx: Transaction, relations: RelationInput[], pointer: (i: number) => string): Promise<void> {
  const missing = await unknownIds(
    relations.map((r, i): [string, string] => [r.event_id, pointer(i)]),
    'live event',
    (ids) => tx.event.findMany({ where: { id: { in: ids }, deletedAt: null }, select: { id: true } }),
  );
  if (missing.length > 0) throw invalidInput(missing, 'The body relates to events that do not exist.');
}

/**
 * Gives the event these external ids; 409 naming the holder when another event (live or
 * deleted) has one of them already. A writer racing for the same pair waits on its key.
 */
export async function claimExternalIds(tx: Transaction, eventId: string, ids: Record<string, string>): Promise<void> {
  const pairs = Object.entries(ids);
  if (pairs.length === 0) return;
  const claimed = await tx.$queryRaw<{ source: string }[]>`
    INSERT INTO event_external_ids (source, external_id, event_id)
    SELECT source, external_id, ${eventId}::uuid FROM unnest(${pairs.map(([source]) => source)}::text[], ${pairs.map(([, id]) => id)}::text[])
      AS p(source, external_id)
    ON CONFLICT DO NOTHING RETURNING source`;
  if (claimed.length === pairs.length) return;
  const taken = new Set(claimed.map((row) => row.source));
  const clashes = await tx.$queryRaw<{ source: string; external_id: string; event_id: string }[]>`
    SELECT source, external_id, event_id FROM event_external_ids
    WHERE (source, external_id) IN (SELECT * FROM unnest(${pairs.map(([source]) => source)}::text[], ${pairs.map(([, id]) => id)}::text[]))
      AND event_id <> ${eventId}::uuid
    ORDER BY source`;
  const first = clashes[0];
  if (!first) throw new Error(`external ids of event ${eventId} were neither claimed nor held by another event: ${[...taken].join(',')}`);
  throw new ApiError('conflict', `The external id ${first.source}:${first.external_id} belongs to the event ${first.event_id} already.`, {
    extra: { existing_id: first.event_id },
    errors: clashes.map((clash) => ({
      path: `/external_ids/${clash.source}`,
      in: 'body' as const,
      message: `${clash.source}:${clash.external_id} belongs to the event ${clash.event_id}`,
    })),
  });
}

/** Writes an event's participants in the order given; the same actor named twice in one role counts once. */
async function insertParticipants(unit: UnitOfWork, eventId: string, participants: ParticipantInput[]): Promise<void> {
  const rows = [];
  const seen = new Set<string>();
  for (const participant of participants) {
    const actorId = await resolveActor(unit, participant.actor);
    const key = `${actorId}/${participant.role}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ eventId, actorId, role: participant.role, position: rows.length });
  }
  if (rows.length > 0) await unit.tx.participant.createMany({ data: rows });
}

/** Writes an editor's figures of an event, positioned from `first` on (after the editor's figures kept). */
async function insertEventFigures(unit: UnitOfWork, eventId: string, figures: FigureInput[], first = 0): Promise<void> {
  const rows = await figureRows(unit, figures, { eventId });
  if (rows.length > 0) await unit.tx.figure.createMany({ data: rows.map((row) => ({ ...row, position: first + row.position })) });
}

/** The figure lists of a patch's `figures`, each with where it stands, for their actor references. */
function patchFigureLists(figures: EventPatch['figures']): [FigureInput[], string][] {
  if (figures == null) return [];
  if (Array.isArray(figures)) return [[figures, '/figures']];
  return Object.entries(figures).map(([measure, list]) => [list ?? [], `/figures/${measure}`]);
}

/**
 * Applies a patch's `figures` to the editor's figures of an event; the derived figures are left
 * to the finish step (refreshEvents), which derives every measure no editor figure names.
 */
async function patchEditorFigures(unit: UnitOfWork, eventId: string, figures: NonNullable<EventPatch['figures']> | null): Promise<void> {
  const { tx } = unit;
  if (figures === null || Array.isArray(figures)) {
    await tx.figure.deleteMany({ where: { eventId, derived: false } });
    await insertEventFigures(unit, eventId, figures ?? []);
    return;
  }
  const measures = Object.keys(figures) as FigureInput['measure'][];
  await tx.figure.deleteMany({ where: { eventId, derived: false, measure: { in: measures } } });
  // The kept figures numbered from 0 again, the new ones after them: positions stay below the derived figures' 1000.
  const kept = await tx.$executeRaw`
    UPDATE figures f SET position = n.position FROM (
      SELECT id, row_number() OVER (ORDER BY position) - 1 AS position FROM figures WHERE event_id = ${eventId}::uuid AND NOT derived
    ) n WHERE f.id = n.id`;
  await insertEventFigures(
    unit,
    eventId,
    Object.values(figures).flatMap((list) => list ?? []),
    kept,
  );
}

/** Creates an event with everything nested in the body; returns its id. */
export async function createEvent(unit: UnitOfWork, input: EventInput): Promise<string> {
  const { tx, author } = unit;
  await assertEventTypes(tx, [[input.type, '/type']]);
  const refs = eventReferences(input);
  await unit.verifyReferences(refs.actors, refs.documents);
  await assertRelatedEventsExist(tx, input.relations, (i) => `/relations/${i}/event_id`);

  const location = input.location;
  const event = await tx.event.create({
    data: {
      typeCode: input.type,
      title: input.title,
      description: input.description ?? null,
      // A status in the body is an editor's; without one the reports decide it (refreshEvents).
      ...(input.status ? { status: input.status, statusSource: 'editor' as const } : { statusSource: 'evidence' as const }),
      occurredStart: new Date(input.occurred.start),
      occurredEnd: new Date(input.occurred.end ?? input.occurred.start),
      occurredPrecision: input.occurred.precision,
      locationName: location?.name ?? null,
      admin1: location?.admin1 ?? null,
      admin2: location?.admin2 ?? null,
      country: location?.country ?? null,
      lat: location?.lat ?? null,
      lon: location?.lon ?? null,
      locationPrecision: location?.precision ?? 'unknown',
      tags: [...new Set(input.tags)],
      createdBy: author,
      updatedBy: author,
    },
    select: { id: true },
  });
  unit.changed('event', event.id, 'created');

  await claimExternalIds(tx, event.id, input.external_ids ?? {});
  await insertParticipants(unit, event.id, input.participants);
  await insertEventFigures(unit, event.id, input.figures);
  for (const report of input.reports) await insertReport(unit, event.id, report);
  if (input.relations.length > 0) {
    await tx.eventRelation.createMany({
      data: input.relations.map((r) => ({ eventId: event.id, relatedEventId: r.event_id, relation: r.relation, createdBy: author })),
      skipDuplicates: true,
    });
  }
  return event.id;
}

/**
 * Locks a live event for a write (until the transaction ends) and checks the client's
 * If-Match against its version: 404 when there is no such event, 410 when it was deleted, 412 when stale.
 */
export async function lockLiveEvent(tx: Transaction, id: string, expected: ExpectedVersion | undefined): Promise<void> {
  const [row] = await tx.$queryRaw<{ version: number; deleted_at: Date | null; merged_into: string | null }[]>`
    SELECT version, deleted_at, merged_into FROM events WHERE id = ${id}::uuid FOR UPDATE`;
  if (!row) throw notFound('event', id);
  if (row.deleted_at) {
    const where = row.merged_into ? ` It was merged into ${row.merged_into}.` : '';
    throw new ApiError('gone', `The event ${id} was deleted.${where}`, { extra: { merged_into: row.merged_into } });
  }
  assertVersion(expected, row.version, 'event');
}

/** The event as the API serves it, read inside the write's transaction (after the finish step). */
export async function readEvent(tx: Transaction, id: string): Promise<{ json: string; version: number }> {
  const [row] = await tx.$queryRaw<
    { json: string; version: number }[]
  >`SELECT rendered AS json, version FROM events WHERE id = ${id}::uuid`;
  if (!row) throw notFound('event', id);
  return row;
}

/** The new occurred interval and location of a patch, merged into the current ones (RFC 7396) and checked as a whole. */
function mergeWhenAndWhere(current: CurrentEvent, patch: EventPatch) {
  const violations: Violation[] = [];
  const occurred = {
    start: patch.occurred?.start ?? current.occurredStart.toISOString().slice(0, 10),
    end: patch.occurred?.end === null ? undefined : (patch.occurred?.end ?? current.occurredEnd.toISOString().slice(0, 10)),
    precision: patch.occurred?.precision ?? current.occurredPrecision,
  };
  occurred.end ??= occurred.start;
  if (occurred.start > occurred.end) violations.push({ path: '/occurred/end', in: 'body', message: 'end must not be before start' });

  const kept = patch.location === null ? undefined : current;
  const pick = <K extends keyof NonNullable<EventPatch['location']>>(key: K, now: unknown) =>
    patch.location && key in patch.location ? (patch.location[key] ?? null) : kept ? now : null;
  const location = {
    locationName: pick('name', current.locationName) as string | null,
    admin1: pick('admin1', current.admin1) as string | null,
    admin2: pick('admin2', current.admin2) as string | null,
    country: pick('country', current.country) as string | null,
    lat: pick('lat', current.lat) as number | null,
    lon: pick('lon', current.lon) as number | null,
    locationPrecision: (pick('precision', current.locationPrecision) ?? 'unknown') as CurrentEvent['locationPrecision'],
  };
  if ((location.lat === null) !== (location.lon === null)) {
    violations.push({ path: '/location/lon', in: 'body', message: 'lat and lon go together: give both or neither' });
  }
  if (violations.length > 0) throw invalidInput(violations, 'The patched event would be invalid; see errors.');
  return { occurred, location };
}

type CurrentEvent = NonNullable<Awaited<ReturnType<Transaction['event']['findUnique']>>>;

/** Applies a JSON merge patch to a locked live event: objects merge, arrays (participants, figures, tags) are replaced. */
export async function patchEvent(unit: UnitOfWork, id: string, patch: EventPatch): Promise<void> {
  const { tx } = unit;
  const current = await tx.event.findUniqueOrThrow({ where: { id } });
  if (patch.type !== undefined) await assertEventTypes(tx, [[patch.type, '/type']]);
  const refs = eventReferences({ participants: patch.participants ?? [], figures: [] });
  for (const [figures, pointer] of patchFigureLists(patch.figures)) refs.actors.push(...figureSubjects(figures, pointer));
  await unit.verifyReferences(refs.actors, []);
  const { occurred, location } = mergeWhenAndWhere(current, patch);

  await tx.event.update({
    where: { id },
    data: {
      ...(patch.type !== undefined ? { typeCode: patch.type } : {}),
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      // null hands the status back to the evidence; a value is an editor's and stays.
      ...(patch.status === null ? { statusSource: 'evidence' as const } : {}),
      ...(patch.status ? { status: patch.status, statusSource: 'editor' as const } : {}),
      occurredStart: new Date(occurred.start),
      occurredEnd: new Date(occurred.end ?? occurred.start),
      occurredPrecision: occurred.precision,
      ...location,
      ...(patch.tags !== undefined ? { tags: [...new Set(patch.tags)] } : {}),
    },
  });
  if (patch.participants !== undefined) {
    await tx.participant.deleteMany({ where: { eventId: id } });
    await insertParticipants(unit, id, patch.participants);
  }
  if (patch.figures !== undefined) await patchEditorFigures(unit, id, patch.figures);
  if (patch.external_ids !== undefined) {
    const sources = Object.keys(patch.external_ids);
    await tx.$executeRaw`DELETE FROM event_external_ids WHERE event_id = ${id}::uuid AND source = ANY(${sources}::text[])`;
    const kept = Object.entries(patch.external_ids).filter((pair): pair is [string, string] => pair[1] !== null);
    await claimExternalIds(tx, id, Object.fromEntries(kept));
  }
  unit.changed('event', id, 'updated');
}

/** Soft-deletes a locked live event: it keeps every row and answers 410 with this tombstone. */
export async function deleteEvent(unit: UnitOfWork, id: string, reason: string | null, mergedInto: string | null = null): Promise<void> {
  await unit.tx.event.update({
    where: { id },
    data: { deletedAt: new Date(), deletedBy: unit.author, deleteReason: reason, mergedIntoId: mergedInto },
  });
  unit.changed('event', id, 'deleted');
}

/** Relates a locked live event to another live one; 409 when that relation exists already. */
export async function addRelation(unit: UnitOfWork, id: string, relation: RelationInput): Promise<void> {
  if (relation.event_id === id) throw ruleViolation('An event cannot be related to itself.');
  await assertRelatedEventsExist(unit.tx, [relation], () => '/event_id');
  const created = await unit.tx.eventRelation.createMany({
    data: [{ eventId: id, relatedEventId: relation.event_id, relation: relation.relation, createdBy: unit.author }],
    skipDuplicates: true,
  });
  if (created.count === 0) throw new ApiError('conflict', `The event already ${relation.relation} ${relation.event_id}.`);
  unit.changed('event', id, 'updated');
}

/** Removes one relation of a locked live event; 404 when it has no such relation. */
export async function removeRelation(unit: UnitOfWork, id: string, relation: RelationInput): Promise<void> {
  const removed = await unit.tx.eventRelation.deleteMany({
    where: { eventId: id, relatedEventId: relation.event_id, relation: relation.relation },
  });
  if (removed.count === 0) throw new ApiError('not-found', `The event has no relation "${relation.relation}" to ${relation.event_id}.`);
  unit.changed('event', id, 'updated');
}

/**
 * Merges the duplicate `id` into `into`: its live reports, participants, tags, relations
 * and external ids move to the survivor, and the duplicate is tombstoned with merged_into.
 * The caller has locked `id`; `into` is locked here.
 */
export async function mergeEvent(unit: UnitOfWork, id: string, into: string, reason: string | null): Promise<void> {
  const { tx } = unit;
  if (into === id) throw ruleViolation('An event cannot be merged into itself.');
  const [survivor] = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM events WHERE id = ${into}::uuid AND deleted_at IS NULL FOR UPDATE`;
  if (!survivor) throw invalidInput([{ path: '/into', in: 'body', message: `no live event has the id ${into}` }]);

  const moved = await tx.$queryRaw<{ id: string }[]>`
    UPDATE reports SET event_id = ${into}::uuid WHERE event_id = ${id}::uuid AND deleted_at IS NULL RETURNING id`;
  for (const report of moved) unit.changed('report', report.id, 'updated');
  await tx.$executeRaw`
    INSERT INTO participants (event_id, actor_id, role, position)
    SELECT ${into}::uuid, p.actor_id, p.role,
           (SELECT COALESCE(max(position), -1) FROM participants WHERE event_id = ${into}::uuid) + row_number() OVER (ORDER BY p.position)
    FROM participants p WHERE p.event_id = ${id}::uuid
    ON CONFLICT DO NOTHING`;
  await tx.$executeRaw`
    UPDATE events SET tags = ARRAY(
      SELECT tag FROM unnest(tags || (SELECT tags FROM events WHERE id = ${id}::uuid)) WITH ORDINALITY AS t(tag, n)
      GROUP BY tag ORDER BY min(n))
    WHERE id = ${into}::uuid`;
  await tx.$executeRaw`
    INSERT INTO event_relations (event_id, related_event_id, relation, created_by)
    SELECT ${into}::uuid, related_event_id, relation, ${unit.author} FROM event_relations
    WHERE event_id = ${id}::uuid AND related_event_id <> ${into}::uuid
    ON CONFLICT DO NOTHING`;
  // The duplicate's external ids now name the survivor, unless it has one from that source already.
  await tx.$executeRaw`
    UPDATE event_external_ids SET event_id = ${into}::uuid
    WHERE event_id = ${id}::uuid AND source NOT IN (SELECT source FROM event_external_ids WHERE event_id = ${into}::uuid)`;
  unit.changed('event', into, 'updated');
  await deleteEvent(unit, id, reason ?? `merged into ${into}`, into);
}

// Every write to events: create, merge-patch, soft delete, relations and merging
// duplicates. Each runs inside a write's unit of work (src/write/): it locks what it
// changes, checks, writes rows, and notes what changed; the runner's finish step does the rest.
import type { Transaction } from '../../db/client.js';
import { RisingIds, uuidv7 } from '../../db/uuid.js';
import { ApiError, invalidInput, notFound, ruleViolation, type Violation } from '../../http/errors.js';
import { assertVersion, type ExpectedVersion } from '../../http/preconditions.js';
import { actorKey, findOrCreateActors, lockLiveActors, type ActorByName } from '../actors/repository.js';
import type { ActorRef } from '../actors/schemas.js';
import { resolveActor } from '../actors/writes.js';
import { findOrCreateDocuments, normaliseUrl } from '../documents/repository.js';
import type { DocumentRef } from '../documents/schemas.js';
import { assertEventTypes } from '../event-types/repository.js';
import { figureRows, figureSubjects, figureValues } from '../figures/repository.js';
import type { FigureInput } from '../figures/schemas.js';
import { reportReferences } from '../reports/repository.js';
import { unknownIds, type Located, type UnitOfWork } from '../../write/unit.js';
import { insertDerivedEvents, insertEvidenceFigures } from './refresh.js';
import { EVENT_COLUMNS } from './render/json.js';
import type { EventInput, EventPatch, ParticipantInput, RelationInput } from './schemas.js';

/** Every actor and document reference in an event body, with where it stands. */
export function eventReferences(
  input: Pick<EventInput, 'participants' | 'figures'> & { reports?: EventInput['reports'] },
) {
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

async function assertRelatedEventsExist(
  tx: Transaction,
  relations: RelationInput[],
  pointer: (i: number) => string,
): Promise<void> {
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
  await claimEventsExternalIds(
    tx,
    Object.entries(ids).map(([source, external_id]) => ({ source, external_id, event_id: eventId })),
  );
}

/** The pairs of event_external_ids to claim: source, external id and the event that takes it. */
interface ExternalIdRow {
  source: string;
  external_id: string;
  event_id: string;
}

/** claimExternalIds for the pairs of several events at once; the 409 names the first pair held by another event. */
async function claimEventsExternalIds(tx: Transaction, pairs: ExternalIdRow[]): Promise<void> {
  if (pairs.length === 0) return;
  const claimed = await tx.$queryRaw<{ n: number }[]>`
    WITH claimed AS (
      INSERT INTO event_external_ids (source, external_id, event_id)
      SELECT source, external_id, event_id
      FROM json_to_recordset(${JSON.stringify(pairs)}::json) AS x(source text, external_id text, event_id uuid)
      ON CONFLICT DO NOTHING RETURNING 1)
    SELECT count(*)::int AS n FROM claimed`;
  if (claimed[0]?.n === pairs.length) return;
  const clashes = await tx.$queryRaw<{ source: string; external_id: string; event_id: string; claimant: string }[]>`
    SELECT h.source, h.external_id, h.event_id, x.event_id::text AS claimant
    FROM json_to_recordset(${JSON.stringify(pairs)}::json) AS x(source text, external_id text, event_id uuid)
    JOIN event_external_ids h ON h.source = x.source AND h.external_id = x.external_id AND h.event_id <> x.event_id
    ORDER BY x.event_id, h.source`;
  const first = clashes[0];
  if (!first) throw new Error(`external ids were neither claimed nor held by another event: ${JSON.stringify(pairs)}`);
  throw new ApiError(
    'conflict',
    `The external id ${first.source}:${first.external_id} belongs to the event ${first.event_id} already.`,
    {
      extra: { existing_id: first.event_id },
      errors: clashes
        .filter((clash) => clash.claimant === first.claimant)
        .map((clash) => ({
          path: `/external_ids/${clash.source}`,
          in: 'body' as const,
          message: `${clash.source}:${clash.external_id} belongs to the event ${clash.event_id}`,
        })),
    },
  );
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
  if (rows.length > 0)
    await unit.tx.figure.createMany({ data: rows.map((row) => ({ ...row, position: first + row.position })) });
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
async function patchEditorFigures(
  unit: UnitOfWork,
  eventId: string,
  figures: NonNullable<EventPatch['figures']> | null,
): Promise<void> {
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

/** Creates an event with everything nested in the body (POST /v1/events); returns its id. */
export async function createEvent(unit: UnitOfWork, input: EventInput): Promise<string> {
  const { tx } = unit;
  await assertEventTypes(tx, [[input.type, '/type']]);
  const refs = eventReferences(input);
  await unit.verifyReferences(refs.actors, refs.documents);
  await assertRelatedEventsExist(tx, input.relations, (i) => `/relations/${i}/event_id`);
  const [id] = await writeEvents(unit, [input]);
  return id!;
}

/**
 * Every actor reference of an event in the order its rows name them (participants, the event's
 * figure subjects, then per report: reporter, via, figure subjects), so the first mention of a
 * new actor is the one whose fields it is created with.
 */
function* actorsInWriteOrder(input: EventInput): Generator<ActorRef> {
  const subjects = (figures: FigureInput[]) => figures.flatMap((f) => (f.subject ? [f.subject] : []));
  for (const participant of input.participants) yield participant.actor;
  yield* subjects(input.figures);
  for (const report of input.reports) {
    yield report.reporter;
    yield* report.via;
    yield* subjects(report.figures);
  }
}

const isoOrNull = (value: string | null | undefined) => (value ? new Date(value).toISOString() : null);

/** The rows of events made from their bodies, by table, as json_to_recordset reads them. */
interface EventRows {
  events: Record<string, unknown>[];
  externalIds: ExternalIdRow[];
  participants: { event_id: string; actor_id: string; role: string; position: number }[];
  figures: Record<string, unknown>[];
  reports: Record<string, unknown>[];
  via: { report_id: string; position: number; actor_id: string }[];
  relations: { event_id: string; related_event_id: string; relation: string }[];
}

/**
 * Turns event bodies into the rows of every table they fill: the one mapping of an event body
 * (POST /v1/events, a line of an import, an event of the synthetic loader) to rows. Ids come
 * from `ids`, in body order (an event, then its reports), so rows sort as the bodies came (the
 * writers give RisingIds; the loader gives ids dated by its made-up created_at); `actorId` and
 * `documentId` give the ids of the references, resolved before.
 */
export function eventRows(
  inputs: EventInput[],
  ids: Pick<RisingIds, 'next'>,
  actorId: (ref: ActorRef) => string,
  documentId: (ref: DocumentRef | null | undefined) => string | null,
): EventRows & { eventIds: string[]; reportIds: string[] } {
  const rows: EventRows & { eventIds: string[]; reportIds: string[] } = {
    events: [],
    externalIds: [],
    participants: [],
    figures: [],
    reports: [],
    via: [],
    relations: [],
    eventIds: [],
    reportIds: [],
  };
  const figureRows = (list: FigureInput[], owner: { event_id: string } | { report_id: string }) =>
    list.map((figure, position) => ({
      id: uuidv7(),
      event_id: null,
      report_id: null,
      ...owner,
      position,
      ...figureValues(figure),
      subject_id: figure.subject ? actorId(figure.subject) : null,
    }));

  for (const input of inputs) {
    const id = ids.next();
    rows.eventIds.push(id);
    const location = input.location;
    rows.events.push({
      id,
      type: input.type,
      title: input.title,
      description: input.description ?? null,
      // A status in the body is an editor's; without one the reports decide it (insertDerivedEvents).
      status: input.status ?? null,
      status_source: input.status ? 'editor' : 'evidence',
      occurred_start: input.occurred.start,
      occurred_end: input.occurred.end ?? input.occurred.start,
      occurred_precision: input.occurred.precision,
      location_name: location?.name ?? null,
      admin1: location?.admin1 ?? null,
      admin2: location?.admin2 ?? null,
      admin3: location?.admin3 ?? null,
      country: location?.country ?? null,
      lat: location?.lat ?? null,
      lon: location?.lon ?? null,
      location_precision: location?.precision ?? 'unknown',
      tags: [...new Set(input.tags)],
    });
    for (const [source, externalId] of Object.entries(input.external_ids ?? {})) {
      rows.externalIds.push({ source, external_id: externalId, event_id: id });
    }
    // The same actor named twice in one role counts once.
    const seen = new Set<string>();
    for (const participant of input.participants) {
      const actor = actorId(participant.actor);
      if (seen.has(`${actor}/${participant.role}`)) continue;
      seen.add(`${actor}/${participant.role}`);
      rows.participants.push({ event_id: id, actor_id: actor, role: participant.role, position: seen.size - 1 });
    }
    rows.figures.push(...figureRows(input.figures, { event_id: id }));
    for (const report of input.reports) {
      const reportId = ids.next();
      rows.reportIds.push(reportId);
      const statedAt = report.stated_at ?? null;
      rows.reports.push({
        id: reportId,
        event_id: id,
        reporter_id: actorId(report.reporter),
        reporter_role: report.reporter_role,
        document_id: documentId(report.document),
        stated_at: isoOrNull(statedAt),
        stated_at_precision: statedAt ? (statedAt.length === 10 ? 'date' : 'date_time') : null,
        stance: report.stance,
        quote: report.quote ?? null,
        reliability: report.reliability ?? null,
        credibility: report.credibility ?? null,
      });
      report.via.forEach((ref, position) => rows.via.push({ report_id: reportId, position, actor_id: actorId(ref) }));
      rows.figures.push(...figureRows(report.figures, { report_id: reportId }));
    }
    for (const relation of input.relations)
      rows.relations.push({ event_id: id, related_event_id: relation.event_id, relation: relation.relation });
  }
  return rows;
}

/**
 * The keys from the rows of an event to the event (DEFERRABLE, migration deferrable_event_keys):
 * deferred while writeEvents inserts those rows before the event row they belong to.
 */
const EVENT_KEYS =
  'reports_event_id_fkey, participants_event_id_fkey, figures_event_id_fkey, event_external_ids_event_id_fkey, ' +
  'event_relations_event_id_fkey';

/**
 * The event rows writeEvents inserts, with every column the event's JSON shows (EVENT_COLUMNS), read by
 * json_populate_recordset ($1 the rows, $2 the author). Timestamps rounded to the column's milliseconds, so the
 * rendering shows what is stored.
 */
const NEW_EVENTS = `(SELECT ${EVENT_COLUMNS.map((column) =>
  column === 'version'
    ? '1 AS version'
    : column === 'created_at' || column === 'updated_at'
      ? `now()::timestamptz(3) AS ${column}`
      : column === 'created_by' || column === 'updated_by'
        ? `$2::text AS ${column}`
        : column === 'deleted_at'
          ? 'NULL::timestamptz(3) AS deleted_at'
          : `x.${column}`,
).join(', ')} FROM json_populate_recordset(NULL::events, $1::json) x)`;
const INSERT_NEW_EVENTS = insertDerivedEvents(NEW_EVENTS, EVENT_COLUMNS, { deriveStatus: true });

/** The ids of the actors (by actorKey) and documents (by normalised URL) that event bodies name by name or URL. */
export interface ResolvedReferences {
  actors: Map<string, string>;
  documents: Map<string, string>;
}

const byName = (ref: ActorRef): ref is ActorByName => !('id' in ref);

/** The key of an actor reference in ResolvedReferences.actors: by kind and name (or alias), or `#id`. */
const refKey = (ref: ActorRef) => (byName(ref) ? actorKey(ref) : `#${ref.id}`);

/**
 * Finds or creates the actors and documents that event bodies name by name (or alias) or URL,
 * set-based (the first mention's fields make a new one, as one-by-one writes would), noting those
 * it created in the unit. An actor given by id stands for its survivor when it was merged. Every
 * actor is locked against a merge until this transaction ends (as resolveActor locks it).
 */
export async function resolveEventReferences(unit: UnitOfWork, inputs: EventInput[]): Promise<ResolvedReferences> {
  const { tx, author } = unit;
  const byId = new Set<string>();
  const actors = await findOrCreateActors(
    tx,
    author,
    (function* () {
      for (const input of inputs)
        for (const ref of actorsInWriteOrder(input)) {
          if (byName(ref)) yield ref;
          else byId.add(ref.id);
        }
    })(),
  );
  for (const [id, live] of await lockLiveActors(tx, [...byId])) actors.ids.set(`#${id}`, live);
  const documents = await findOrCreateDocuments(
    tx,
    author,
    (function* () {
      for (const input of inputs)
        for (const report of input.reports) if (report.document && !('id' in report.document)) yield report.document;
    })(),
  );
  for (const id of actors.created) unit.changed('actor', id, 'created');
  for (const id of documents.created) unit.changed('document', id, 'created');
  return { actors: actors.ids, documents: documents.ids };
}

/**
 * References resolved in an earlier transaction (an import batch resolves them in one of its own):
 * their actors locked again in this one, each standing for its survivor if a merge came between.
 */
async function relockActors(unit: UnitOfWork, resolved: ResolvedReferences): Promise<ResolvedReferences> {
  const live = await lockLiveActors(unit.tx, [...new Set(resolved.actors.values())]);
  const actors = new Map([...resolved.actors].map(([key, id]) => [key, live.get(id) ?? id]));
  return { actors, documents: resolved.documents };
}

/**
 * Creates events from their bodies, checked before (createEvent, an import's checkBatch): the one
 * create path of events. Finds or creates the actors and documents they name, unless the caller
 * did (resolveEventReferences, `resolved`), calls `ready` once the rows have their ids (the next
 * import batch may then start), claims their external ids (409 when another event holds one),
 * inserts their reports, participants, figures and relations, then the event rows with their
 * derived columns (rendered JSON, CSV record, search vector, reporter and via sets, status), so
 * each event row is written once. Notes every created resource in the unit; returns the events'
 * ids in order.
 */
export async function writeEvents(
  unit: UnitOfWork,
  inputs: EventInput[],
  ids: RisingIds = new RisingIds(),
  ready: () => void = () => {},
  resolved?: ResolvedReferences,
): Promise<string[]> {
  const { tx, author } = unit;
  if (inputs.length === 0) {
    ready();
    return [];
  }
  const { actors, documents } = resolved
    ? await relockActors(unit, resolved)
    : await resolveEventReferences(unit, inputs);
  const rows = eventRows(
    inputs,
    ids,
    (ref) => actors.get(refKey(ref))!,
    (ref) => (!ref ? null : 'id' in ref ? ref.id : documents.get(normaliseUrl(ref.url))!),
  );
  ready();

  const insert = async (sql: string, list: unknown[]) => {
    // eslint-disable-next-line raw-sql/unsafe -- constant statements below; rows ($1) and author ($2) bound
    if (list.length > 0) await tx.$executeRawUnsafe(sql, JSON.stringify(list), ...(sql.includes('$2') ? [author] : []));
  };
  // eslint-disable-next-line raw-sql/unsafe -- SET takes no parameters; EVENT_KEYS is a constant
  await tx.$executeRawUnsafe(`SET CONSTRAINTS ${EVENT_KEYS} DEFERRED`);
  await claimEventsExternalIds(tx, rows.externalIds);
  await insert(
    `INSERT INTO participants (event_id, actor_id, role, position)
     SELECT event_id, actor_id, role, position
     FROM json_to_recordset($1::json) AS x(event_id uuid, actor_id uuid, role participant_role, position int)`,
    rows.participants,
  );
  await insert(
    `INSERT INTO reports (id, event_id, reporter_id, reporter_role, document_id, stated_at, stated_at_precision, stance, quote,
       reliability, credibility, created_by, updated_by)
     SELECT id, event_id, reporter_id, reporter_role, document_id, stated_at, stated_at_precision, stance, quote,
       reliability, credibility, $2, $2
     FROM json_to_recordset($1::json) AS x(id uuid, event_id uuid, reporter_id uuid, reporter_role reporter_role, document_id uuid,
       stated_at timestamptz, stated_at_precision stated_at_precision, stance stance, quote text, reliability text, credibility int)`,
    rows.reports,
  );
  await insert(
    `INSERT INTO report_via (report_id, position, actor_id)
     SELECT report_id, position, actor_id FROM json_to_recordset($1::json) AS x(report_id uuid, position int, actor_id uuid)`,
    rows.via,
  );
  await insert(
    `INSERT INTO figures (id, event_id, report_id, position, measure, low, best, high, qualifier, text, unit, subject_id)
     SELECT id, event_id, report_id, position, measure, low, best, high, qualifier, "text", unit, subject_id
     FROM json_to_recordset($1::json) AS x(id uuid, event_id uuid, report_id uuid, position int, measure figure_measure, low int,
       best int, high int, qualifier figure_qualifier, "text" text, unit text, subject_id uuid)`,
    rows.figures,
  );
  await insert(
    `INSERT INTO event_relations (event_id, related_event_id, relation, created_by)
     SELECT event_id, related_event_id, relation, $2
     FROM json_to_recordset($1::json) AS x(event_id uuid, related_event_id uuid, relation relation_kind)
     ON CONFLICT DO NOTHING`,
    rows.relations,
  );
  // The figures the evidence gives (where no editor figure names the measure), before the rows that render them.
  // eslint-disable-next-line raw-sql/unsafe -- constant text (refresh.ts's evidence figures); the ids are bound
  await tx.$executeRawUnsafe(insertEvidenceFigures('(SELECT unnest($1::uuid[]) AS id)'), rows.eventIds);
  await insert(INSERT_NEW_EVENTS, rows.events);
  // The deferred keys are checked here, not at COMMIT: a refused row fails this write, as an immediate key would.
  // eslint-disable-next-line raw-sql/unsafe -- SET takes no parameters; EVENT_KEYS is a constant
  await tx.$executeRawUnsafe(`SET CONSTRAINTS ${EVENT_KEYS} IMMEDIATE`);

  for (const id of rows.eventIds) {
    unit.changed('event', id, 'created');
    unit.insertedDerived(id);
  }
  for (const id of rows.reportIds) unit.changed('report', id, 'created');
  return rows.eventIds;
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

/**
 * The new occurred interval and location of a patch, merged into the current ones (RFC 7396) and checked as a whole.
 */
function mergeWhenAndWhere(current: CurrentEvent, patch: EventPatch) {
  const violations: Violation[] = [];
  const occurred = {
    start: patch.occurred?.start ?? current.occurredStart.toISOString().slice(0, 10),
    end:
      patch.occurred?.end === null
        ? undefined
        : (patch.occurred?.end ?? current.occurredEnd.toISOString().slice(0, 10)),
    precision: patch.occurred?.precision ?? current.occurredPrecision,
  };
  occurred.end ??= occurred.start;
  if (occurred.start > occurred.end)
    violations.push({ path: '/occurred/end', in: 'body', message: 'end must not be before start' });

  const kept = patch.location === null ? undefined : current;
  const pick = <K extends keyof NonNullable<EventPatch['location']>>(key: K, now: unknown) =>
    patch.location && key in patch.location ? (patch.location[key] ?? null) : kept ? now : null;
  const location = {
    locationName: pick('name', current.locationName) as string | null,
    admin1: pick('admin1', current.admin1) as string | null,
    admin2: pick('admin2', current.admin2) as string | null,
    admin3: pick('admin3', current.admin3) as string | null,
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

/**
 * Applies a JSON merge patch to a locked live event: objects merge, arrays (participants, figures, tags) are replaced.
 */
export async function patchEvent(unit: UnitOfWork, id: string, patch: EventPatch): Promise<void> {
  const { tx } = unit;
  const current = await tx.event.findUniqueOrThrow({ where: { id } });
  if (patch.type !== undefined) await assertEventTypes(tx, [[patch.type, '/type']]);
  const refs = eventReferences({ participants: patch.participants ?? [], figures: [] });
  for (const [figures, pointer] of patchFigureLists(patch.figures))
    refs.actors.push(...figureSubjects(figures, pointer));
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
export async function deleteEvent(
  unit: UnitOfWork,
  id: string,
  reason: string | null,
  mergedInto: string | null = null,
): Promise<void> {
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
  if (created.count === 0)
    throw new ApiError('conflict', `The event already ${relation.relation} ${relation.event_id}.`);
  unit.changed('event', id, 'updated');
}

/** Removes one relation of a locked live event; 404 when it has no such relation. */
export async function removeRelation(unit: UnitOfWork, id: string, relation: RelationInput): Promise<void> {
  const removed = await unit.tx.eventRelation.deleteMany({
    where: { eventId: id, relatedEventId: relation.event_id, relation: relation.relation },
  });
  if (removed.count === 0)
    throw new ApiError('not-found', `The event has no relation "${relation.relation}" to ${relation.event_id}.`);
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

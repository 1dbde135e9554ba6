// Writing a batch of validated events in a handful of set-based statements, with the
// same result as creating them one by one (createEvent in ../events/writes.ts): the same
// checks, the same find-or-create of actors and documents (same normalisation, same
// unique keys, the first mention's fields), the same rows. The caller then derives the
// events' columns and writes the revisions, as the finish step (src/write/finish.ts) does.
import type { z } from 'zod';
import type { Transaction } from '../../db/client.js';
import { uuidv7 } from '../../db/uuid.js';
import type { Violation } from '../../http/errors.js';
import { findOrCreateActors, lockLiveActors, normaliseName } from '../actors/repository.js';
import type { ActorByNameSchema, ActorRef } from '../actors/schemas.js';
import { normaliseUrl } from '../documents/repository.js';
import type { DocumentByUrl, DocumentRef } from '../documents/schemas.js';
import { eventTypeCodes, unknownEventTypes } from '../event-types/repository.js';
import { eventReferences } from '../events/writes.js';
import type { EventInput } from '../events/schemas.js';
import { figureValues } from '../figures/repository.js';
import type { FigureInput } from '../figures/schemas.js';
import { unknownIds } from '../../write/unit.js';
import { SELF_SOURCE } from './exported.js';
import type { LineViolation } from './records.js';

type ActorByName = z.infer<typeof ActorByNameSchema>;

/** A line whose value passed the schema of POST /v1/events. */
export interface ValidLine {
  line: number;
  input: EventInput;
}

export interface LineError {
  line: number;
  errors: LineViolation[];
}

/** The resources a batch created, by kind, for revisions and derived columns. */
export interface Created {
  actors: string[];
  documents: string[];
  events: string[];
  reports: string[];
}

const withoutPart = (violations: Violation[]): LineViolation[] => violations.map(({ path, message }) => ({ path, message }));

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
  const wanted = (pick: (i: number) => [string, string][]) => [...new Set(lines.flatMap((_, i) => pick(i).map(([id]) => id)))];
  const actorIds = wanted((i) => byId(references[i]!.actors));
  const documentIds = wanted((i) => byId(references[i]!.documents));
  const eventIds = [...new Set(lines.flatMap((line) => line.input.relations.map((r) => r.event_id)))];
  const [actors, documents, events] = await Promise.all([
    actorIds.length > 0 ? tx.actor.findMany({ where: { id: { in: actorIds } }, select: { id: true } }) : [],
    documentIds.length > 0 ? tx.document.findMany({ where: { id: { in: documentIds } }, select: { id: true } }) : [],
    eventIds.length > 0 ? tx.event.findMany({ where: { id: { in: eventIds }, deletedAt: null }, select: { id: true } }) : [],
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

/** UUIDv7s that grow strictly in the order they are made: rows made in line order sort in it, as one-by-one writes would. */
export class RisingIds {
  private last = '';

  next(): string {
    let id = uuidv7();
    if (id <= this.last) {
      // Same millisecond (or the clock went back): the successor of the last one.
      const tail = parseInt(this.last.slice(24), 16) + 1;
      id = tail <= 0xffffffffffff ? `${this.last.slice(0, 24)}${tail.toString(16).padStart(12, '0')}` : uuidv7(Date.now() + 1);
    }
    this.last = id;
    return id;
  }
}

const actorKey = (ref: ActorByName) => `${ref.kind}\u0000${normaliseName(ref.name)}`;

/**
 * Every actor reference of an event in the order createEvent resolves them (participants, the
 * event's figure subjects, then per report: reporter, via, figure subjects), so the first
 * mention of a new actor is the one whose fields it is created with.
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

/**
 * Writes the events of `lines` (checked by checkBatch) with everything nested in them, and
 * the actors and documents they name that do not exist yet. Returns what it created.
 */
export async function writeBatch(
  tx: Transaction,
  author: string,
  lines: ValidLine[],
  ids: RisingIds,
  /** Called once the actors and documents are resolved and the rows have their ids: the next batch may start. */
  ready: () => void = () => {},
): Promise<Created> {
  const created: Created = { actors: [], documents: [], events: [], reports: [] };
  if (lines.length === 0) {
    ready();
    return created;
  }

  const actorIds = await resolveActors(tx, author, lines, created);
  const documentIds = await findOrCreateDocuments(tx, author, lines, created);
  const actorId = (ref: ActorRef) => actorIds.get('id' in ref ? `#${ref.id}` : actorKey(ref))!;
  const documentId = (ref: DocumentRef | null | undefined) =>
    !ref ? null : 'id' in ref ? ref.id : documentIds.get(normaliseUrl(ref.url))!;

  const events = [];
  const externalIds = [];
  const participants = [];
  const figures = [];
  const reports = [];
  const via: { report_id: string; position: number; actor_id: string }[] = [];
  const relations = [];
  const figureRows = (list: FigureInput[], owner: { event_id: string } | { report_id: string }) =>
    list.map((figure, position) => {
      const { measure, low, best, high, qualifier, text, unit } = figureValues(figure);
      return {
        id: uuidv7(),
        event_id: null,
        report_id: null,
        ...owner,
        position,
        measure,
        low,
        best,
        high,
        qualifier,
        text,
        unit,
        subject_id: figure.subject ? actorId(figure.subject) : null,
      };
    });

  for (const { input } of lines) {
    const id = ids.next();
    created.events.push(id);
    const location = input.location;
    events.push({
      id,
      type: input.type,
      title: input.title,
      description: input.description ?? null,
      // A status in the body is an editor's; without one the reports decide it (refreshEvents).
      status: input.status ?? null,
      status_source: input.status ? 'editor' : 'evidence',
      occurred_start: input.occurred.start,
      occurred_end: input.occurred.end ?? input.occurred.start,
      occurred_precision: input.occurred.precision,
      location_name: location?.name ?? null,
      admin1: location?.admin1 ?? null,
      admin2: location?.admin2 ?? null,
      country: location?.country ?? null,
      lat: location?.lat ?? null,
      lon: location?.lon ?? null,
      location_precision: location?.precision ?? 'unknown',
      tags: [...new Set(input.tags)],
    });
    for (const [source, externalId] of Object.entries(input.external_ids ?? {})) {
      externalIds.push({ source, external_id: externalId, event_id: id });
    }
    // The same actor named twice in one role counts once, as insertParticipants does.
    const seen = new Set<string>();
    for (const participant of input.participants) {
      const actor = actorId(participant.actor);
      if (seen.has(`${actor}/${participant.role}`)) continue;
      seen.add(`${actor}/${participant.role}`);
      participants.push({ event_id: id, actor_id: actor, role: participant.role, position: seen.size - 1 });
    }
    figures.push(...figureRows(input.figures, { event_id: id }));
    for (const report of input.reports) {
      const reportId = ids.next();
      created.reports.push(reportId);
      const statedAt = report.stated_at ?? null;
      reports.push({
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
      report.via.forEach((ref, position) => via.push({ report_id: reportId, position, actor_id: actorId(ref) }));
      figures.push(...figureRows(report.figures, { report_id: reportId }));
    }
    for (const relation of input.relations)
      relations.push({ event_id: id, related_event_id: relation.event_id, relation: relation.relation });
  }

  ready();
  const insert = async (sql: string, rows: unknown[]) => {
    if (rows.length > 0) await tx.$executeRawUnsafe(sql, JSON.stringify(rows), ...(sql.includes('$2') ? [author] : []));
  };
  await insert(
    `INSERT INTO events (id, type, title, description, status, status_source, occurred_start, occurred_end, occurred_precision,
       location_name, admin1, admin2, country, lat, lon, location_precision, tags, created_by, updated_by)
     SELECT id, type, title, description, COALESCE(status, 'reported'), status_source, occurred_start, occurred_end, occurred_precision,
       location_name, admin1, admin2, country, lat, lon, location_precision, tags, $2, $2
     FROM json_to_recordset($1::json) AS x(id uuid, type text, title text, description text, status event_status,
       status_source status_source, occurred_start date, occurred_end date, occurred_precision date_precision, location_name text,
       admin1 text, admin2 text, country text, lat float8, lon float8, location_precision location_precision, tags text[])`,
    events,
  );
  await insert(
    `INSERT INTO event_external_ids (source, external_id, event_id)
     SELECT source, external_id, event_id FROM json_to_recordset($1::json) AS x(source text, external_id text, event_id uuid)`,
    externalIds,
  );
  await insert(
    `INSERT INTO participants (event_id, actor_id, role, position)
     SELECT event_id, actor_id, role, position
     FROM json_to_recordset($1::json) AS x(event_id uuid, actor_id uuid, role participant_role, position int)`,
    participants,
  );
  await insert(
    `INSERT INTO reports (id, event_id, reporter_id, reporter_role, document_id, stated_at, stated_at_precision, stance, quote,
       reliability, credibility, created_by, updated_by)
     SELECT id, event_id, reporter_id, reporter_role, document_id, stated_at, stated_at_precision, stance, quote,
       reliability, credibility, $2, $2
     FROM json_to_recordset($1::json) AS x(id uuid, event_id uuid, reporter_id uuid, reporter_role reporter_role, document_id uuid,
       stated_at timestamptz, stated_at_precision stated_at_precision, stance stance, quote text, reliability text, credibility int)`,
    reports,
  );
  await insert(
    `INSERT INTO report_via (report_id, position, actor_id)
     SELECT report_id, position, actor_id FROM json_to_recordset($1::json) AS x(report_id uuid, position int, actor_id uuid)`,
    via,
  );
  await insert(
    `INSERT INTO figures (id, event_id, report_id, position, measure, low, best, high, qualifier, text, unit, subject_id)
     SELECT id, event_id, report_id, position, measure, low, best, high, qualifier, "text", unit, subject_id
     FROM json_to_recordset($1::json) AS x(id uuid, event_id uuid, report_id uuid, position int, measure figure_measure, low int,
       best int, high int, qualifier figure_qualifier, "text" text, unit text, subject_id uuid)`,
    figures,
  );
  await insert(
    `INSERT INTO event_relations (event_id, related_event_id, relation, created_by)
     SELECT event_id, related_event_id, relation, $2
     FROM json_to_recordset($1::json) AS x(event_id uuid, related_event_id uuid, relation relation_kind)
     ON CONFLICT DO NOTHING`,
    relations,
  );
  return created;
}

/**
 * Finds or creates every actor the lines name by kind and name (or alias), as findOrCreateActor
 * does, set-based (findOrCreateActors); an actor given by id stands for its survivor when it was
 * merged. Every actor used is locked against a merge, as resolveActor locks it.
 */
async function resolveActors(tx: Transaction, author: string, lines: ValidLine[], created: Created): Promise<Map<string, string>> {
  const byName: ActorByName[] = [];
  const byId: string[] = [];
  for (const { input } of lines) {
    for (const ref of actorsInWriteOrder(input)) {
      if ('id' in ref) byId.push(ref.id);
      else byName.push(ref);
    }
  }
  const named = await findOrCreateActors(tx, author, byName);
  created.actors.push(...named.created);
  for (const [id, live] of await lockLiveActors(tx, byId)) named.ids.set(`#${id}`, live);
  return named.ids;
}

/** Finds or creates every document the lines give by URL, as findOrCreateDocument does, in two statements. */
async function findOrCreateDocuments(tx: Transaction, author: string, lines: ValidLine[], created: Created): Promise<Map<string, string>> {
  const wanted = new Map<string, DocumentByUrl>();
  for (const { input } of lines) {
    for (const report of input.reports) {
      const ref = report.document;
      if (ref && !('id' in ref) && !wanted.has(normaliseUrl(ref.url))) wanted.set(normaliseUrl(ref.url), ref);
    }
  }
  const ids = new Map<string, string>();
  if (wanted.size === 0) return ids;
  const rows = [...wanted].map(([url, ref]) => ({
    id: uuidv7(),
    url,
    title: ref.title ?? null,
    publisher: ref.publisher ?? null,
    published_at: isoOrNull(ref.published_at),
    language: ref.language ?? null,
    archive_url: ref.archive_url ?? null,
    content_hash: ref.content_hash ?? null,
  }));
  const inserted = await tx.$queryRawUnsafe<{ id: string }[]>(
    `INSERT INTO documents (id, url, title, publisher, published_at, language, archive_url, content_hash, created_by, updated_by)
     SELECT id, url, title, publisher, published_at, language, archive_url, content_hash, $2, $2
     FROM json_to_recordset($1::json) AS x(id uuid, url text, title text, publisher text, published_at timestamptz, language text,
       archive_url text, content_hash text)
     ORDER BY url
     ON CONFLICT (url) DO NOTHING
     RETURNING id`,
    JSON.stringify(rows),
    author,
  );
  created.documents.push(...inserted.map((row) => row.id));
  const found = await tx.$queryRawUnsafe<{ id: string; url: string }[]>(
    `SELECT id, url FROM documents WHERE url = ANY($1::text[])`,
    rows.map((row) => row.url),
  );
  for (const row of found) ids.set(row.url, row.id);
  return ids;
}

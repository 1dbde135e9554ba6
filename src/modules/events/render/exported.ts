// Exports are imports (docs/data-model.md, Imports): an event as the API serves it (an NDJSON export line, a
// GET /v1/events/{id} body) made into the EventCreate it stands for, so that import lines
// may be either. Read-only fields are dropped; expanded refs become name (or URL) refs, which
// find-or-create resolves in any instance; the event's own id becomes the external id
// self:<id>, so importing it again (here or into a copy) skips it (see batch.ts).
//
// Only fields the API serves are touched: anything else stays, and EventInputSchema still
// refuses it by name. POST /v1/events does not take this form: it is the import's reading.
import { EVENT_READ_ONLY } from './json.js';

/** The external-id source under which an imported event keeps the id it had where it was exported. */
export const SELF_SOURCE = 'self';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Drops `keys` from an object. */
const without = (value: Json, keys: readonly string[]): Json =>
  Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k)));

/** An expanded ActorSummary { id, name, kind, country } as the name form; { id } alone stays a ref by id. */
function actorRef(ref: unknown): unknown {
  if (!isObject(ref) || !('id' in ref) || !('name' in ref)) return ref;
  const { id: _id, country, ...rest } = ref;
  return country === null ? rest : { ...rest, country };
}

/** An expanded DocumentSummary { id, url, ... } as the URL form; nulls (fields not known) left out. */
function documentRef(ref: unknown): unknown {
  if (!isObject(ref) || !('id' in ref) || !('url' in ref)) return ref;
  return Object.fromEntries(Object.entries(ref).filter(([key, value]) => key !== 'id' && value !== null));
}

const mapArray = (value: unknown, each: (item: unknown) => unknown) => (Array.isArray(value) ? value.map(each) : value);

function figure(value: unknown): unknown {
  if (!isObject(value)) return value;
  const out = { ...value };
  if ('subject' in out) out.subject = actorRef(out.subject);
  // Served as null when not stated; a written figure leaves it out instead.
  if (out.qualifier === null) delete out.qualifier;
  return out;
}

const REPORT_READ_ONLY = [
  'id',
  'event_id',
  'version',
  'created_at',
  'updated_at',
  'created_by',
  'updated_by',
  'deleted_at',
];

function report(value: unknown): unknown {
  if (!isObject(value)) return value;
  const out = without(value, REPORT_READ_ONLY);
  if ('reporter' in out) out.reporter = actorRef(out.reporter);
  if ('via' in out) out.via = mapArray(out.via, actorRef);
  if ('document' in out) out.document = documentRef(out.document);
  if ('figures' in out) out.figures = mapArray(out.figures, figure);
  return out;
}

/**
 * The EventCreate body of a served event, or `value` itself when it is not one (it has no
 * string `id`: a plain EventCreate line). Keeps an external id `self` the event already has,
 * so a copy of a copy still names the first event.
 */
export function eventCreateOf(value: unknown): unknown {
  if (!isObject(value) || typeof value.id !== 'string') return value;
  const out = without(value, EVENT_READ_ONLY);
  // A status the evidence gave is derived again from the reports; an editor's is kept.
  if (value.status_source === 'evidence') delete out.status;
  if ('participants' in out)
    out.participants = mapArray(out.participants, (p) =>
      isObject(p) && 'actor' in p ? { ...p, actor: actorRef(p.actor) } : p,
    );
  // Figures the evidence gave are derived again from the reports; an editor's are kept, as the editor's.
  if (Array.isArray(out.figures))
    out.figures = out.figures
      .filter((f) => !(isObject(f) && f.source === 'evidence'))
      .map((f) => figure(isObject(f) ? without(f, ['source']) : f));
  if ('reports' in out) out.reports = mapArray(out.reports, report);
  // Links to events of the exporting instance: those ids name nothing elsewhere. Relations are left out.
  delete out.relations;
  const external = isObject(out.external_ids) ? out.external_ids : {};
  out.external_ids = { ...external, [SELF_SOURCE]: external[SELF_SOURCE] ?? value.id };
  return out;
}

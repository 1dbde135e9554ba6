// Sparse fieldsets: `fields=id,type,occurred.start,location.lat` picks members of the event JSON.
// The paths come from EventSchema, so they follow the wire format; PostgreSQL builds the sparse
// object with jsonb_build_object (from the event row's columns, or from the stored text
// events.rendered parsed as jsonb), so a sparse page or export is still text made by the
// database and passed on as bytes. Only whitelisted paths ever reach the SQL.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { commaList } from '../../http/query-values.js';
import { EVENT_ROW_MEMBERS } from './render/json.js';
import { EventSchema } from './schemas.js';

/** The member every selection includes: clients key and page by it. */
const ALWAYS = 'id';

/** The schema under optional/nullable/default wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault)
    current = current.unwrap() as z.ZodType;
  return current;
}

/**
 * Every path `fields` accepts, in the order of the event JSON: each member, and each member of
 * the objects that are always present (occurred, location). Arrays (reports, participants,
 * figures, ...) and the external_ids map are selected whole: their items keep their full shape,
 * so a report is always a whole Report, with its id.
 */
function pathsOf(shape: Record<string, z.ZodType>, prefix = ''): string[] {
  return Object.entries(shape).flatMap(([key, schema]) => {
    const path = `${prefix}${key}`;
    // Only objects that are never null: projecting into a null would answer an object of nulls.
    return schema instanceof z.ZodObject ? [path, ...pathsOf(schema.shape, `${path}.`)] : [path];
  });
}

export const EVENT_FIELD_PATHS = pathsOf(EventSchema.shape) as [string, ...string[]];

/** Members whose inside cannot be selected: arrays and maps, named in the answer to a path into them. */
const WHOLE_ONLY = new Set(
  Object.entries(EventSchema.shape as Record<string, z.ZodType>)
    .filter(([, schema]) => unwrap(schema) instanceof z.ZodArray || unwrap(schema) instanceof z.ZodRecord)
    .map(([key]) => key),
);

/** Why a path into an array or map is refused, for the 400's message; undefined for other unknown paths. */
function hintFor(part: string): string | undefined {
  const head = part.split('.')[0] ?? '';
  if (!part.includes('.') || !WHOLE_ONLY.has(head)) return undefined;
  return `${head} is selected whole (fields=${head}): paths into its items are not supported`;
}

export const FieldsParamSchema = commaList(
  z.enum(EVENT_FIELD_PATHS),
  'Sparse fieldset: only these members of each event are sent, as dotted paths into Event (`occurred.start`, ' +
    '`location.lat`). `id` is always sent, asked for or not. Nested objects keep their nesting; a path to an object ' +
    '(`location`) sends it whole, and so does a path to an array (`reports`) or to `external_ids`: paths into their ' +
    'items (`reports.stance`) are a 400. For GeoJSON it selects the Feature properties (the geometry is always ' +
    'there). An unknown path is a 400 naming it, with the valid ones. The Event schema lists every member an event ' +
    'may have; with fields, only those selected are present',
  'paths separated by commas',
  hintFor,
);

/**
 * A validated selection of event members, canonical: the same selection asked in another order or form has the same
 * paths (and ETag).
 */
export interface FieldSelection {
  /** The paths kept, in the order of the event JSON, with id, without paths inside one selected whole. */
  paths: string[];
}

/** The selection of `fields` as parsed (valid paths); undefined when none was asked for. */
export function fieldSelection(fields: readonly string[] | undefined): FieldSelection | undefined {
  if (!fields) return undefined;
  const asked = new Set([ALWAYS, ...fields]);
  // `location` and `location.lat` together: location whole.
  const covered = (path: string) => [...asked].some((other) => path.startsWith(`${other}.`));
  return { paths: EVENT_FIELD_PATHS.filter((path) => asked.has(path) && !covered(path)) };
}

/** A short tag of the selection, in the ETag of a sparse read: another selection is another representation. */
export function selectionTag(selection: FieldSelection): string {
  return createHash('sha256').update(selection.paths.join(',')).digest('hex').slice(0, 8);
}

type Tree = Map<string, Tree | null>;

function treeOf(paths: readonly string[]): Tree {
  const root: Tree = new Map();
  for (const path of paths) {
    const keys = path.split('.');
    let node = root;
    keys.forEach((key, i) => {
      if (i === keys.length - 1) node.set(key, null);
      else {
        const child = node.get(key) ?? new Map<string, Tree | null>();
        node.set(key, child);
        node = child;
      }
    });
  }
  return root;
}

/** A key as an SQL literal; keys come from EVENT_FIELD_PATHS, checked again here since they are written into SQL. */
function keyLiteral(key: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(key)) throw new Error(`not a field name: ${key}`);
  return `'${key}'`;
}

/** The value of `path` read from the event row `e` (a column, or an object of columns), if it has one. */
function rowValue(path: string): string | undefined {
  if (EVENT_ROW_MEMBERS[path]) return EVENT_ROW_MEMBERS[path];
  const children = EVENT_FIELD_PATHS.filter(
    (other) => other.startsWith(`${path}.`) && !other.slice(path.length + 1).includes('.'),
  );
  const values = children.map((child) => [child.slice(path.length + 1), rowValue(child)] as const);
  if (values.length === 0 || values.some(([, value]) => value === undefined)) return undefined;
  return `jsonb_build_object(${values.map(([key, value]) => `${keyLiteral(key)}, ${value}`).join(', ')})`;
}

/**
 * jsonb_build_object of the members of `tree`, from the row where it can (`row`), else from the parsed text `source`.
 */
function buildObject(tree: Tree, source: string, row: boolean, prefix: string, used: { text: boolean }): string {
  const members = [...tree].map(([key, sub]) => {
    const path = `${prefix}${key}`;
    const fromText = `${source}->${keyLiteral(key)}`;
    if (sub) return `${keyLiteral(key)}, ${buildObject(sub, fromText, row, `${path}.`, used)}`;
    const fromRow = row ? rowValue(path) : undefined;
    if (fromRow === undefined) used.text = true;
    return `${keyLiteral(key)}, ${fromRow ?? fromText}`;
  });
  return `jsonb_build_object(${members.join(', ')})`;
}

/**
 * The SQL expression of the event's JSON with only the selected members, as text. Members that are columns of the
 * event row `e` are read from it (`row`, the default); the others (reports, figures, counts...) from the JSON text
 * `json`, parsed once (OFFSET 0 keeps the cast a subquery of its own instead of one cast per member); NULL when that
 * text is NULL (a page then builds the event apart, as for the full text). Without a row (a past state, from its
 * revision) everything comes from `json`.
 */
export function projectedJson(json: string, selection: FieldSelection, { row = true } = {}): string {
  const used = { text: false };
  const object = buildObject(treeOf(selection.paths), 'f.j', row, '', used);
  if (!used.text) return `${object}::text`;
  return `(SELECT ${object}::text FROM (SELECT (${json})::jsonb AS j OFFSET 0) f WHERE f.j IS NOT NULL)`;
}

// Data access for actors, including the find-or-create used by every write that
// names an actor. Find-or-create is one INSERT ... ON CONFLICT, so two writers
// naming the same new actor at once still end with one row.
import type { z } from 'zod';
import type { Actor as ActorRow, ActorKind } from '../../generated/prisma/client.js';
import type { PrismaClient, Transaction } from '../../db/client.js';
import { uuidv7 } from '../../db/uuid.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { notFound } from '../../http/errors.js';
import { assertVersion, type ExpectedVersion } from '../../http/preconditions.js';
import type { ActorByNameSchema, ActorListQuerySchema, ActorSchema } from './schemas.js';

export type ActorByName = z.infer<typeof ActorByNameSchema>;
type Db = PrismaClient | Transaction;

/** The quotes normaliseName straightens, and what each becomes (for the same mapping in SQL). */
const CURLY_QUOTES = '\u2018\u2019\u201B\u2032\u201C\u201D\u201F\u2033';
const STRAIGHT_QUOTES = `''''""""`;

/** The find-or-create key: NFKC, lower case, straight quotes, single spaces. */
export function normaliseName(name: string): string {
  return name
    .normalize('NFKC')
    .replace(/[\u2018\u2019\u201B\u2032]/g, "'")
    .replace(/[\u201C\u201D\u201F\u2033]/g, '"')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

export function toActor(row: ActorRow): z.infer<typeof ActorSchema> {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    country: row.country,
    aliases: row.aliases,
    external_ids: (row.externalIds ?? {}) as Record<string, string>,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** Finds the actor with this kind and normalised name, or creates it. */
export async function findOrCreateActor(db: Db, input: ActorByName, author: string): Promise<{ actor: ActorRow; created: boolean }> {
  const normalized = normaliseName(input.name);
  const inserted = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO actors (id, kind, name, normalized_name, country, aliases, external_ids, created_by, updated_by)
    VALUES (${uuidv7()}::uuid, ${input.kind}::actor_kind, ${input.name.trim()}, ${normalized}, ${input.country ?? null},
            ${input.aliases ?? []}::text[], ${JSON.stringify(input.external_ids ?? {})}::jsonb, ${author}, ${author})
    ON CONFLICT (kind, normalized_name) DO NOTHING
    RETURNING id`;
  const actor = await db.actor.findUniqueOrThrow({
    where: inserted[0] ? { id: inserted[0].id } : { kind_normalizedName: { kind: input.kind, normalizedName: normalized } },
  });
  return { actor, created: inserted.length > 0 };
}

/**
 * The kinds of the actors with these names (any kind), by normalised name, oldest actor first: for an
 * importer that names actors without knowing the kind an editor gave them (the ACLED import).
 */
export async function actorKindsByName(db: Db, names: string[]): Promise<Map<string, ActorKind[]>> {
  const rows = await db.actor.findMany({
    where: { normalizedName: { in: [...new Set(names.map(normaliseName))] } },
    select: { kind: true, normalizedName: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  const kinds = new Map<string, ActorKind[]>();
  for (const row of rows) kinds.set(row.normalizedName, [...(kinds.get(row.normalizedName) ?? []), row.kind]);
  return kinds;
}

export async function getActor(db: Db, id: string): Promise<ActorRow | null> {
  return db.actor.findUnique({ where: { id } });
}

const SORT = 'name';

/** Actors ordered by normalised name, then id; `q` matches names and aliases. */
export async function listActors(db: Db, query: z.infer<typeof ActorListQuerySchema>) {
  const after = query.cursor ? decodeCursor(query.cursor, SORT, (key) => typeof key === 'string') : null;
  const conditions: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (query.kind) conditions.push(`kind = ${param(query.kind)}::actor_kind`);
  if (query.country) conditions.push(`country = ${param(query.country)}`);
  if (query.q) {
    const pattern = param(`%${normaliseName(query.q).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    // Aliases are stored as written, so they are normalised here as normaliseName does it.
    const alias = `lower(btrim(regexp_replace(translate(normalize(alias, NFKC), ${param(CURLY_QUOTES)}, ${param(STRAIGHT_QUOTES)}), '\\s+', ' ', 'g')))`;
    conditions.push(`(normalized_name LIKE ${pattern} OR EXISTS (SELECT 1 FROM unnest(aliases) AS alias WHERE ${alias} LIKE ${pattern}))`);
  }
  if (after) conditions.push(`(normalized_name, id) > (${param(after.key)}, ${param(after.id)}::uuid)`);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const ids = await db.$queryRawUnsafe<{ id: string }[]>(
    `SELECT id FROM actors ${where} ORDER BY normalized_name, id LIMIT ${query.limit + 1}`,
    ...values,
  );
  const page = ids.slice(0, query.limit);
  const rows = await db.actor.findMany({ where: { id: { in: page.map((r) => r.id) } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  const ordered = page.map((r) => byId.get(r.id)).filter((row): row is ActorRow => row !== undefined);
  const last = ordered.at(-1);
  const nextCursor = ids.length > query.limit && last ? encodeCursor({ sort: SORT, key: last.normalizedName, id: last.id }) : null;
  return { rows: ordered, nextCursor };
}

/**
 * Locks an actor for a write and checks its If-Match: 404 when there is none, 412 when
 * stale. Returns the row as locked.
 */
export async function lockActor(tx: Transaction, id: string, expected: ExpectedVersion): Promise<ActorRow> {
  const [locked] = await tx.$queryRaw<{ version: number }[]>`SELECT version FROM actors WHERE id = ${id}::uuid FOR UPDATE`;
  if (!locked) throw notFound('actor', id);
  assertVersion(expected, locked.version, 'actor');
  return tx.actor.findUniqueOrThrow({ where: { id } });
}

/** The key an actor named by kind and name is found under: two names that normalise alike are one actor. */
export const actorKey = (ref: ActorByName) => `${ref.kind}\u0000${normaliseName(ref.name)}`;

/**
 * Finds or creates the actors named by kind and name, in one INSERT ... ON CONFLICT and one
 * SELECT: the first mention's fields (first in `refs`) make a new actor, as in findOrCreateActor.
 * Rows go in key order, so two writers naming the same new actors never wait on each other
 * crosswise. Returns the ids by actorKey, and the ids of the actors it created.
 */
export async function findOrCreateActors(
  tx: Transaction,
  author: string,
  refs: Iterable<ActorByName>,
): Promise<{ ids: Map<string, string>; created: string[] }> {
  const wanted = new Map<string, ActorByName>();
  for (const ref of refs) if (!wanted.has(actorKey(ref))) wanted.set(actorKey(ref), ref);
  const ids = new Map<string, string>();
  if (wanted.size === 0) return { ids, created: [] };
  const rows = [...wanted.values()].map((ref) => ({
    id: uuidv7(),
    kind: ref.kind,
    name: ref.name.trim(),
    normalized_name: normaliseName(ref.name),
    country: ref.country ?? null,
    aliases: ref.aliases ?? [],
    external_ids: ref.external_ids ?? {},
  }));
  const inserted = await tx.$queryRawUnsafe<{ id: string }[]>(
    `INSERT INTO actors (id, kind, name, normalized_name, country, aliases, external_ids, created_by, updated_by)
     SELECT id, kind, name, normalized_name, country, aliases, external_ids, $2, $2
     FROM json_to_recordset($1::json) AS x(id uuid, kind actor_kind, name text, normalized_name text, country text, aliases text[],
       external_ids jsonb)
     ORDER BY kind, normalized_name
     ON CONFLICT (kind, normalized_name) DO NOTHING
     RETURNING id`,
    JSON.stringify(rows),
    author,
  );
  const found = await tx.$queryRawUnsafe<{ id: string; kind: string; normalized_name: string }[]>(
    `SELECT a.id, a.kind::text AS kind, a.normalized_name FROM actors a
     JOIN json_to_recordset($1::json) AS x(kind actor_kind, normalized_name text) ON a.kind = x.kind AND a.normalized_name = x.normalized_name`,
    JSON.stringify(rows.map(({ kind, normalized_name }) => ({ kind, normalized_name }))),
  );
  for (const row of found) ids.set(`${row.kind}\u0000${row.normalized_name}`, row.id);
  return { ids, created: inserted.map((row) => row.id) };
}

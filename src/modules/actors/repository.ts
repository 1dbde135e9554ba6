// Data access for actors, including the find-or-create used by every write that
// names an actor. Find-or-create is one INSERT ... ON CONFLICT, so two writers
// naming the same new actor at once still end with one row.
import type { z } from 'zod';
import { Prisma, type Actor as ActorRow, type ActorKind } from '../../generated/prisma/client.js';
import type { PrismaHandle, Transaction } from '../../db/client.js';
import { uuidv7 } from '../../db/uuid.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { ApiError, notFound } from '../../http/errors.js';
import { assertVersion, type ExpectedVersion } from '../../http/preconditions.js';
import type { ActorByNameSchema, ActorListQuerySchema, ActorSchema } from './schemas.js';

export type ActorByName = z.infer<typeof ActorByNameSchema>;

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
    merged_into: row.mergedIntoId,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** The keys an actor is found by: its name and its aliases, normalised, each once. */
export function nameKeys(name: string, aliases: readonly string[] = []): string[] {
  return [...new Set([name, ...aliases].map(normaliseName).filter((key) => key !== ''))];
}

/**
 * The live actor an id stands for, locked against a merge until the transaction ends: the actor
 * itself, or the survivor it was merged into. FOR KEY SHARE conflicts with the merge's FOR UPDATE
 * only, so writers naming one actor do not wait on each other; a writer that waited on a merge
 * reads the committed tombstone and follows merged_into. Null when no actor has the id.
 */
export async function lockLiveActor(tx: PrismaHandle, id: string): Promise<string | null> {
  for (let current = id; ;) {
    const [row] = await tx.$queryRaw<{ merged_into: string | null }[]>`
      SELECT merged_into FROM actors WHERE id = ${current}::uuid FOR KEY SHARE`;
    if (!row) return null;
    if (!row.merged_into) return current;
    current = row.merged_into;
  }
}

/** The live actor that has each key (kind and normalised name or alias), by `${kind}\u0000${key}`; none is locked. */
export async function actorsByKey(
  tx: PrismaHandle,
  keys: { kind: ActorKind; key: string }[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (keys.length === 0) return found;
  const rows = await tx.$queryRaw<{ kind: ActorKind; normalized_name: string; actor_id: string }[]>`
    SELECT n.kind, n.normalized_name, n.actor_id FROM actor_names n
    JOIN unnest(${keys.map((k) => k.kind)}::actor_kind[], ${keys.map((k) => k.key)}::text[]) AS w(kind, key)
      ON n.kind = w.kind AND n.normalized_name = w.key`;
  for (const row of rows) found.set(`${row.kind}\u0000${row.normalized_name}`, row.actor_id);
  return found;
}

/**
 * Gives `actorId` these keys of its kind; returns those another actor has (and keeps). A key
 * another writer is claiming waits for that writer's transaction to end.
 */
export async function claimNames(
  tx: PrismaHandle,
  actorId: string,
  kind: ActorKind,
  keys: string[],
): Promise<{ key: string; owner: string }[]> {
  if (keys.length === 0) return [];
  await tx.$executeRaw`
    INSERT INTO actor_names (kind, normalized_name, actor_id)
    SELECT ${kind}::actor_kind, key, ${actorId}::uuid FROM unnest(${[...keys].sort()}::text[]) AS key
    ON CONFLICT DO NOTHING`;
  return tx.$queryRaw<{ key: string; owner: string }[]>`
    SELECT normalized_name AS key, actor_id AS owner FROM actor_names
    WHERE kind = ${kind}::actor_kind AND normalized_name = ANY(${keys}::text[]) AND actor_id <> ${actorId}::uuid
    ORDER BY normalized_name`;
}

/** The 409 of aliases that name other actors of the kind already. */
export function aliasConflict(
  kind: ActorKind,
  clashes: { key: string; owner: string }[],
  aliases: readonly string[],
): ApiError {
  const written = (key: string) => aliases.find((alias) => normaliseName(alias) === key) ?? key;
  const first = clashes[0]!;
  return new ApiError(
    'conflict',
    `The alias "${written(first.key)}" names another ${kind} actor already: ${first.owner}.`,
    {
      extra: { existing_id: first.owner },
      errors: clashes.map((clash) => {
        const index = aliases.findIndex((alias) => normaliseName(alias) === clash.key);
        return {
          path: index >= 0 ? `/aliases/${index}` : '/name',
          in: 'body' as const,
          message: `names the ${kind} actor ${clash.owner}`,
        };
      }),
    },
  );
}

/**
 * Finds the actor of this kind whose name or alias is this name (normalised), or creates it. A
 * new actor's keys are claimed in actor_names, which decides between writers creating the same
 * actor at once: the loser's row is removed and it uses the winner's. A new actor's alias that
 * names another actor is left out, or with `strictAliases` refused (409); a found actor is not
 * modified. The actor is locked against a merge (lockLiveActor).
 */
export async function findOrCreateActor(
  tx: PrismaHandle,
  input: ActorByName,
  author: string,
  options: { strictAliases?: boolean } = {},
): Promise<{ actor: ActorRow; created: boolean }> {
  const normalized = normaliseName(input.name);
  const existing = (await actorsByKey(tx, [{ kind: input.kind, key: normalized }])).get(
    `${input.kind}\u0000${normalized}`,
  );
  const found = existing ? await lockLiveActor(tx, existing) : null;
  if (found) return { actor: await tx.actor.findUniqueOrThrow({ where: { id: found } }), created: false };

  const id = uuidv7();
  const aliases = input.aliases ?? [];
  await tx.$executeRaw`
    INSERT INTO actors (id, kind, name, normalized_name, country, aliases, external_ids, created_by, updated_by)
    VALUES (${id}::uuid, ${input.kind}::actor_kind, ${input.name.trim()}, ${normalized}, ${input.country ?? null},
            ${aliases}::text[], ${JSON.stringify(input.external_ids ?? {})}::jsonb, ${author}, ${author})`;
  const [taken] = await claimNames(tx, id, input.kind, [normalized]);
  if (taken) {
    // Another writer made this actor (or gave another one this alias) first: use that one.
    await tx.$executeRaw`DELETE FROM actors WHERE id = ${id}::uuid`;
    const winner = await lockLiveActor(tx, taken.owner);
    if (!winner) throw new Error(`actor_names names the actor ${taken.owner}, which does not exist`);
    return { actor: await tx.actor.findUniqueOrThrow({ where: { id: winner } }), created: false };
  }
  const clashes = await claimNames(tx, id, input.kind, nameKeys(input.name, aliases));
  if (clashes.length > 0) {
    if (options.strictAliases) throw aliasConflict(input.kind, clashes, aliases);
    const taken = new Set(clashes.map((clash) => clash.key));
    await tx.actor.update({
      where: { id },
      data: { aliases: aliases.filter((alias) => !taken.has(normaliseName(alias))) },
    });
  }
  return { actor: await tx.actor.findUniqueOrThrow({ where: { id } }), created: true };
}

/**
 * The live actor each id stands for, as lockLiveActor finds it, for many ids at once (locked in
 * id order, so two batches never wait on each other crosswise). Unknown ids are left out.
 */
export async function lockLiveActors(tx: PrismaHandle, ids: string[]): Promise<Map<string, string>> {
  const live = new Map<string, string>();
  /** Each id not settled yet, with the actor its chain of merges has reached. */
  let standing = new Map(ids.map((id) => [id, id.toLowerCase()]));
  while (standing.size > 0) {
    const rows = await tx.$queryRaw<{ id: string; merged_into: string | null }[]>`
      SELECT id, merged_into FROM actors WHERE id = ANY(${[...new Set(standing.values())]}::uuid[]) ORDER BY id FOR KEY SHARE`;
    const mergedInto = new Map(rows.map((row) => [row.id, row.merged_into]));
    const next = new Map<string, string>();
    for (const [id, at] of standing) {
      if (!mergedInto.has(at)) continue;
      const target = mergedInto.get(at);
      if (target) next.set(id, target);
      else live.set(id, at);
    }
    standing = next;
  }
  return live;
}

/**
 * findOrCreateActor for many references at once (an import batch), in a handful of statements:
 * `refs` in the order the writes name them, so the first mention's fields make a new actor.
 * New actors claim their names in key order; an alias another actor has is left out (as in an
 * event body). Returns the live actor of each `${kind}\u0000${normalised name}` and the ids
 * created. Where a new name is another new actor's alias in the same batch, the name wins,
 * unlike one-by-one writes, where the earlier actor would have claimed it.
 */
export async function findOrCreateActors(
  tx: PrismaHandle,
  author: string,
  refs: Iterable<ActorByName>,
): Promise<{ ids: Map<string, string>; created: string[] }> {
  const wanted = new Map<string, ActorByName>();
  for (const ref of refs) {
    const key = `${ref.kind}\u0000${normaliseName(ref.name)}`;
    if (!wanted.has(key)) wanted.set(key, ref);
  }
  const keyOf = (ref: ActorByName) => ({ kind: ref.kind, key: normaliseName(ref.name) });
  const found = await actorsByKey(tx, [...wanted.values()].map(keyOf));
  const fresh = [...wanted].filter(([key]) => !found.has(key));
  const rows = fresh.map(([, ref]) => ({
    id: uuidv7(),
    kind: ref.kind,
    name: ref.name.trim(),
    normalized_name: normaliseName(ref.name),
    country: ref.country ?? null,
    aliases: ref.aliases ?? [],
    external_ids: ref.external_ids ?? {},
  }));
  const created: string[] = [];
  if (rows.length > 0) {
    await tx.$executeRaw`
      INSERT INTO actors (id, kind, name, normalized_name, country, aliases, external_ids, created_by, updated_by)
      SELECT id, kind, name, normalized_name, country, aliases, external_ids, ${author}, ${author}
      FROM json_to_recordset(${JSON.stringify(rows)}::json)
        AS x(id uuid, kind actor_kind, name text, normalized_name text, country text, aliases text[], external_ids jsonb)`;
    const names = JSON.stringify(rows.map(({ id, kind, normalized_name }) => ({ id, kind, normalized_name })));
    const claimed = await tx.$queryRaw<{ actor_id: string }[]>`
      INSERT INTO actor_names (kind, normalized_name, actor_id)
      SELECT kind, normalized_name, id
      FROM json_to_recordset(${names}::json) AS x(id uuid, kind actor_kind, normalized_name text)
      ORDER BY kind, normalized_name
      ON CONFLICT DO NOTHING
      RETURNING actor_id::text AS actor_id`;
    const won = new Set(claimed.map((row) => row.actor_id));
    // Another writer made these actors (or gave others these aliases) first: theirs are used.
    const lost = rows.filter((row) => !won.has(row.id));
    if (lost.length > 0) {
      await tx.$executeRaw`DELETE FROM actors WHERE id = ANY(${lost.map((row) => row.id)}::uuid[])`;
      for (const [key, id] of await actorsByKey(
        tx,
        lost.map((row) => ({ kind: row.kind, key: row.normalized_name })),
      ))
        found.set(key, id);
    }
    const made = rows.filter((row) => won.has(row.id));
    created.push(...made.map((row) => row.id));
    const aliasKeys = JSON.stringify(
      made.flatMap((row) => nameKeys(row.name, row.aliases).map((key) => ({ id: row.id, kind: row.kind, key }))),
    );
    await tx.$executeRaw`
      INSERT INTO actor_names (kind, normalized_name, actor_id)
      SELECT kind, key, id FROM json_to_recordset(${aliasKeys}::json) AS x(id uuid, kind actor_kind, key text)
      ORDER BY kind, key
      ON CONFLICT DO NOTHING`;
    const clashes = await tx.$queryRaw<{ id: string; key: string }[]>`
      SELECT x.id::text AS id, x.key FROM json_to_recordset(${aliasKeys}::json) AS x(id uuid, kind actor_kind, key text)
      JOIN actor_names n ON n.kind = x.kind AND n.normalized_name = x.key AND n.actor_id <> x.id`;
    // Rare: a new actor's alias names another actor already; the new one is made without it.
    for (const row of made) {
      const taken = new Set(clashes.filter((clash) => clash.id === row.id).map((clash) => clash.key));
      if (taken.size === 0) continue;
      await tx.$executeRaw`UPDATE actors SET aliases = ${row.aliases.filter((alias) => !taken.has(normaliseName(alias)))}::text[]
        WHERE id = ${row.id}::uuid`;
    }
  }
  const live = await lockLiveActors(tx, [...found.values()]);
  const ids = new Map<string, string>();
  for (const [key, id] of found) ids.set(key, live.get(id) ?? id);
  for (const row of rows) if (created.includes(row.id)) ids.set(`${row.kind}\u0000${row.normalized_name}`, row.id);
  return { ids, created };
}

/**
 * The kinds of the actors with these names or aliases (any kind), by normalised name, oldest actor
 * first: for an importer that names actors without knowing the kind an editor gave them (the ACLED import).
 */
export async function actorKindsByName(db: PrismaHandle, names: string[]): Promise<Map<string, ActorKind[]>> {
  const rows = await db.$queryRaw<{ kind: ActorKind; normalized_name: string }[]>`
    SELECT n.kind, n.normalized_name FROM actor_names n JOIN actors a ON a.id = n.actor_id
    WHERE n.normalized_name = ANY(${[...new Set(names.map(normaliseName))]}::text[])
    ORDER BY a.created_at, a.id`;
  const kinds = new Map<string, ActorKind[]>();
  for (const row of rows) kinds.set(row.normalized_name, [...(kinds.get(row.normalized_name) ?? []), row.kind]);
  return kinds;
}

export async function getActor(db: PrismaHandle, id: string): Promise<ActorRow | null> {
  return db.actor.findUnique({ where: { id } });
}

/** An actor as the JSON text of the API, with its version: a write's answer, read inside its transaction. */
export async function readActor(tx: PrismaHandle, id: string): Promise<{ json: string; version: number }> {
  const row = await tx.actor.findUniqueOrThrow({ where: { id } });
  return { json: JSON.stringify(toActor(row)), version: row.version };
}

const SORT = 'name';

/** Actors ordered by normalised name, then id; `q` matches names and aliases. */
export async function listActors(db: PrismaHandle, query: z.infer<typeof ActorListQuerySchema>) {
  const after = query.cursor ? decodeCursor(query.cursor, SORT, (key) => typeof key === 'string') : null;
  // A merged actor is a tombstone: its names are its survivor's aliases now.
  const conditions = [Prisma.sql`merged_into IS NULL`];
  if (query.kind) conditions.push(Prisma.sql`kind = ${query.kind}::actor_kind`);
  if (query.country) conditions.push(Prisma.sql`country = ${query.country}`);
  if (query.q) {
    const pattern = `%${normaliseName(query.q).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    // Aliases are stored as written, so they are normalised here as normaliseName does it.
    const straight = Prisma.sql`translate(normalize(alias, NFKC), ${CURLY_QUOTES}, ${STRAIGHT_QUOTES})`;
    const alias = Prisma.sql`lower(btrim(regexp_replace(${straight}, '\\s+', ' ', 'g')))`;
    conditions.push(Prisma.sql`(normalized_name LIKE ${pattern}
      OR EXISTS (SELECT 1 FROM unnest(aliases) AS alias WHERE ${alias} LIKE ${pattern}))`);
  }
  if (after) conditions.push(Prisma.sql`(normalized_name, id) > (${after.key}, ${after.id}::uuid)`);
  const ids = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM actors WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY normalized_name, id LIMIT ${query.limit + 1}`;
  const page = ids.slice(0, query.limit);
  const rows = await db.actor.findMany({ where: { id: { in: page.map((r) => r.id) } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  const ordered = page.map((r) => byId.get(r.id)).filter((row): row is ActorRow => row !== undefined);
  const last = ordered.at(-1);
  const nextCursor =
    ids.length > query.limit && last ? encodeCursor({ sort: SORT, key: last.normalizedName, id: last.id }) : null;
  return { rows: ordered, nextCursor };
}

/** The 410 of an actor merged into another: its tombstone names the survivor. */
export function mergedActor(id: string, mergedInto: string): ApiError {
  return new ApiError('gone', `The actor ${id} was merged into ${mergedInto}.`, { extra: { merged_into: mergedInto } });
}

/**
 * Locks an actor for a write and checks its If-Match: 404 when there is none, 410 when it
 * was merged into another, 412 when stale. Returns the row as locked.
 */
export async function lockActor(tx: Transaction, id: string, expected: ExpectedVersion): Promise<ActorRow> {
  const [locked] = await tx.$queryRaw<{ version: number; merged_into: string | null }[]>`
    SELECT version, merged_into FROM actors WHERE id = ${id}::uuid FOR UPDATE`;
  if (!locked) throw notFound('actor', id);
  if (locked.merged_into) throw mergedActor(id, locked.merged_into);
  assertVersion(expected, locked.version, 'actor');
  return tx.actor.findUniqueOrThrow({ where: { id } });
}

/** The key an actor named by kind and name is found under: two names that normalise alike are one actor. */
export const actorKey = (ref: ActorByName) => `${ref.kind}\u0000${normaliseName(ref.name)}`;

// The database side of the loader: COPY with back-pressure, the secondary indexes
// dropped and re-created around the load, and the find-or-create of actors.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ActorSpec } from './actors.js';
import { CopyBuffer, text, textArray, timestamp } from './copy-text.js';
import { uuidv7 } from '../../src/db/uuid.js';
import { normaliseName } from '../../src/modules/actors/repository.js';
import { Rng } from './random.js';

/** Rows are sent in pieces of this many bytes, so back-pressure has something to hold back. */
const PIECE_BYTES = 256 * 1024;

/**
 * COPYs text-format rows into `table`; `onProgress` hears how many bytes have been handed
 * to the socket so far (pipeline only pulls the next piece when the connection has drained,
 * so that follows what the server has received).
 */
export async function copyRows(
  client: pg.Client,
  table: string,
  columns: string,
  rows: CopyBuffer,
  onProgress?: (bytes: number) => void,
): Promise<void> {
  if (rows.rows === 0) return;
  function* pieces(): Generator<Buffer> {
    let sent = 0;
    for (const piece of rows.pieces(PIECE_BYTES)) {
      yield piece;
      sent += piece.length;
      onProgress?.(sent);
    }
  }
  await pipeline(
    Readable.from(pieces(), { objectMode: false }),
    client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)),
  );
}

export interface IndexDefinition {
  table: string;
  name: string;
  /** CREATE INDEX statement as pg_indexes gives it, with the tablespace when not the default. */
  create: string;
  comment: string | null;
}

/**
 * The indexes of `tables` that only speed up reads: not a primary key, not unique,
 * not backing a constraint, and valid. Those are safe to drop for the load and
 * re-create from their exact definitions.
 */
export async function secondaryIndexes(client: pg.Client, tables: readonly string[]): Promise<IndexDefinition[]> {
  const { rows } = await client.query<{
    table: string;
    name: string;
    indexdef: string;
    tablespace: string | null;
    comment: string | null;
  }>(
    `SELECT i.tablename AS table, i.indexname AS name, i.indexdef, i.tablespace, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_indexes i
       JOIN pg_namespace n ON n.nspname = i.schemaname
       JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = n.oid
       JOIN pg_index x ON x.indexrelid = c.oid
      WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])
        AND NOT x.indisprimary AND NOT x.indisunique AND NOT x.indisexclusion AND x.indisvalid
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
      ORDER BY i.tablename, i.indexname`,
    [tables],
  );
  return rows.map((row) => ({
    table: row.table,
    name: row.name,
    create: row.tablespace ? `${row.indexdef} TABLESPACE ${quoteIdent(row.tablespace)}` : row.indexdef,
    comment: row.comment,
  }));
}

export interface ForeignKeyDefinition {
  table: string;
  name: string;
  /** The constraint as pg_get_constraintdef gives it: FOREIGN KEY (...) REFERENCES ... ON ... */
  definition: string;
  comment: string | null;
}

/**
 * The foreign keys of `tables`. A COPY checks each of them row by row (a lookup in the
 * referenced table per row and key: 207,359 reports with their three took 11.4 s against
 * 2.2 s without), while adding one back checks the whole table in one join (0.5 s for the three).
 */
export async function foreignKeys(client: pg.Client, tables: readonly string[]): Promise<ForeignKeyDefinition[]> {
  const { rows } = await client.query<ForeignKeyDefinition>(
    `SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition,
            obj_description(k.oid, 'pg_constraint') AS comment
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1::text[])
      ORDER BY c.relname, k.conname`,
    [tables],
  );
  return rows;
}

export async function dropForeignKeys(client: pg.Client, keys: readonly ForeignKeyDefinition[]): Promise<void> {
  for (const key of keys)
    await client.query(`ALTER TABLE ${quoteIdent(key.table)} DROP CONSTRAINT ${quoteIdent(key.name)}`);
}

/** Adds the keys back as they were; each checks every row of its table, so a load that broke one fails here. */
export async function addForeignKeys(client: pg.Client, keys: readonly ForeignKeyDefinition[]): Promise<void> {
  for (const key of keys) {
    await client.query(`ALTER TABLE ${quoteIdent(key.table)} ADD CONSTRAINT ${quoteIdent(key.name)} ${key.definition}`);
    if (key.comment !== null)
      await client.query(
        `COMMENT ON CONSTRAINT ${quoteIdent(key.name)} ON ${quoteIdent(key.table)} IS ${quoteLiteral(key.comment)}`,
      );
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export async function dropIndexes(client: pg.Client, indexes: readonly IndexDefinition[]): Promise<void> {
  for (const index of indexes) await client.query(`DROP INDEX ${quoteIdent(index.name)}`);
}

export async function createIndexes(
  client: pg.Client,
  indexes: readonly IndexDefinition[],
  onEach?: (index: IndexDefinition) => void,
): Promise<void> {
  for (const index of indexes) {
    onEach?.(index);
    await client.query(index.create);
    if (index.comment !== null)
      await client.query(`COMMENT ON INDEX ${quoteIdent(index.name)} IS ${quoteLiteral(index.comment)}`);
  }
}

export interface ResolvedActors {
  ids: string[];
  created: number;
}

/**
 * Inserts the actors that are not there yet and returns the database id of every
 * one, found by kind and normalised name or alias (actor_names) as the API's
 * find-or-create does. Existing actors (from an earlier run, or made through the
 * API) are reused, not updated. A new actor's alias that another actor of its kind
 * has already is left out of it, as an import leaves it out.
 */
export async function resolveActors(
  client: pg.Client,
  actors: readonly ActorSpec[],
  seed: number,
): Promise<ResolvedActors> {
  const rng = new Rng(seed, 3);
  // Actors were "entered" in December 2013, before the first event refers to them.
  const base = Date.UTC(2013, 11, 1);
  await client.query(
    `CREATE TEMP TABLE synthetic_actors (ord integer, id uuid, kind actor_kind, name text, normalized_name text, country char(3), aliases text[], alias_keys text[], created_at timestamptz(3)) ON COMMIT DROP`,
  );
  const rows = new CopyBuffer();
  actors.forEach((a, i) => {
    const created = base + Math.floor(rng.next() * 30 * 86_400_000);
    const aliasKeys = a.aliases.map(normaliseName);
    rows.push(
      `${i}\t${uuidv7(created)}\t${a.kind}\t${text(a.name)}\t${text(a.normalized)}\t${text(a.country)}\t${textArray(a.aliases)}\t${textArray(aliasKeys)}\t${timestamp(created)}\n`,
    );
  });
  await copyRows(
    client,
    'synthetic_actors',
    'ord, id, kind, name, normalized_name, country, aliases, alias_keys, created_at',
    rows,
  );
  const inserted = await client.query(
    `WITH fresh AS (
       INSERT INTO actors (id, kind, name, normalized_name, country, aliases, external_ids, version, created_at, updated_at, created_by, updated_by)
       SELECT id, kind, name, normalized_name, country, aliases, '{}', 1, created_at, created_at, 'synthetic', 'synthetic'
         FROM synthetic_actors s
         WHERE NOT EXISTS (SELECT 1 FROM actor_names n WHERE n.kind = s.kind AND n.normalized_name = s.normalized_name)
         ORDER BY ord
       RETURNING id, kind, normalized_name)
     INSERT INTO actor_names (kind, normalized_name, actor_id) SELECT kind, normalized_name, id FROM fresh`,
  );
  // The new actors' aliases, first come first served; then each keeps the ones it got.
  await client.query(
    `INSERT INTO actor_names (kind, normalized_name, actor_id)
     SELECT s.kind, k.key, s.id FROM synthetic_actors s JOIN actors a ON a.id = s.id
       CROSS JOIN LATERAL unnest(s.alias_keys) WITH ORDINALITY AS k(key, n)
     ORDER BY s.ord, k.n
     ON CONFLICT DO NOTHING`,
  );
  await client.query(
    `UPDATE actors a SET aliases = ARRAY(
       SELECT u.alias FROM unnest(s.aliases, s.alias_keys) WITH ORDINALITY AS u(alias, key, n)
       WHERE EXISTS (SELECT 1 FROM actor_names n WHERE n.kind = s.kind AND n.normalized_name = u.key AND n.actor_id = a.id)
       ORDER BY u.n)
     FROM synthetic_actors s WHERE a.id = s.id AND cardinality(s.aliases) > 0`,
  );
  const { rows: found } = await client.query<{ ord: number; id: string }>(
    `SELECT s.ord, n.actor_id AS id FROM synthetic_actors s JOIN actor_names n ON n.kind = s.kind AND n.normalized_name = s.normalized_name`,
  );
  const ids: string[] = new Array<string>(actors.length);
  for (const row of found) ids[row.ord] = row.id;
  if (found.length !== actors.length) throw new Error(`Resolved ${found.length} of ${actors.length} actors`);
  return { ids, created: inserted.rowCount ?? 0 };
}

/** Synthetic document URLs end in a run-wide number; a new run continues after the highest one stored. */
export async function nextDocumentNumber(client: pg.Client, base: string): Promise<number> {
  const { rows } = await client.query<{ max: string | null }>(
    `SELECT max((substring(url FROM '/([0-9]+)$'))::bigint)::text AS max FROM documents WHERE starts_with(url, $1)`,
    [`${base}/`],
  );
  return Number(rows[0]?.max ?? 0) + 1;
}

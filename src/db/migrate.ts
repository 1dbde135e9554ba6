// The runtime migration runner: applies prisma/migrations with plain `pg`, and
// records them in `_prisma_migrations` exactly as `prisma migrate deploy` does,
// so that the real Prisma CLI sees a database migrated here as up to date.
// It has no dependency on the Prisma CLI or its engines, which production lacks.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The key Prisma's schema engine locks, so we also exclude a concurrent `prisma migrate deploy`. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

/** prisma/migrations of the project; this file sits two levels below the root in src/ and in dist/. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// Prisma's own DDL for the table (schema engine, postgres connector).
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface RunMigrationsOptions {
  migrationsDir?: string;
  log?: (message: string) => void;
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

interface LocalMigration {
  name: string;
  script: string;
  checksum: string;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** Lowercase hex SHA-256 of the script's bytes: the checksum Prisma records. */
export function migrationChecksum(script: string | Buffer): string {
  return createHash('sha256').update(script).digest('hex');
}

/**
 * Whether a recorded checksum still matches the script. Like Prisma, accept the
 * script with its line endings converted either way (git may rewrite them on
 * checkout) and the unpadded hex that early engine versions wrote.
 */
function checksumMatches(script: string, recorded: string): boolean {
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant).digest();
    if (recorded.length !== 64 && recorded.length > 0) {
      return [...digest].map((byte) => byte.toString(16)).join('') === recorded;
    }
    return digest.toString('hex') === recorded;
  });
}

/** Every sub-directory is a migration (as Prisma reads it); only its migration.sql matters. */
async function readLocalMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const lock = await readFile(path.join(migrationsDir, 'migration_lock.toml'), 'utf8').catch(() => null);
  if (lock !== null && !/^\s*provider\s*=\s*"postgresql"\s*$/m.test(lock)) {
    throw new MigrationError(`${path.join(migrationsDir, 'migration_lock.toml')} is not for provider "postgresql"`);
  }
  let entries;
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (error) {
    throw new MigrationError(`Cannot read the migrations directory ${migrationsDir}`, { cause: error });
  }
  // Code-point order; Prisma sorts with localeCompare, which agrees for timestamped names.
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(migrationsDir, name, 'migration.sql');
      const bytes = await readFile(file).catch((error: unknown) => {
        throw new MigrationError(`Migration ${name} has no readable migration.sql (${file})`, { cause: error });
      });
      return { name, script: bytes.toString('utf8'), checksum: migrationChecksum(bytes) };
    }),
  );
}

/**
 * Applies the migrations not yet recorded in `_prisma_migrations`, each in its own
 * transaction together with its record, and returns the names applied by this call.
 * Refuses to run over a failed migration or a migration edited after it was applied.
 */
export async function runMigrations(connectionString: string, options: RunMigrationsOptions = {}): Promise<string[]> {
  const migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const log = options.log ?? (() => {});
  const local = await readLocalMigrations(migrationsDir);

  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    // A session lock: a second instance starting at the same time waits here, then
    // finds everything applied. It is released when the connection closes at the latest.
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      return await applyPending(client, local, log);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

async function applyPending(
  client: pg.Client,
  local: LocalMigration[],
  log: (message: string) => void,
): Promise<string[]> {
  await client.query(CREATE_MIGRATIONS_TABLE);
  const { rows } = await client.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
  );

  const failed = rows.filter((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed.length > 0) {
    throw new MigrationError(
      `Failed migration(s) recorded in _prisma_migrations: ${failed.map((row) => row.migration_name).join(', ')}. ` +
        'Repair the database by hand, then mark the migration rolled back (prisma migrate resolve --rolled-back ' +
        'NAME) or applied (--applied NAME) before migrating again.',
    );
  }

  // Rolled-back rows are history only, as for Prisma.
  const applied = new Map(rows.filter((row) => row.rolled_back_at === null).map((row) => [row.migration_name, row]));
  const localByName = new Map(local.map((migration) => [migration.name, migration]));

  const edited = local.filter((migration) => {
    const row = applied.get(migration.name);
    return row !== undefined && !checksumMatches(migration.script, row.checksum);
  });
  if (edited.length > 0) {
    throw new MigrationError(
      `Migration(s) changed after they were applied (checksum of migration.sql differs from _prisma_migrations): ` +
        `${edited.map((migration) => migration.name).join(', ')}. Restore the original file(s) and put the change in a new migration.`,
    );
  }

  const unknown = [...applied.keys()].filter((name) => !localByName.has(name));
  if (unknown.length > 0) {
    log(`Applied migration(s) missing from the migrations directory: ${unknown.join(', ')}`);
  }

  const appliedNow: string[] = [];
  for (const migration of local) {
    if (applied.has(migration.name)) continue;
    log(`Applying migration ${migration.name}`);
    // One transaction for the script and its record: either both happen or neither,
    // so a failure leaves no half-applied migration and no failed row behind.
    // (Statements that refuse to run in a transaction, such as CREATE INDEX
    // CONCURRENTLY, therefore cannot appear in a migration.)
    try {
      await client.query('BEGIN');
      // No parameters: the simple query protocol, which runs a multi-statement script.
      await client.query(migration.script);
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, now(), 1)`,
        [randomUUID(), migration.checksum, migration.name],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      const reason = error instanceof Error ? error.message : String(error);
      throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${reason}`, { cause: error });
    }
    appliedNow.push(migration.name);
  }
  return appliedNow;
}

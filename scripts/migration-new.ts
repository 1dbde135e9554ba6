// `npm run db:migration -- NAME`: writes the next migration, the way
// `prisma migrate dev --create-only` would, without the native engine.
//
// The "from" side of the diff is the schema snapshot kept in the latest migration
// folder (SNAPSHOT_FILE): Prisma reads only migration.sql in a migration folder,
// so the snapshot travels with the migration it belongs to and cannot drift from it.
// The snapshot is deliberately not named *.prisma, so no Prisma tool loads it as schema.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { DEFAULT_MIGRATIONS_DIR } from '../src/db/migrate.js';
import { MIGRATION_LOCK_TOML, diffToScript, isEmptyScript } from './schema-engine.js';

/** The copy of schema.prisma as of a migration, kept in that migration's folder. */
const SNAPSHOT_FILE = 'schema.prisma.snapshot';
const SCHEMA_PATH = fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url));

/** yyyymmddhhmmss in UTC, as Prisma names migration folders. */
function utcTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Lower case, word characters only: a name that is safe as a folder name everywhere. */
function sanitizeName(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

async function latestSnapshot(migrationsDir: string): Promise<{ from: string | null; basis: string }> {
  const entries = existsSync(migrationsDir) ? await readdir(migrationsDir, { withFileTypes: true }) : [];
  const latest = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .at(-1);
  if (latest === undefined) return { from: null, basis: 'an empty database' };
  const snapshotPath = path.join(migrationsDir, latest, SNAPSHOT_FILE);
  const from = await readFile(snapshotPath, 'utf8').catch(() => {
    throw new Error(
      `${snapshotPath} is missing, so the schema as of the last migration is unknown. ` +
        `Restore it (e.g. from git: the schema.prisma of the commit that added ${latest}) and try again.`,
    );
  });
  return { from, basis: latest };
}

async function main(): Promise<number> {
  const name = sanitizeName(process.argv.slice(2).join('_'));
  if (name === '') {
    console.error('Usage: npm run db:migration -- NAME   (for example: npm run db:migration -- add_event_source)');
    return 1;
  }
  const { DATABASE_URL } = loadConfig();
  if (DATABASE_URL === undefined) {
    // The engine reads no database for a datamodel diff, but it will not start without a connection.
    console.error('DATABASE_URL is not set. The schema engine needs a reachable PostgreSQL (any database) to start.');
    return 1;
  }

  const migrationsDir = DEFAULT_MIGRATIONS_DIR;
  const schema = await readFile(SCHEMA_PATH, 'utf8');
  const { from, basis } = await latestSnapshot(migrationsDir);
  const sql = await diffToScript(from, schema, DATABASE_URL);
  if (isEmptyScript(sql)) {
    console.error(`prisma/schema.prisma has no changes since ${basis}; no migration written.`);
    return 1;
  }

  const folder = path.join(migrationsDir, `${utcTimestamp(new Date())}_${name}`);
  // Recursive mkdir of the parent only, so that an existing folder is an error rather than overwritten.
  await mkdir(migrationsDir, { recursive: true });
  await mkdir(folder);
  await writeFile(path.join(folder, 'migration.sql'), sql);
  await writeFile(path.join(folder, SNAPSHOT_FILE), schema);
  const lockPath = path.join(migrationsDir, 'migration_lock.toml');
  if (!existsSync(lockPath)) await writeFile(lockPath, MIGRATION_LOCK_TOML);

  console.log(path.relative(process.cwd(), path.join(folder, 'migration.sql')));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

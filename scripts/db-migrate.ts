// `npm run db:migrate`: applies prisma/migrations to the database of DATABASE_URL.
import { loadConfig } from '../src/config.js';
import { runMigrations } from '../src/db/migrate.js';

async function main(): Promise<number> {
  const { DATABASE_URL } = loadConfig();
  if (DATABASE_URL === undefined) {
    console.error(
      'DATABASE_URL is not set, so there is no database to migrate. ' +
        'The embedded PostgreSQL (used when DATABASE_URL is unset) is migrated by `npm start`.',
    );
    return 1;
  }
  const applied = await runMigrations(DATABASE_URL, { log: (message) => console.log(message) });
  console.log(applied.length === 0 ? 'Database is up to date; no migration applied.' : `Applied ${applied.length} migration(s).`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

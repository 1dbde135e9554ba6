// npm run db:migrate — applies prisma/migrations to the database of DATABASE_URL,
// or to the embedded one under EMBEDDED_PG_DIR when it is unset (as npm start would).
import { loadConfig } from '../src/config.js';
import { runMigrations } from '../src/db/migrate.js';
import { locateDatabase } from '../src/db/open.js';

const { url, embedded } = await locateDatabase(loadConfig());
try {
  const applied = await runMigrations(url, { log: (message) => console.log(message) });
  console.log(
    applied.length > 0
      ? `Applied ${applied.length} migration(s): ${applied.join(', ')}`
      : 'The database is up to date.',
  );
} finally {
  await embedded?.stop();
}

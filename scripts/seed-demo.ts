// npm run seed:demo — loads the demo events (data/demo-events.json) into the
// database of DATABASE_URL, or the embedded one when it is unset. Idempotent.
import { loadConfig } from '../src/config.js';
import { connectDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { locateDatabase } from '../src/db/open.js';
import { seedDemo } from '../src/modules/events/demo-seed.js';

const config = loadConfig();
const { url, embedded } = await locateDatabase(config);
const db = connectDatabase(url);
try {
  await runMigrations(url);
  const created = await seedDemo(db);
  console.log(created > 0 ? `Loaded ${created} demo events.` : 'The demo events were already loaded.');
} finally {
  await db.close();
  await embedded?.stop();
}

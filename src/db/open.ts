// Where the database is, by configuration: DATABASE_URL when set, otherwise the
// embedded PostgreSQL kept under EMBEDDED_PG_DIR. Shared by the server and the
// command-line tools so they all find the same data.
import type { Config } from '../config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';

export interface DatabaseLocation {
  url: string;
  /** Set when this process started the embedded server; stop it on exit. */
  embedded?: EmbeddedDatabase;
}

export const EMBEDDED_DATABASE_NAME = 'conflict_events';

export async function locateDatabase(config: Config, log: (message: string) => void = console.log): Promise<DatabaseLocation> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL };
  log(`No DATABASE_URL: starting the embedded PostgreSQL in ${config.EMBEDDED_PG_DIR} on port ${config.EMBEDDED_PG_PORT}`);
  const embedded = await startEmbeddedPostgres({
    dataDir: config.EMBEDDED_PG_DIR,
    port: config.EMBEDDED_PG_PORT,
    database: EMBEDDED_DATABASE_NAME,
    persistent: true,
  });
  return { url: embedded.url, embedded };
}

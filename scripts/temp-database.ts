// An empty database for a check to run the service on, dropped afterwards: on the server
// of DATABASE_URL when it is set, else on a throwaway embedded PostgreSQL.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { startThrowawayPostgres } from '../src/db/embedded.js';

export interface TemporaryDatabase {
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `purpose` names the database (ce_<purpose>_<random>), so a leftover says where it came from. */
export async function createTemporaryDatabase(purpose: string): Promise<TemporaryDatabase> {
  const configured = loadConfig().DATABASE_URL;
  const embedded = configured ? undefined : await startThrowawayPostgres();
  const adminUrl = configured ? withDatabase(configured, 'postgres') : embedded!.adminUrl;
  const name = `ce_${purpose}_${randomBytes(5).toString('hex')}`;
  await admin(adminUrl, `CREATE DATABASE ${name}`);
  return {
    url: withDatabase(adminUrl, name),
    async drop() {
      await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await embedded?.stop();
    },
  };
}

// Once per test run: find a PostgreSQL server (DATABASE_URL's, or an embedded one
// in a temporary folder), and build a migrated template database that each test
// file clones into a database of its own.
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config.js';
import { startThrowawayPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the server's maintenance database, for CREATE/DROP DATABASE. */
    adminUrl: string;
    /** Name of the migrated template database. */
    templateDatabase: string;
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export default async function setup(project: TestProject) {
  const config = loadConfig();
  let embedded: EmbeddedDatabase | undefined;
  let adminUrl: string;
  if (config.DATABASE_URL) {
    adminUrl = withDatabase(config.DATABASE_URL, 'postgres');
  } else {
    embedded = await startThrowawayPostgres();
    adminUrl = embedded.adminUrl;
  }

  const templateDatabase = `ce_template_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${templateDatabase}`);
  await admin.end();
  await runMigrations(withDatabase(adminUrl, templateDatabase));

  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`);
    await client.end();
    await embedded?.stop();
  };
}

// Once per test run: find a PostgreSQL server (DATABASE_URL's, or an embedded one
// in a temporary folder), and build a migrated template database that each test
// file clones into a database of its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the server's maintenance database, for CREATE/DROP DATABASE. */
    adminUrl: string;
    /** Name of the migrated template database. */
    templateDatabase: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export default async function setup(project: TestProject) {
  const config = loadConfig();
  let embedded: EmbeddedDatabase | undefined;
  let folder: string | undefined;
  let adminUrl: string;
  if (config.DATABASE_URL) {
    adminUrl = withDatabase(config.DATABASE_URL, 'postgres');
  } else {
    folder = await mkdtemp(path.join(tmpdir(), 'conflict-events-test-'));
    embedded = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), port: await freePort(), database: 'postgres', persistent: false });
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
    if (folder) await rm(folder, { recursive: true, force: true });
  };
}

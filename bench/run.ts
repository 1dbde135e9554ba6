// The list and export benchmark (run by hand, never in CI):
//
//   npm run build && node --import tsx bench/run.ts --database-url postgresql://... [--duration 10] [--rounds 3] [--warmup 5]
//       [--idle 300] [--idle-rounds 2] [--baseline] [--skip-export] [--only NAME] [--service-node-options='--flag ...'] [--service dist/server.js] [--service-log FILE]
//       [--before OLD/server.js [--before-node-options='...']] [--out FILE]
//   npm run build && node --import tsx bench/run.ts --database-url postgresql://... --export-only
//
// On a database loaded by `npm run seed:synthetic`, it starts the service (node dist/server.js) and
// the limit server (bench/limit-server.ts: node:http, pg and binary COPY of the stored renderings
// with the service's own SQL), checks that both answer byte-identical, non-empty pages for every
// shape (it stops if not), then loads each list query shape on both with autocannon from a separate
// process (after --warmup seconds of each shape on both, not measured), interleaved round by round.
// Then both sit idle for --idle seconds (0: not), and every shape runs --idle-rounds more rounds:
// the service used to slow down after sitting idle (issue 19). Per round it reads each server's CPU
// time (/proc/<pid>/stat) and major garbage collections (the service's /metrics, the limit server's
// /gc), for CPU per request and major GCs per 1,000 requests. --baseline adds the old reference
// (bench/baseline-server.ts, which builds each page's JSON per request) to the fresh rounds.
// Last it exports the whole table as CSV from the service. It prints the results as Markdown,
// and writes them to --out when given. With --export-only it starts the service alone, runs only
// the export and prints its figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { waitUntilAnswering } from './wait.js';
import pg from 'pg';
import { autocannon, type Load } from './autocannon.js';
import { cpuSeconds, memory } from './proc.js';
import { discoverShapes } from './shapes.js';
import { SERVICE_NODE_FLAGS } from '../scripts/service-flags.js';

const { values: args } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    idle: { type: 'string', default: '300' },
    'idle-rounds': { type: 'string', default: '2' },
    baseline: { type: 'boolean', default: false },
    only: { type: 'string' },
    // The flags npm start runs the service with (scripts/service-flags.ts), unless given.
    'service-node-options': { type: 'string', default: SERVICE_NODE_FLAGS.join(' ') },
    service: { type: 'string', default: 'dist/server.js' },
    'service-log': { type: 'string' },
    before: { type: 'string' },
    'before-node-options': { type: 'string', default: '' },
    'skip-export': { type: 'boolean', default: false },
    'export-only': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const databaseUrl = args['database-url'];
if (!databaseUrl) throw new Error('--database-url is required (a database loaded by npm run seed:synthetic)');
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const idleSeconds = Number(args.idle);
const idleRounds = Number(args['idle-rounds']);
const SERVICE_PORT = 3201;
const BASELINE_PORT = 3202;
const LIMIT_PORT = 3204;
const BEFORE_PORT = 3205;

// ---------------------------------------------------------------- processes

interface Server {
  name: string;
  child: ChildProcess;
  port: number;
}

/** Starts a server; its standard output is dropped, or appended to `log` (--service-log, e.g. with --trace-gc). */
function start(name: string, port: number, command: string[], env: NodeJS.ProcessEnv, log?: string): Server {
  const child = spawn(process.execPath, command, {
    env,
    stdio: ['ignore', log ? openSync(log, 'a') : 'ignore', 'inherit'],
  });
  return { name, child, port };
}

/** Waits for a started server to answer `path`, for up to a minute. */
const waitUntilServing = (server: Server, path: string) =>
  waitUntilAnswering(`http://127.0.0.1:${server.port}${path}`, 60);

// ---------------------------------------------------------------- load

/** autocannon in its own process, with this run's connections; `seconds` defaults to --duration. */
const loadRun = (url: string, seconds = duration): Load => autocannon(url, connections, seconds);

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
  const response = await fetch(`http://127.0.0.1:${server.port}/v1/events?format=csv`, {
    headers: { connection: 'close' },
  });
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
const queryShapes = (await discoverShapes(pool)).filter((shape) => !args.only || shape.name.includes(args.only));
const liveEvents = Number(
  (await pool.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE deleted_at IS NULL')).rows[0]!.n,
);
await pool.end();

// Rate limits off: the load generator is one client sending far more than any limit allows. For the
// same reason the expensive reads (q) get a slot per connection: one client would otherwise hold one.
const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'warn',
  DATABASE_POOL_SIZE: '10',
  RATE_LIMIT_PER_MINUTE: '0',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
  EXPENSIVE_MAX_CONCURRENT: String(connections),
  EXPENSIVE_MAX_PER_CLIENT: String(connections),
  // The load generator has no key: without this, callers without a key share one slot (cores less one).
  ANONYMOUS_HEAVY_MAX_CONCURRENT: String(connections),
};
const serviceNodeOptions = args['service-node-options'].split(' ').filter(Boolean);
const service = start(
  'service',
  SERVICE_PORT,
  [...serviceNodeOptions, args.service],
  { ...env, PORT: String(SERVICE_PORT) },
  args['service-log'],
);
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
// The limit server runs with the service's Node flags: without --no-memory-reducer it too ran a full GC every 25 to 50
// requests once it had sat idle between its rounds (bench/RESULTS.md), a handicap of the runtime, not of the design.
const limit = start(
  'limit',
  LIMIT_PORT,
  [...serviceNodeOptions, '--import', 'tsx', 'bench/limit-server.ts', databaseUrl, String(LIMIT_PORT)],
  env,
);
const baseline = args.baseline
  ? start(
      'baseline',
      BASELINE_PORT,
      ['--import', 'tsx', 'bench/baseline-server.ts', databaseUrl, String(BASELINE_PORT)],
      env,
    )
  : null;
// --before: a second build of the service (e.g. the previous commit's dist, copied aside), measured in the same rounds.
const before = args.before
  ? start('before', BEFORE_PORT, [...args['before-node-options'].split(' ').filter(Boolean), args.before], {
      ...env,
      PORT: String(BEFORE_PORT),
    })
  : null;
const services = [service, ...(before ? [before] : [])];
const servers = [...services, limit, ...(baseline ? [baseline] : [])];
const stopAll = () => {
  for (const server of servers) server.child.kill('SIGTERM');
};
process.on('exit', stopAll);
await Promise.all([
  waitUntilServing(service, '/readyz'),
  waitUntilServing(limit, '/v1/events?limit=1'),
  ...(before ? [waitUntilServing(before, '/readyz')] : []),
  ...(baseline ? [waitUntilServing(baseline, '/v1/events?limit=1')] : []),
]);

const urlOf = (server: Server, query: string) => `http://127.0.0.1:${server.port}/v1/events?${query}`;

// Byte-identical pages, or nothing is measured: the limit server must do the same work.
for (const shape of queryShapes) {
  const [fromService, fromLimit] = await Promise.all(
    [service, limit].map(async (server) => {
      const response = await fetch(urlOf(server, shape.query), { headers: { connection: 'close' } });
      return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
    }),
  );
  const data = (body: Buffer) => {
    try {
      return (JSON.parse(body.toString('utf8')) as { data?: unknown[] }).data?.length ?? 0;
    } catch {
      return 0;
    }
  };
  if (
    fromService!.status !== 200 ||
    fromLimit!.status !== 200 ||
    data(fromService!.body) === 0 ||
    !fromService!.body.equals(fromLimit!.body)
  ) {
    console.error(
      `NOT IDENTICAL: ${shape.name} (${shape.query}): service ${fromService!.status}, ${fromService!.body.length} B, ${data(fromService!.body)} events; ` +
        `limit ${fromLimit!.status}, ${fromLimit!.body.length} B, ${data(fromLimit!.body)} events`,
    );
    process.exit(1);
  }
  console.error(
    `${shape.name}: identical pages of ${fromService!.body.length.toLocaleString('en')} B, ${data(fromService!.body)} events`,
  );
}

/** Major garbage collections so far: the service's from /metrics (prom-client), the limit server's from /gc; null for the baseline. */
async function majorGcs(server: Server): Promise<number | null> {
  if (services.includes(server)) {
    const text = await (
      await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { connection: 'close' } })
    ).text();
    return Number(/^nodejs_gc_duration_seconds_count\{kind="major"\} (\d+)/m.exec(text)?.[1] ?? 0);
  }
  if (server === limit)
    return (
      (await (await fetch(`http://127.0.0.1:${server.port}/gc`, { headers: { connection: 'close' } })).json()) as {
        major: number;
      }
    ).major;
  return null;
}

interface Round extends Load {
  /** µs of the server process's CPU per request. */
  cpu: number;
  /** Major GCs per 1,000 requests; null where not known. */
  gcs: number | null;
  load: number;
}

async function measure(server: Server, query: string): Promise<Round> {
  const pid = server.child.pid!;
  const gcBefore = await majorGcs(server);
  const cpuBefore = cpuSeconds(pid);
  const load = loadRun(urlOf(server, query));
  const cpu = ((cpuSeconds(pid) - cpuBefore) / Math.max(1, load.requests)) * 1e6;
  const gcAfter = await majorGcs(server);
  const gcs = gcBefore === null || gcAfter === null ? null : ((gcAfter - gcBefore) / Math.max(1, load.requests)) * 1000;
  return { ...load, cpu, gcs, load: os.loadavg()[0]! };
}

type Phase = 'fresh' | 'after idle';
const results: { phase: Phase; shape: string; rounds: Map<Server, Round[]> }[] = [];

async function runRounds(phase: Phase, count: number, sides: Server[]) {
  for (const shape of queryShapes) {
    const entry = { phase, shape: shape.name, rounds: new Map(sides.map((server) => [server, [] as Round[]])) };
    for (let round = 0; round < count; round += 1) {
      // Alternate who goes first, so warm caches and drift favour neither.
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const server of order) {
        const measured = await measure(server, shape.query);
        entry.rounds.get(server)!.push(measured);
        console.error(
          `${phase} ${shape.name} round ${round + 1} ${server.name}: ${measured.rps.toFixed(0)} req/s p99 ${measured.p99} ms ` +
            `CPU ${measured.cpu.toFixed(0)} µs/req major GCs ${measured.gcs?.toFixed(2) ?? '-'}/1k load ${measured.load.toFixed(1)}`,
        );
      }
    }
    results.push(entry);
  }
}

// Every shape once on every server, unmeasured: the first shape measured used to pay for the
// servers' warm-up (JIT, PostgreSQL's caches), up to a third of its throughput.
if (warmup > 0) {
  for (const shape of queryShapes) for (const server of servers) loadRun(urlOf(server, shape.query), warmup);
}
const startedAt = new Date();
await runRounds('fresh', rounds, servers);
if (idleSeconds > 0 && idleRounds > 0) {
  console.error(`idle for ${idleSeconds} s`);
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  await runRounds('after idle', idleRounds, [...services, limit]);
}
const servicePeak = memory(service.child.pid!).peak;
const limitPeak = memory(limit.child.pid!).peak;
const exported = args['skip-export']
  ? null
  : await exportCsv(service).catch((error: unknown) => {
      console.error('export failed:', error);
      return null;
    });
stopAll();

// ---------------------------------------------------------------- report

const fmt = (n: number, digits = 0) => n.toFixed(digits);
const of = (rounds: Round[] | undefined, pick: (round: Round) => number) => median((rounds ?? []).map(pick));
const latency = (rounds: Round[] | undefined) => `${of(rounds, (r) => r.p50)} / ${of(rounds, (r) => r.p99)}`;
const gcRate = (rounds: Round[] | undefined) =>
  rounds?.every((r) => r.gcs !== null)
    ? fmt(
        of(rounds, (r) => r.gcs!),
        2,
      )
    : '-';
const command = [
  'npm run build && node --import tsx bench/run.ts --database-url <url>',
  `--duration ${duration} --rounds ${rounds} --warmup ${warmup} --connections ${connections} --idle ${idleSeconds} --idle-rounds ${idleRounds}`,
  ...(args.baseline ? ['--baseline'] : []),
  ...(args.only ? [`--only '${args.only}'`] : []),
  ...(args.service !== 'dist/server.js' ? [`--service ${args.service}`] : []),
  ...(args.before ? [`--before ${args.before}`] : []),
  ...(args['before-node-options'] ? [`--before-node-options='${args['before-node-options']}'`] : []),
  ...(serviceNodeOptions.length > 0 ? [`--service-node-options='${serviceNodeOptions.join(' ')}'`] : []),
].join(' ');
const loads = results.flatMap((entry) => [...entry.rounds.values()].flat().map((r) => r.load));
const lines = [
  `Run on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version},`,
  `PostgreSQL on the same machine; ${Number(counts.events).toLocaleString('en')} events, ${Number(counts.reports).toLocaleString('en')} reports;`,
  `load average (1 min) at the end of the rounds ${fmt(Math.min(...loads), 1)} to ${fmt(Math.max(...loads), 1)}, median ${fmt(median(loads), 1)}.`,
  '',
  '```sh',
  command,
  '```',
  '',
  `Each shape: ${rounds} rounds of ${duration} s at ${connections} connections (autocannon, a separate process) on each server, interleaved, first mover`,
  `alternating, after ${warmup} s of every shape on every server unmeasured; then ${idleRounds} more rounds each after both sat idle for ${idleSeconds} s.`,
  "Medians over rounds; ratio = service req/s / limit req/s; CPU = the server process's CPU time (/proc/<pid>/stat) per request;",
  `the limit server runs with the service's Node flags (${serviceNodeOptions.join(' ') || 'none'}), a --before build with its own;`,
  'major GCs per 1,000 requests.',
  '',
  '| build | phase | shape | service req/s | limit req/s | ratio | service p50 / p99 ms | limit p50 / p99 ms | CPU µs/req service / limit | major GCs /1k service / limit | errors, non-2xx |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...services.flatMap((side) =>
    results.map(({ phase, shape, rounds: byServer }) => {
      const s = byServer.get(side);
      const l = byServer.get(limit);
      const sr = of(s, (r) => r.rps);
      const lr = of(l, (r) => r.rps);
      const bad = [...byServer.values()].flat().reduce((sum, r) => sum + r.errors + r.non2xx, 0);
      const build = side === service ? args.service : `${args.before} (before)`;
      return `| ${build} | ${phase} | ${shape} | ${fmt(sr)} | ${fmt(lr)} | ${fmt(sr / lr, 2)} | ${latency(s)} | ${latency(l)} | ${fmt(of(s, (r) => r.cpu))} / ${fmt(of(l, (r) => r.cpu))} | ${gcRate(s)} / ${gcRate(l)} | ${bad} |`;
    }),
  ),
  '',
  ...(baseline
    ? [
        'The old baseline (bench/baseline-server.ts, JSON built per request), fresh rounds:',
        '',
        '| shape | baseline req/s | service / baseline | baseline p50 / p99 ms | CPU µs/req |',
        '|---|---:|---:|---:|---:|',
        ...results
          .filter((entry) => entry.phase === 'fresh')
          .map(({ shape, rounds: byServer }) => {
            const b = byServer.get(baseline);
            return `| ${shape} | ${fmt(of(b, (r) => r.rps))} | ${fmt(of(byServer.get(service), (r) => r.rps) / of(b, (r) => r.rps), 2)} | ${latency(b)} | ${fmt(of(b, (r) => r.cpu))} |`;
          }),
        '',
      ]
    : []),
  `Per round (req/s, p99 ms, CPU µs/req): ${results
    .map(
      ({ phase, shape, rounds: byServer }) =>
        `${phase} ${shape}: ${[...byServer.entries()].map(([server, rs]) => `${server.name} ${rs.map((r) => `${fmt(r.rps)}/${r.p99}/${fmt(r.cpu)}`).join(', ')}`).join('; ')}`,
    )
    .join('. ')}.`,
  '',
  `Peak RSS: service ${fmt(servicePeak)} MB, limit server ${fmt(limitPeak)} MB.`,
  '',
  ...(exported
    ? [
        `CSV export: \`GET /v1/events?format=csv\` of all ${liveEvents.toLocaleString('en')} live events: ${exported.rows.toLocaleString('en')} records after the header in ${fmt(exported.seconds, 1)} s,`,
        `${fmt(exported.rows / exported.seconds)} rows/s; service peak RSS during the export ${fmt(exported.peakRss)} MB (sampled every 100 ms),`,
        `CPU per record: service ${fmt(exported.cpuPerRow, 1)} µs, PostgreSQL backend ${exported.pgCpuPerRow?.toFixed(1) ?? '?'} µs.`,
        '',
      ]
    : []),
];
if (args.out) writeFileSync(args.out, `${lines.join('\n')}\n`);
console.log(lines.join('\n'));

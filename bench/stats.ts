// The stats benchmark (run by hand, never in CI):
//
//   npm run build && node --import tsx bench/stats.ts --database-url postgresql://... [--requests 20]
//
// On a database loaded by `npm run seed:synthetic`, it starts the built service (node
// dist/server.js, rate limits off) and times GET /v1/stats/events for the dashboard shapes
// below, one request at a time (a dashboard's wait), after two warm-up requests each. As
// the baseline, in the same run, it times the month-by-type answer computed the direct way:
// one SQL query over the events, reports and figures tables (what the stats would cost
// without their derived tables), and checks that both give the same numbers. It prints
// Markdown for bench/RESULTS.md.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    requests: { type: 'string', default: '20' },
    port: { type: 'string', default: '3203' },
  },
});
const databaseUrl = args['database-url'];
if (!databaseUrl) throw new Error('--database-url is required (a database loaded by npm run seed:synthetic)');
const requests = Number(args.requests);
const port = Number(args.port);

const SHAPES: [name: string, query: string][] = [
  ['month x type, all events', 'group_by=period,type&interval=month'],
  [
    'month x type, one year, filled',
    'group_by=period,type&interval=month&occurred_from=2024-01-01&occurred_to=2024-12-31&fill=true',
  ],
  [
    'week, two types, one year',
    'group_by=period&interval=week&type=strike,battle&occurred_from=2023-01-01&occurred_to=2023-12-31',
  ],
  ['status x country, all events', 'group_by=status,country'],
  ['month, one country', 'group_by=period&interval=month&country=UKR'],
  ['reporter, one quarter', 'group_by=reporter&occurred_from=2025-01-01&occurred_to=2025-03-31'],
  ['year, full-text q', 'group_by=period&interval=year&q=drone'],
];

/** Month-by-type straight from the base tables: the same numbers, without the stats tables. */
const BASELINE_SQL = `
  WITH ev AS (
    SELECT e.id, date_trunc('month', e.occurred_start::timestamp)::date AS period, e.type,
           (SELECT count(*) FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL) AS reports
    FROM events e WHERE e.deleted_at IS NULL),
  per_event AS (
    SELECT f.event_id, f.measure, sum(f.low) AS low, sum(f.best) AS best, sum(f.high) AS high
    FROM figures f WHERE f.event_id IS NOT NULL GROUP BY 1, 2),
  sums AS (
    SELECT m.period, m.type, json_object_agg(m.measure, json_build_object('low', m.low, 'best', m.best, 'high', m.high,
             'low_n', m.low_n, 'best_n', m.best_n, 'high_n', m.high_n) ORDER BY m.measure) AS figures
    FROM (SELECT ev.period, ev.type, pe.measure, sum(pe.low)::float8 AS low, count(pe.low)::int AS low_n,
                 sum(pe.best)::float8 AS best, count(pe.best)::int AS best_n, sum(pe.high)::float8 AS high, count(pe.high)::int AS high_n
          FROM ev JOIN per_event pe ON pe.event_id = ev.id GROUP BY 1, 2, 3) m
    GROUP BY 1, 2),
  counts AS (SELECT period, type, count(*)::int AS events, sum(reports)::int AS reports FROM ev GROUP BY 1, 2)
  SELECT to_char(c.period, 'YYYY-MM-DD') AS period, c.type, c.events, c.reports, COALESCE(s.figures, '{}'::json) AS figures
  FROM counts c LEFT JOIN sums s ON s.period = c.period AND s.type = c.type
  ORDER BY c.period, c.type`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function time<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await work();
  return [performance.now() - start, result];
}

async function get(query: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/stats/events?${query}`);
  if (!response.ok) throw new Error(`${query}: ${response.status} ${await response.text()}`);
  return response.json();
}

const service = spawn(process.execPath, ['dist/server.js'], {
  env: {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  for (let i = 0; ; i += 1) {
    if (i > 240) throw new Error('the service did not start');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 1,
    options: '-c jit=off -c max_parallel_workers_per_gather=2',
  });
  const events = Number((await pool.query('SELECT count(*) FROM events WHERE deleted_at IS NULL')).rows[0].count);

  const lines: string[] = [];
  lines.push(
    `Command: \`node --import tsx bench/stats.ts --database-url <db> --requests ${requests}\`, ${new Date().toISOString()},`,
  );
  lines.push(
    `${events.toLocaleString('en')} live events, ${os.cpus().length} cores, load average at start ${os.loadavg()[0]!.toFixed(2)}.`,
  );
  lines.push('', '| shape | query | p50 ms | p95 ms | max ms | groups |', '|---|---|---|---|---|---|');
  let monthByType: { p50: number; body: unknown } | undefined;
  for (const [name, query] of SHAPES) {
    await get(query);
    await get(query);
    const samples: number[] = [];
    let body: unknown;
    for (let i = 0; i < requests; i += 1) {
      const [ms, result] = await time(() => get(query));
      samples.push(ms);
      body = result;
    }
    samples.sort((a, b) => a - b);
    const p50 = percentile(samples, 50);
    if (!monthByType) monthByType = { p50, body };
    const groups = (body as { data: unknown[] }).data.length;
    lines.push(
      `| ${name} | \`${query}\` | ${p50.toFixed(0)} | ${percentile(samples, 95).toFixed(0)} | ${samples.at(-1)!.toFixed(0)} | ${groups} |`,
    );
    process.stderr.write(`${name}: p50 ${p50.toFixed(0)} ms\n`);
  }

  // The baseline: slower by far, so three runs.
  const baseline: number[] = [];
  let baselineRows: unknown[] = [];
  for (let i = 0; i < 3; i += 1) {
    const [ms, result] = await time(() => pool.query(BASELINE_SQL));
    baseline.push(ms);
    baselineRows = result.rows;
  }
  baseline.sort((a, b) => a - b);
  const same = JSON.stringify(baselineRows) === JSON.stringify((monthByType!.body as { data: unknown[] }).data);
  lines.push(
    '',
    `Baseline, month x type straight from events, reports and figures (one SQL query over pg, 3 runs, parallel workers allowed, no JIT):`,
    `median ${baseline[1]!.toFixed(0)} ms; the service's p50 is ${(baseline[1]! / monthByType!.p50).toFixed(1)}x faster.`,
    `Same rows as the service: ${same ? 'yes' : 'NO'}.`,
  );
  await pool.end();
  console.log(lines.join('\n'));
  if (!same) process.exitCode = 1;
} finally {
  service.kill('SIGTERM');
}

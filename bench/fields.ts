// The sparse-fieldset benchmark (run by hand, never in CI):
//
//   npm run build && node --import tsx bench/fields.ts --database-url postgresql://.../ce_shared [--duration 10] [--rounds 3]
//
// On a database loaded by `npm run seed:synthetic`, it starts the built service and compares, at `limit` 50 and at the
// largest limit (1000), the first page of GET /v1/events in full against the map-layer page
// (`fields=id,type,occurred,location,status`): the bytes of each page, then req/s and p50/p99 under autocannon
// (a separate process, --connections connections, --duration seconds a run), the four shapes interleaved round after
// round (first mover alternating), --rounds rounds, after --warmup seconds of each unmeasured. Rate limits and load
// shedding are off (one load generator sends far more than any limit allows). Prints Markdown.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { SERVICE_NODE_FLAGS } from '../scripts/service-flags.js';
import { autocannon } from './autocannon.js';
import { waitUntilAnswering } from './wait.js';

const { values: args } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    port: { type: 'string', default: '3211' },
  },
});
const databaseUrl = args['database-url'];
if (!databaseUrl) throw new Error('--database-url is required (a database loaded by npm run seed:synthetic)');
const port = Number(args.port);
const base = `http://127.0.0.1:${port}`;
const MAP_LAYER = 'id,type,occurred,location,status';

const shapes = [50, 1000].flatMap((limit) => [
  { name: `full, limit ${limit}`, path: `/v1/events?limit=${limit}` },
  { name: `fields=${MAP_LAYER}, limit ${limit}`, path: `/v1/events?limit=${limit}&fields=${MAP_LAYER}` },
]);

/** A run on `path` of this server, with its non-2xx answers counted with its errors. */
function loadRun(path: string, seconds: number) {
  const load = autocannon(`${base}${path}`, Number(args.connections), seconds);
  return { ...load, bad: load.errors + load.non2xx };
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)] ?? 0;
const load = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

// Started as `npm start` starts it in production (its Node flags), on the built code.
const service = spawn(process.execPath, [...SERVICE_NODE_FLAGS, 'dist/server.js'], {
  env: {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATABASE_POOL_SIZE: '10',
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
    // Shedding off: on a shared, loaded machine it answered 503 to the first requests; this measures throughput.
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  await waitUntilAnswering(`${base}/readyz`, 60);
  const sizes = new Map<string, { bytes: number; events: number }>();
  for (const shape of shapes) {
    const response = await fetch(`${base}${shape.path}`);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${shape.path}: ${response.status} ${text}`);
    sizes.set(shape.name, {
      bytes: Buffer.byteLength(text),
      events: (JSON.parse(text) as { data: unknown[] }).data.length,
    });
  }
  for (const shape of shapes) loadRun(shape.path, Number(args.warmup));
  const runs = new Map<string, ReturnType<typeof loadRun>[]>(shapes.map((shape) => [shape.name, []]));
  const loads: string[] = [];
  for (let round = 0; round < Number(args.rounds); round++) {
    const order = round % 2 === 0 ? shapes : [...shapes].reverse();
    for (const shape of order) runs.get(shape.name)!.push(loadRun(shape.path, Number(args.duration)));
    loads.push(load());
  }
  console.log(
    '| page | events | bytes | bytes / event | req/s (median) | p50 / p99 ms | req/s per round | errors, non-2xx |',
  );
  console.log(
    '| ---- | -----: | ----: | ------------: | -------------: | -----------: | --------------- | --------------: |',
  );
  for (const shape of shapes) {
    const size = sizes.get(shape.name)!;
    const all = runs.get(shape.name)!;
    const rps = median(all.map((run) => run.rps));
    const middle = all.find((run) => run.rps === rps)!;
    console.log(
      `| ${shape.name} | ${size.events} | ${size.bytes.toLocaleString('en')} | ${Math.round(size.bytes / size.events)} | ` +
        `${rps.toFixed(0)} | ${middle.p50} / ${middle.p99} | ${all.map((run) => run.rps.toFixed(0)).join(', ')} | ` +
        `${all.reduce((sum, run) => sum + run.bad, 0)} |`,
    );
  }
  console.log(`\nLoad average (1, 5, 15 min) after each round: ${loads.join('; ')}`);
} finally {
  service.kill('SIGTERM');
}

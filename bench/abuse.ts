// The abuse benchmark (run by hand, never in CI):
//
//   npm run build && node --import tsx bench/abuse.ts --database-url postgresql://.../ce_bench [--duration 60] [--attackers 20] [--only expensive|slow]
//
// On a database loaded by `npm run seed:synthetic` (1M events for the figures in RESULTS.md), it
// starts the built service with its default settings and plays two attacks against it, each for
// --duration seconds, while three well-behaved clients measure what everyone else gets:
//
// - "expensive reads": --attackers anonymous clients, each from its own loopback address
//   (127.0.0.10, .11, ...), loop over the most expensive shapes the API has: stats grouped by every
//   key per day, stats per day by type and country, claims, full-text search with totals, a search of
//   many words, a count of everything, and whole CSV and GeoJSON exports read as fast as they come.
// - "slow and stalled": 10 clients open whole CSV exports and read them at 2 KB/s, and 10 editors'
//   atomic imports send one line and then a byte every 5 s.
//
// The well-behaved clients: single-event GETs one after another from 127.0.0.100 with a reader key (p50/p99), /readyz
// every 500 ms (every answer must be 200), an editor's POST of a new event every 2 s (every one must be
// 201), and in the second attack a normal whole CSV export every 10 s. The server's RSS is sampled every
// 250 ms. It prints the figures as Markdown with the issue's targets (p99 < 250 ms, /readyz always 200,
// every POST 201, RSS < 400 MB) and exits 1 when one is missed. The keys it makes are revoked at the end;
// the events it posted stay.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { connectDatabase } from '../src/db/client.js';
import { createKey, revokeKey } from '../src/modules/keys/repository.js';
import { memory } from './proc.js';
import { waitUntilAnswering } from './wait.js';

const { values: args } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    duration: { type: 'string', default: '60' },
    only: { type: 'string' },
    attackers: { type: 'string', default: '20' },
    port: { type: 'string', default: '3204' },
    server: { type: 'string', default: 'dist/server.js' },
  },
});
const databaseUrl = args['database-url'];
if (!databaseUrl) throw new Error('--database-url is required (a database loaded by npm run seed:synthetic)');
const duration = Number(args.duration) * 1000;
const attackers = Number(args.attackers);
const port = Number(args.port);
const base = `http://127.0.0.1:${port}`;

// ---------------------------------------------------------------- plumbing

interface Answer {
  status: number;
  ms: number;
  bytes: number;
}

/** One request from `from` (a loopback address), its body read to the end; status 0 for a network error. */
function request(
  from: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      `${base}${path}`,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        localAddress: from,
        agent: false,
        timeout: options.timeoutMs ?? 300_000,
      },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes }));
        res.on('error', () => resolve({ status: 0, ms: performance.now() - started, bytes }));
        res.on('close', () =>
          resolve({ status: res.complete ? (res.statusCode ?? 0) : 0, ms: performance.now() - started, bytes }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // The timeout is the socket's idle time: a response that keeps trickling (an export at a capped
    // rate) never idles, so the request is also cut when its time is up.
    const deadline = setTimeout(() => req.destroy(new Error('timeout')), options.timeoutMs ?? 300_000);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started, bytes: 0 }));
    req.end(options.body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Status counts, as "200 x12, 429 x3". */
class Tally {
  private readonly counts = new Map<number, number>();
  add(status: number): void {
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1);
  }
  count(status: number): number {
    return this.counts.get(status) ?? 0;
  }
  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
  toString(): string {
    return [...this.counts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status === 0 ? 'network error' : status} x${n}`)
      .join(', ');
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

// ---------------------------------------------------------------- the service

const db = connectDatabase(databaseUrl, 2);
const editor = (await createKey(db.prisma, `abuse-editor-${Date.now()}`, 'editor', 'bench/abuse.ts'))!;
const importer = (await createKey(db.prisma, `abuse-importer-${Date.now()}`, 'editor', 'bench/abuse.ts'))!;
// The measuring client reads with a key of its own, at about 15 requests a second: within a key's
// rate limit (1,200 a minute), where an address without a key gets 300.
const reader = (await createKey(db.prisma, `abuse-reader-${Date.now()}`, 'reader', 'bench/abuse.ts'))!;
const sample = await db.pool.query<{ id: string }>(
  'SELECT id FROM events TABLESAMPLE SYSTEM (1) REPEATABLE (7) WHERE deleted_at IS NULL LIMIT 2000',
);
const eventIds = sample.rows.map((row) => row.id);
if (eventIds.length === 0) throw new Error('no events: load some with npm run seed:synthetic');
const word = (
  await db.pool.query<{ word: string }>(
    `SELECT word FROM ts_stat($$SELECT to_tsvector('english', title) FROM events TABLESAMPLE SYSTEM (1) REPEATABLE (1)$$)
     AS t(word, ndoc, nentry) WHERE length(word) > 4 ORDER BY ndoc DESC LIMIT 1`,
  )
).rows[0]!.word;
const events = (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n;

const child = spawn(process.execPath, [args.server], {
  env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
let exited: string | null = null;
child.on('exit', (code, signal) => (exited = `exit ${code ?? signal}`));
await waitUntilAnswering(`${base}/readyz`, 120, () => exited);
const pid = child.pid!;

// ---------------------------------------------------------------- the attacks

const EXPENSIVE = [
  '/v1/stats/events?group_by=period,type,status,country,admin1,reporter,actor&interval=day',
  '/v1/stats/events?group_by=period,type,country&interval=day',
  '/v1/stats/events?group_by=reporter,actor',
  '/v1/stats/claims?measure=killed',
  `/v1/events?q=${encodeURIComponent(word)}&count=true&limit=1000`,
  `/v1/events?q=${encodeURIComponent(`${word} or killed or captured or attack or strike or drone or army or forces`)}&count=true`,
  '/v1/events?count=true&limit=1',
  '/v1/events?format=csv',
  '/v1/events?format=geojson',
];

/** An anonymous client from its own address, requesting expensive shapes one after another until `until`. */
async function expensiveReader(n: number, until: number, tally: Tally): Promise<void> {
  const from = `127.0.0.${10 + n}`;
  for (let i = n; performance.now() < until; i++) {
    const answer = await request(from, EXPENSIVE[i % EXPENSIVE.length]!, {
      timeoutMs: Math.max(1, until - performance.now()),
    });
    tally.add(answer.status);
    // A refused client does not spin: it comes back at once, as an attacker would, but yields the loop.
    if (answer.status !== 200) await sleep(10);
  }
}

/** A whole CSV export read at `bytesPerSecond`, from its own address, held until `until`. */
function slowExport(n: number, until: number, bytesPerSecond: number, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${60 + n}` });
    let status = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearInterval(timer);
      socket.destroy();
      tally.add(status || -1);
      resolve();
    };
    socket.on('connect', () => {
      socket.write(`GET /v1/events?format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      socket.pause();
      // Read bytesPerSecond a second, in four portions.
      timer = setInterval(() => {
        if (performance.now() >= until) return finish();
        let want = bytesPerSecond / 4;
        while (want > 0) {
          const chunk = socket.read(Math.min(want, Math.max(1, socket.readableLength)) || undefined) as Buffer | null;
          if (!chunk) break;
          if (!status) status = Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 0);
          want -= chunk.length;
        }
      }, 250);
    });
    socket.on('close', finish);
    socket.on('error', finish);
  });
}

/** An editor's atomic import that sends one line, then one byte every 5 s, until `until`. */
function stalledImport(n: number, until: number, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${80 + n}` });
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearInterval(timer);
      socket.destroy();
      tally.add(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? -1));
      resolve();
    };
    socket.on('connect', () => {
      const line = JSON.stringify({
        type: 'statement',
        title: `Stalled import ${n}`,
        occurred: { start: '2025-01-01', precision: 'day' },
        reports: [{ reporter: { name: 'Abuse bench', kind: 'other' }, stance: 'asserts' }],
      });
      socket.write(
        `POST /v1/imports?atomic=true HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${importer.key}\r\n` +
          `Content-Type: application/x-ndjson\r\nContent-Length: 100000000\r\n\r\n${line}\n`,
      );
      timer = setInterval(() => (performance.now() >= until ? finish() : socket.write(' ')), 5_000);
    });
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', finish);
    socket.on('error', finish);
  });
}

// ---------------------------------------------------------------- the well-behaved clients

interface Observed {
  gets: number[];
  getStatuses: Tally;
  readyz: Tally;
  posts: Tally;
  postMs: number[];
  exports: Tally;
  rssPeak: number;
}

async function observe(until: number, withExports: boolean): Promise<Observed> {
  const seen: Observed = {
    gets: [],
    getStatuses: new Tally(),
    readyz: new Tally(),
    posts: new Tally(),
    postMs: [],
    exports: new Tally(),
    rssPeak: 0,
  };
  const gets = (async () => {
    for (let i = 0; performance.now() < until; i++) {
      const answer = await request('127.0.0.100', `/v1/events/${eventIds[i % eventIds.length]}`, {
        headers: { authorization: `Bearer ${reader.key}` },
      });
      seen.getStatuses.add(answer.status);
      seen.gets.push(answer.ms);
      await sleep(60);
    }
  })();
  const readyz = (async () => {
    while (performance.now() < until) {
      seen.readyz.add((await request('127.0.0.101', '/readyz', { timeoutMs: 5_000 })).status);
      await sleep(500);
    }
  })();
  const posts = (async () => {
    for (let i = 0; performance.now() < until; i++) {
      const body = JSON.stringify({
        type: 'capture',
        title: `Abuse bench editor's event ${Date.now()}-${i}`,
        occurred: { start: '2025-02-01', precision: 'day' },
        location: { country: 'UKR', precision: 'country' },
        reports: [
          {
            reporter: { name: 'Abuse bench editor', kind: 'agency' },
            stance: 'asserts',
            reliability: 'B',
            credibility: 2,
          },
        ],
      });
      const answer = await request('127.0.0.102', '/v1/events', {
        method: 'POST',
        headers: { authorization: `Bearer ${editor.key}`, 'content-type': 'application/json' },
        body,
      });
      seen.posts.add(answer.status);
      seen.postMs.push(answer.ms);
      await sleep(2_000);
    }
  })();
  const exports = (async () => {
    while (withExports && performance.now() < until) {
      seen.exports.add(
        (await request('127.0.0.103', '/v1/events?format=csv', { timeoutMs: Math.max(1, until - performance.now()) }))
          .status,
      );
      await sleep(10_000);
    }
  })();
  const rss = setInterval(() => {
    try {
      seen.rssPeak = Math.max(seen.rssPeak, memory(pid).rss);
    } catch {
      // the server ended; the attack's results say so
    }
  }, 250);
  await Promise.all([gets, readyz, posts, exports]);
  clearInterval(rss);
  return seen;
}

// ---------------------------------------------------------------- run

interface Phase {
  name: string;
  attack: Tally;
  attackNote: string;
  seen: Observed;
}

async function phase(
  name: string,
  attack: (until: number, tally: Tally) => Promise<unknown>,
  withExports: boolean,
  note: string,
) {
  console.error(`${name}: ${duration / 1000} s`);
  const until = performance.now() + duration;
  const tally = new Tally();
  const [, seen] = await Promise.all([attack(until, tally), observe(until, withExports)]);
  // Let the server drop what the attack left behind before the next phase.
  await sleep(5_000);
  return { name, attack: tally, attackNote: note, seen };
}

const phases: Phase[] = [];
try {
  if (args.only !== 'slow')
    phases.push(
      await phase(
        'expensive reads',
        (until, tally) => Promise.all(Array.from({ length: attackers }, (_, n) => expensiveReader(n, until, tally))),
        false,
        `${attackers} anonymous clients, each from its own address, looping over ${EXPENSIVE.length} expensive shapes`,
      ),
    );
  if (args.only !== 'expensive')
    phases.push(
      await phase(
        'slow and stalled',
        (until, tally) =>
          Promise.all([
            ...Array.from({ length: 10 }, (_, n) => slowExport(n, until, 2048, tally)),
            ...Array.from({ length: 10 }, (_, n) => stalledImport(n, until, tally)),
          ]),
        true,
        '10 whole CSV exports read at 2 KB/s and 10 atomic imports sending a byte every 5 s (status -1: no answer before the end)',
      ),
    );
} finally {
  child.kill('SIGTERM');
  await revokeKey(db.prisma, editor.row.name, 'bench/abuse.ts').catch(() => {});
  await revokeKey(db.prisma, importer.row.name, 'bench/abuse.ts').catch(() => {});
  await revokeKey(db.prisma, reader.row.name, 'bench/abuse.ts').catch(() => {});
  await db.close();
}

// ---------------------------------------------------------------- report

let missed = 0;
const verdict = (ok: boolean) => {
  if (!ok) missed++;
  return ok ? 'yes' : '**no**';
};
const lines = [
  `Abuse run on ${Number(events).toLocaleString('en')} events, ${duration / 1000} s per attack, default settings (\`node --import tsx bench/abuse.ts\`).`,
  '',
  "| attack | attackers' answers | single GET p50 / p99 ms (n) | p99 < 250 ms | /readyz | always 200 | editor POSTs | all 201 | normal exports | peak RSS MB | < 400 MB |",
  '|---|---|---:|---|---|---|---|---|---|---:|---|',
];
for (const { name, attack, attackNote, seen } of phases) {
  const sorted = [...seen.gets].sort((a, b) => a - b);
  const p99 = percentile(sorted, 99);
  lines.push(
    `| ${name} (${attackNote}) | ${attack.toString()} | ${percentile(sorted, 50).toFixed(1)} / ${p99.toFixed(1)} (${sorted.length}; ${seen.getStatuses.toString()}) | ${verdict(p99 < 250 && seen.getStatuses.count(200) === seen.getStatuses.total)} | ${seen.readyz.toString()} | ${verdict(seen.readyz.count(200) === seen.readyz.total)} | ${seen.posts.toString()} | ${verdict(seen.posts.total > 0 && seen.posts.count(201) === seen.posts.total)} | ${seen.exports.toString() || 'not tried'} | ${seen.rssPeak.toFixed(0)} | ${verdict(seen.rssPeak < 400)} |`,
  );
}
console.log(lines.join('\n'));
process.exit(missed > 0 ? 1 : 0);

// The soak test (run by hand, never in CI):
//
//   npm run build && node --import tsx bench/soak.ts --database-url postgresql://... [--duration 300] [--connections 8] [--write-share 0.2]
//       [--idle-every 0 --idle-gap 0] [--max-drift 10] [--service-node-options='--flag ...']
//
// On a database loaded by `npm run seed:synthetic`, it starts the built service (node dist/server.js,
// which migrates first), creates an editor key in the database, and for --duration seconds keeps
// --connections requests in flight against 127.0.0.1 only: a mix of reads (filtered list pages, cursor
// follows, single GETs with If-None-Match, the change feed, small CSV exports, report lists) and writes
// (create events, some with an Idempotency-Key and a replay, PATCH with the ETag read, add reports,
// withdraw a report of an event that has two or more). Every request is a correct one, so any answer but
// the expected one is an error, except a 412 that lost a race against another write of the soak to the
// same event (counted apart). It samples the service's RSS (VmRSS) every second and compares the mean
// of the first --window seconds after --warmup with the mean of the last --window seconds: a leak shows
// as growth. It prints the results as Markdown, and exits 1 when there were errors or RSS grew by
// --max-growth percent or more. The key is revoked at the end; the data it wrote stays.
//
// With --idle-every A --idle-gap G the load runs in periods of A seconds with G seconds of silence
// between them (the service used to slow down for good after sitting idle: issue 19). Per period
// it reports req/s and major garbage collections per 1,000 requests (from the service's /metrics);
// it also fails when the last period's req/s or major-GC rate is more than --max-drift percent
// worse than the first's (counted from --warmup on).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { waitUntilAnswering } from './wait.js';
import { httpRequest } from './http.js';
import { connectDatabase } from '../src/db/client.js';
import { createKey, revokeKey } from '../src/modules/keys/repository.js';
import { cpuSeconds, memory } from './proc.js';
import { SERVICE_NODE_FLAGS } from '../scripts/service-flags.js';

const { values: args } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    duration: { type: 'string', default: '300' },
    connections: { type: 'string', default: '8' },
    'write-share': { type: 'string', default: '0.2' },
    warmup: { type: 'string', default: '30' },
    window: { type: 'string', default: '30' },
    'max-growth': { type: 'string', default: '10' },
    port: { type: 'string', default: '3203' },
    server: { type: 'string', default: 'dist/server.js' },
    seed: { type: 'string', default: '1' },
    'idle-every': { type: 'string', default: '0' },
    'idle-gap': { type: 'string', default: '0' },
    'max-drift': { type: 'string', default: '10' },
    // The flags npm start runs the service with (scripts/service-flags.ts), unless given.
    'service-node-options': { type: 'string', default: SERVICE_NODE_FLAGS.join(' ') },
  },
});
const databaseUrl = args['database-url'];
if (!databaseUrl) throw new Error('--database-url is required (a database loaded by npm run seed:synthetic)');
const duration = Number(args.duration);
const connections = Number(args.connections);
const writeShare = Number(args['write-share']);
const warmup = Number(args.warmup);
const windowSeconds = Number(args.window);
const maxGrowth = Number(args['max-growth']);
const port = Number(args.port);
const idleEvery = Number(args['idle-every']);
const idleGap = Number(args['idle-gap']);
const maxDrift = Number(args['max-drift']);
if (
  ![duration, connections, writeShare, warmup, windowSeconds, maxGrowth, port, idleEvery, idleGap, maxDrift].every(
    Number.isFinite,
  )
)
  throw new Error('numeric options must be numbers');
if (writeShare < 0 || writeShare > 1) throw new Error('--write-share is between 0 and 1');
if (duration < warmup + 2 * windowSeconds) throw new Error('--duration must cover --warmup and two --window periods');
if (idleGap > 0 && idleEvery <= warmup) throw new Error('--idle-every must be longer than --warmup');

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

// ---------------------------------------------------------------- randomness (seeded, so the mix repeats)

let state = Number(args.seed) >>> 0 || 1;
/** mulberry32 */
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pickOne = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
function weighted<T>(choices: readonly (readonly [T, number])[]): T {
  let r = random() * choices.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [choice, weight] of choices) {
    r -= weight;
    if (r < 0) return choice;
  }
  return choices[choices.length - 1]![0];
}

// ---------------------------------------------------------------- the service

const db = connectDatabase(databaseUrl, 2);
const serviceNodeOptions = args['service-node-options'].split(' ').filter(Boolean);
const service: ChildProcess = spawn(process.execPath, [...serviceNodeOptions, args.server], {
  env: {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // The rate limiter counts every request as usual, but the soak is one client sending far more than
    // a client may: limits above its rate, so a 429 is an error too. Set these to test other limits.
    RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE ?? '1000000',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: process.env.RATE_LIMIT_ANONYMOUS_PER_MINUTE ?? '1000000',
    // Likewise the slots of expensive reads (q, count=true) and exports: one client's share is one slot
    // by default, which the soak's --connections requests in flight would overrun with 429s.
    EXPENSIVE_MAX_CONCURRENT: process.env.EXPENSIVE_MAX_CONCURRENT ?? String(connections),
    EXPENSIVE_MAX_PER_CLIENT: process.env.EXPENSIVE_MAX_PER_CLIENT ?? String(connections),
    ANONYMOUS_HEAVY_MAX_CONCURRENT: process.env.ANONYMOUS_HEAVY_MAX_CONCURRENT ?? String(connections),
    EXPORT_MAX_CONCURRENT: process.env.EXPORT_MAX_CONCURRENT ?? String(connections),
    EXPORT_MAX_PER_CLIENT: process.env.EXPORT_MAX_PER_CLIENT ?? String(connections),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
/** How the service ended when it stopped by itself; null while it runs, and when the soak stopped it. */
let serviceExit: string | null = null;
let stopping = false;
service.on('exit', (code, signal) => {
  if (stopping) return;
  serviceExit = `exit code ${code}, signal ${signal}`;
  console.error(`the service stopped during the soak: ${serviceExit}`);
});
process.on('exit', () => service.kill('SIGTERM'));

// pino writes to stdout: count the lines by level, show the first few.
const logLevels = new Map<string, number>();
let logShown = 0;
createInterface({ input: service.stdout! }).on('line', (line) => {
  let level = 'other';
  try {
    const parsed = JSON.parse(line) as { level?: number };
    level =
      ({ 40: 'warn', 50: 'error', 60: 'fatal' } as Record<number, string>)[parsed.level ?? 0] ?? String(parsed.level);
  } catch {
    // not a pino line
  }
  logLevels.set(level, (logLevels.get(level) ?? 0) + 1);
  if (logShown++ < 20) console.error(`[service] ${line.slice(0, 2000)}`);
});

/** Waits up to 2 minutes for the service to be ready, failing at once if it exits. */
const waitUntilReady = () => waitUntilAnswering(`http://127.0.0.1:${port}/readyz`, 120, () => serviceExit);

// ---------------------------------------------------------------- HTTP

const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
let authorization = '';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** When the request was sent (performance.now()). */
  started: number;
}

interface SendOptions {
  headers?: Record<string, string>;
  /** A JSON body. */
  json?: unknown;
  contentType?: string;
  /** Whether to send the API key; by default always for writes and for half the reads (the others are anonymous). */
  keyed?: boolean;
}

async function send(method: string, path: string, options: SendOptions, started: number): Promise<Answer> {
  const payload = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
  const headers: Record<string, string | number> = { ...options.headers };
  if (options.keyed ?? (method !== 'GET' || random() < 0.5)) headers.authorization = authorization;
  if (payload) {
    headers['content-type'] = options.contentType ?? 'application/json';
    headers['content-length'] = payload.length;
  }
  return { ...(await httpRequest(port, agent, { method, path, headers, payload })), started };
}

// ---------------------------------------------------------------- statistics

type Kind = 'read' | 'write';
interface OpStats {
  kind: Kind;
  count: number;
  errors: number;
  latencies: number[];
}
const ops = new Map<string, OpStats>();
const errorsByStatus = new Map<string, number>();
const errorSamples: string[] = [];
let total = 0;
let lostRaces = 0;
let loadStart = 0;
let measureFrom = 0;
/** Latencies of the answered requests by --window period of the run, for the trend. */
const byWindow: number[][] = [];

function statsOf(op: string, kind: Kind): OpStats {
  let stats = ops.get(op);
  if (!stats) ops.set(op, (stats = { kind, count: 0, errors: 0, latencies: [] }));
  return stats;
}

function fail(op: string, label: string, detail: string): void {
  statsOf(op, 'read').errors += 1;
  errorsByStatus.set(label, (errorsByStatus.get(label) ?? 0) + 1);
  if (errorSamples.length < 20) {
    const line = `${((performance.now() - loadStart) / 1000).toFixed(1)} s ${op}: ${label} ${detail.slice(0, 400)}`;
    errorSamples.push(line);
    console.error(`error: ${line}`);
  }
}

/** Sends one request of operation `op` and records it; null when it got no answer (counted as an error). */
async function call(
  op: string,
  kind: Kind,
  method: string,
  path: string,
  options: SendOptions = {},
): Promise<Answer | null> {
  const started = performance.now();
  const stats = statsOf(op, kind);
  stats.count += 1;
  total += 1;
  try {
    const answer = await send(method, path, options, started);
    const latency = performance.now() - started;
    if (started >= measureFrom) stats.latencies.push(latency);
    (byWindow[Math.floor((started - loadStart) / 1000 / windowSeconds)] ??= []).push(latency);
    return answer;
  } catch (error) {
    fail(op, 'no answer', `${method} ${path}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

/** Checks the status; an unexpected one is an error. */
function expectStatus(
  op: string,
  method: string,
  path: string,
  answer: Answer | null,
  ...statuses: number[]
): answer is Answer {
  if (!answer) return false;
  if (statuses.includes(answer.status)) return true;
  fail(op, String(answer.status), `${method} ${path}: ${answer.body}`);
  return false;
}

function parse<T>(op: string, answer: Answer): T | null {
  try {
    return JSON.parse(answer.body) as T;
  } catch {
    fail(op, `${answer.status} (not JSON)`, answer.body);
    return null;
  }
}

const versionOf = (answer: Answer) => Number(/^"(\d+)"$/.exec(String(answer.headers.etag ?? ''))?.[1] ?? NaN);

// ---------------------------------------------------------------- what the soak knows about the data

/** An event's version as last seen, and when the request that saw it was sent (the version was current then or later). */
interface Known {
  version: number | null;
  seen: number;
  /** The soak's writes to this event in flight, and when the last one ended. */
  writing: number;
  lastWriteEnd: number;
}
const known = new Map<string, Known>();
const knownIds: string[] = [];
/** The events the soak created last: writes prefer them, so two writes to one event sometimes race. */
const recent: string[] = [];
const withdrawing = new Set<string>();

function entry(id: string): Known {
  let item = known.get(id);
  if (!item) {
    known.set(id, (item = { version: null, seen: 0, writing: 0, lastWriteEnd: 0 }));
    knownIds.push(id);
  }
  return item;
}

/** Versions only grow: a slower answer with an older one does not replace a newer one. */
function learn(id: string, version: number, seen: number): void {
  const item = entry(id);
  if (!Number.isFinite(version)) return;
  if (item.version === null || version > item.version || (version === item.version && seen > item.seen)) {
    item.version = version;
    item.seen = seen;
  }
}

/**
 * A 412 lost a race when another write of the soak to the same event is in flight, or ended after the
 * request that read the version we sent was sent. Any other 412 means the service moved a version
 * nobody asked it to, or the soak's bookkeeping is wrong: both are errors.
 */
function lostRace(item: Known, seen: number): boolean {
  return item.writing > 1 || item.lastWriteEnd >= seen;
}

async function writing<T>(id: string, body: (item: Known) => Promise<T>): Promise<T> {
  const item = entry(id);
  item.writing += 1;
  try {
    return await body(item);
  } finally {
    item.writing -= 1;
    item.lastWriteEnd = performance.now();
  }
}

/** The event to write to: half the time one of the 50 the soak created last, else any it has seen. */
function target(): string | undefined {
  const pool = recent.length > 0 && random() < 0.5 ? recent : knownIds;
  return pool.length > 0 ? pickOne(pool) : undefined;
}

/** Makes sure the event's version is known: GET it when it is not (a read, as a client does before a write). */
async function ensureVersion(id: string): Promise<Known | null> {
  const item = entry(id);
  if (item.version !== null) return item;
  const path = `/v1/events/${id}`;
  const answer = await call('get before a write', 'read', 'GET', path);
  if (!expectStatus('get before a write', 'GET', path, answer, 200)) return null;
  learn(id, versionOf(answer), answer.started);
  return item;
}

// ---------------------------------------------------------------- request bodies

const PLACES = [
  { admin1: 'Kursk Oblast', country: 'RUS', lat: 51.73, lon: 36.19 },
  { admin1: 'Donetsk Oblast', country: 'UKR', lat: 48.02, lon: 37.8 },
  { admin1: 'Kharkiv Oblast', country: 'UKR', lat: 49.99, lon: 36.23 },
  { admin1: 'North Darfur', country: 'SDN', lat: 13.63, lon: 25.35 },
  { admin1: 'Gaza', country: 'PSE', lat: 31.5, lon: 34.47 },
  { admin1: 'Sagaing Region', country: 'MMR', lat: 22.0, lon: 95.98 },
  { admin1: 'North Kivu', country: 'COD', lat: -1.67, lon: 29.22 },
] as const;
const REPORTERS = [
  { name: "South Korea's National Intelligence Service", kind: 'agency', country: 'KOR' },
  { name: 'General Staff of the Armed Forces of Ukraine', kind: 'military', country: 'UKR' },
  { name: 'Ministry of Defence of the Russian Federation', kind: 'agency', country: 'RUS' },
  { name: 'Soak Monitoring Group', kind: 'group' },
  { name: 'Soak Wire Service', kind: 'media' },
] as const;
const STANCES = ['asserts', 'asserts', 'asserts', 'denies', 'disputes', 'unclear'] as const;
const RELIABILITY = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
const MEASURES = ['killed', 'wounded', 'captured', 'missing'] as const;
let eventTypes: string[] = ['capture'];
let serial = 0;

const isoDate = (time: number) => new Date(time).toISOString().slice(0, 10);
function randomDate(): string {
  const from = Date.UTC(2014, 0, 1);
  return isoDate(from + random() * (Date.UTC(2025, 11, 31) - from));
}

function reportBody(): Record<string, unknown> {
  serial += 1;
  return {
    reporter: pickOne(REPORTERS),
    reporter_role: pickOne(['party', 'third_party', 'independent', 'unknown']),
    ...(random() < 0.3 ? { via: [pickOne(REPORTERS)] } : {}),
    ...(random() < 0.5
      ? { document: { url: `https://soak.example.org/${randomUUID()}`, publisher: 'Soak Wire' } }
      : {}),
    stated_at: randomDate(),
    stance: pickOne(STANCES),
    quote: `Soak quote ${serial}: an officer said the unit was attacked at dawn.`,
    reliability: pickOne(RELIABILITY),
    credibility: 1 + Math.floor(random() * 6),
    ...(random() < 0.4
      ? { figures: [{ measure: pickOne(MEASURES), value: 1 + Math.floor(random() * 300), qualifier: 'approximately' }] }
      : {}),
  };
}

function eventBody(): Record<string, unknown> {
  serial += 1;
  const place = pickOne(PLACES);
  const start = randomDate();
  return {
    type: pickOne(eventTypes),
    title: `Soak event ${serial}: fighting reported near ${place.admin1}`,
    ...(random() < 0.5 ? { description: 'Written by bench/soak.ts.' } : {}),
    occurred: { start, precision: 'day' },
    location: { ...place, precision: 'admin1' },
    participants: [{ actor: pickOne(REPORTERS), role: pickOne(['perpetrator', 'target', 'victim', 'other']) }],
    reports: Array.from({ length: random() < 0.6 ? 1 : 2 }, reportBody),
    tags: ['soak'],
  };
}

function patchBody(): Record<string, unknown> {
  serial += 1;
  return weighted<() => Record<string, unknown>>([
    [() => ({ title: `Soak event, edited ${serial}` }), 3],
    [() => ({ description: random() < 0.3 ? null : `Edited by the soak, ${serial}.` }), 2],
    [() => ({ tags: ['soak', `edit-${serial % 20}`] }), 2],
    [() => ({ location: { admin2: `District ${serial % 50}` } }), 1],
    [() => ({ status: random() < 0.5 ? 'contested' : null }), 1],
  ])();
}

// ---------------------------------------------------------------- the operations

interface Worker {
  walk: { query: string; cursor: string; pages: number } | null;
  lastCreate: { key: string; body: Record<string, unknown> } | null;
}
let listQueries: string[] = ['limit=20'];
let reportQueries: string[] = ['limit=20'];
let feedCursor = '0';
let feedBusy = false;
let feedLastSeq = 0;

interface Page {
  data: { id: string; version: number }[];
  next_cursor: string | null;
}

async function listPage(worker: Worker, query: string, cursor?: string): Promise<void> {
  const op = cursor ? 'follow a cursor' : 'list events';
  const path = `/v1/events?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  const answer = await call(op, 'read', 'GET', path);
  if (!expectStatus(op, 'GET', path, answer, 200)) return;
  const page = parse<Page>(op, answer);
  if (!page) return;
  for (const event of page.data) learn(event.id, event.version, answer.started);
  const pages = (worker.walk?.pages ?? 0) + 1;
  worker.walk = page.next_cursor && pages < 20 ? { query, cursor: page.next_cursor, pages } : null;
}

async function getEvent(): Promise<void> {
  const id = target();
  if (!id) return;
  const item = entry(id);
  const path = `/v1/events/${id}`;
  const headers: Record<string, string> = item.version === null ? {} : { 'if-none-match': `"${item.version}"` };
  const answer = await call('get an event', 'read', 'GET', path, { headers });
  if (!expectStatus('get an event', 'GET', path, answer, ...(item.version === null ? [200] : [200, 304]))) return;
  learn(id, versionOf(answer), answer.started);
}

async function readFeed(): Promise<void> {
  feedBusy = true;
  try {
    const path = `/v1/changes?since=${encodeURIComponent(feedCursor)}&limit=100`;
    const answer = await call('change feed', 'read', 'GET', path);
    if (!expectStatus('change feed', 'GET', path, answer, 200)) return;
    const page = parse<{ data: { seq: number; resource: string; id: string; version: number }[]; next_cursor: string }>(
      'change feed',
      answer,
    );
    if (!page) return;
    for (const change of page.data) {
      if (change.seq <= feedLastSeq) fail('change feed', 'feed out of order', `seq ${change.seq} after ${feedLastSeq}`);
      feedLastSeq = Math.max(feedLastSeq, change.seq);
      // A change is history: the version it names may be long gone, so it adds the event, not its version.
      if (change.resource === 'event') entry(change.id);
    }
    feedCursor = page.next_cursor;
  } finally {
    feedBusy = false;
  }
}

async function exportCsv(): Promise<void> {
  const path = `/v1/events?${pickOne(listQueries).replace(/(^|&)limit=\d+/, '')}&format=csv&limit=100`.replace(
    '?&',
    '?',
  );
  const answer = await call('CSV export (limit 100)', 'read', 'GET', path);
  if (!expectStatus('CSV export (limit 100)', 'GET', path, answer, 200)) return;
  if (!String(answer.headers['content-type']).startsWith('text/csv'))
    fail('CSV export (limit 100)', '200 (not CSV)', String(answer.headers['content-type']));
}

async function listReports(): Promise<void> {
  const id = random() < 0.5 ? target() : undefined;
  const path = id ? `/v1/events/${id}/reports` : `/v1/reports?${pickOne(reportQueries)}`;
  const answer = await call('list reports', 'read', 'GET', path);
  expectStatus('list reports', 'GET', path, answer, 200);
}

async function createEvent(worker: Worker): Promise<void> {
  // Now and then, the retry of the last create with its Idempotency-Key: the first answer again.
  const replay = worker.lastCreate && random() < 0.1 ? worker.lastCreate : null;
  const body = replay?.body ?? eventBody();
  const key = replay?.key ?? (random() < 0.5 ? randomUUID() : null);
  const op = replay ? 'create an event (idempotent replay)' : 'create an event';
  const answer = await call(op, 'write', 'POST', '/v1/events', {
    json: body,
    keyed: true,
    headers: key ? { 'idempotency-key': key } : {},
  });
  if (!expectStatus(op, 'POST', '/v1/events', answer, 201)) return;
  if (replay && answer.headers['idempotent-replayed'] !== 'true')
    fail(op, '201 (not marked as replayed)', answer.body.slice(0, 200));
  const event = parse<{ id: string; version: number }>(op, answer);
  if (!event) return;
  if (!replay) {
    learn(event.id, versionOf(answer), answer.started);
    recent.push(event.id);
    if (recent.length > 50) recent.shift();
    worker.lastCreate = key ? { key, body } : null;
  }
}

async function patchEvent(): Promise<void> {
  const id = target();
  if (!id) return;
  const item = await ensureVersion(id);
  if (!item || item.version === null) return;
  const path = `/v1/events/${id}`;
  await writing(id, async () => {
    const { version, seen } = item;
    const answer = await call('patch an event', 'write', 'PATCH', path, {
      json: patchBody(),
      contentType: 'application/merge-patch+json',
      headers: { 'if-match': `"${version}"` },
      keyed: true,
    });
    if (answer?.status === 412 && lostRace(item, seen)) lostRaces += 1;
    else if (!expectStatus('patch an event', 'PATCH', path, answer, 200)) return;
    learn(id, versionOf(answer), answer.started);
  });
}

async function addReport(): Promise<void> {
  const id = target();
  if (!id) return;
  const item = entry(id);
  const path = `/v1/events/${id}/reports`;
  await writing(id, async () => {
    const { version, seen } = item;
    // If-Match is optional here; send it when the version is known, as a careful client does.
    const answer = await call('add a report', 'write', 'POST', path, {
      json: reportBody(),
      headers: version === null ? {} : { 'if-match': `"${version}"` },
      keyed: true,
    });
    if (answer?.status === 412 && lostRace(item, seen)) {
      lostRaces += 1;
      learn(id, versionOf(answer), answer.started);
      return;
    }
    if (!expectStatus('add a report', 'POST', path, answer, 201)) return;
    // The answer is the report: the event's new version is read again before its next write.
    item.version = null;
  });
}

async function withdrawReport(): Promise<void> {
  const id = target();
  // One withdrawal per event at a time: two at once could each see two reports and leave none (a 422).
  if (!id || withdrawing.has(id)) return;
  withdrawing.add(id);
  try {
    const listPath = `/v1/events/${id}/reports?limit=100`;
    const list = await call('list reports', 'read', 'GET', listPath);
    if (!expectStatus('list reports', 'GET', listPath, list, 200)) return;
    const reports = parse<{ data: { id: string; version: number }[] }>('list reports', list)?.data ?? [];
    if (reports.length < 2) return;
    const report = pickOne(reports);
    const path = `/v1/reports/${report.id}`;
    await writing(id, async (item) => {
      // Nothing else of the soak changes a report, so even a 412 here is an error.
      const answer = await call('withdraw a report', 'write', 'DELETE', path, {
        json: { reason: 'soak: withdrawn' },
        headers: { 'if-match': `"${report.version}"` },
        keyed: true,
      });
      if (expectStatus('withdraw a report', 'DELETE', path, answer, 204)) item.version = null;
    });
  } finally {
    withdrawing.delete(id);
  }
}

const READS = [
  ['list', 30],
  ['cursor', 20],
  ['get', 25],
  ['feed', 10],
  ['csv', 5],
  ['reports', 10],
] as const;
const WRITES = [
  ['create', 25],
  ['patch', 35],
  ['report', 25],
  ['withdraw', 15],
] as const;

async function step(worker: Worker): Promise<void> {
  if (random() < writeShare) {
    const op = weighted(WRITES);
    if (op === 'create' || knownIds.length === 0) return createEvent(worker);
    if (op === 'patch') return patchEvent();
    if (op === 'report') return addReport();
    return withdrawReport();
  }
  const op = weighted(READS);
  if (op === 'list' || (op === 'cursor' && !worker.walk)) return listPage(worker, pickOne(listQueries));
  if (op === 'cursor') return listPage(worker, worker.walk!.query, worker.walk!.cursor);
  if (op === 'get' && knownIds.length > 0) return getEvent();
  if (op === 'feed' && !feedBusy) return readFeed();
  if (op === 'csv') return exportCsv();
  if (op === 'reports') return listReports();
  return listPage(worker, pickOne(listQueries));
}

// ---------------------------------------------------------------- parameters from the data

async function discoverQueries(): Promise<void> {
  const one = async <T>(sql: string): Promise<T | undefined> => (await db.pool.query(sql)).rows[0] as T | undefined;
  const counts = await one<{ events: string; reports: string }>(
    `SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM reports) AS reports`,
  );
  if (!counts || Number(counts.events) === 0)
    throw new Error('the database has no events: load it with npm run seed:synthetic first');
  eventTypes = (await db.pool.query<{ code: string }>('SELECT code FROM event_types ORDER BY code')).rows.map(
    (row) => row.code,
  );
  const month = await one<{ type: string; start: string; end: string }>(`
    SELECT type, to_char(date_trunc('month', occurred_start), 'YYYY-MM-DD') AS start,
           to_char(date_trunc('month', occurred_start) + interval '1 month - 1 day', 'YYYY-MM-DD') AS end
    FROM events GROUP BY 1, 2, 3 ORDER BY count(*) DESC LIMIT 1`);
  const country = await one<{ country: string }>(
    `SELECT country FROM events WHERE country IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`,
  );
  const reporter = await one<{ id: string }>(
    `SELECT reporter_id AS id FROM reports GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 5`,
  );
  const box = await one<{ minlon: number; minlat: number; maxlon: number; maxlat: number }>(`
    SELECT percentile_cont(0.3) WITHIN GROUP (ORDER BY lon) AS minlon, percentile_cont(0.3) WITHIN GROUP (ORDER BY lat) AS minlat,
           percentile_cont(0.7) WITHIN GROUP (ORDER BY lon) AS maxlon, percentile_cont(0.7) WITHIN GROUP (ORDER BY lat) AS maxlat
    FROM events WHERE country = (SELECT country FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) AND lat IS NOT NULL`);
  const word = await one<{ word: string }>(`
    SELECT word FROM ts_stat($$SELECT to_tsvector('english', title) FROM events$$)
    AS t(word, ndoc, nentry) WHERE length(word) > 4 ORDER BY ndoc DESC LIMIT 1 OFFSET 10`);
  const round = (n: number) => n.toFixed(2);
  const since = new Date().toISOString();
  listQueries = [
    'limit=20',
    'limit=20&sort=-updated',
    'limit=20&sort=-created',
    'limit=20&status=corroborated',
    `limit=20&updated_since=${encodeURIComponent(since)}`,
    'limit=20&tag=soak',
    ...(month ? [`limit=20&type=${month.type}&occurred_from=${month.start}&occurred_to=${month.end}`] : []),
    ...(country ? [`limit=20&country=${country.country}`] : []),
    ...(reporter
      ? [`limit=20&reporter=${reporter.id}`, `limit=20&reporter=${reporter.id}&stance=asserts&min_reliability=C`]
      : []),
    ...(box
      ? [`limit=20&bbox=${round(box.minlon)},${round(box.minlat)},${round(box.maxlon)},${round(box.maxlat)}`]
      : []),
    ...(word
      ? [
          `limit=20&q=${encodeURIComponent(word.word)}`,
          `limit=20&q=${encodeURIComponent(word.word)}&sort=relevance&count=true`,
        ]
      : []),
    'limit=20&near=51.73,36.19&radius_km=300',
  ];
  reportQueries = [
    'limit=20',
    'limit=20&stance=denies',
    'limit=20&stated_from=2024-01-01',
    ...(reporter ? [`limit=20&reporter=${reporter.id}`] : []),
  ];
}

// ---------------------------------------------------------------- main

const startedAt = new Date();
await waitUntilReady();
const keyName = `soak-${startedAt
  .toISOString()
  .replace(/[^0-9]/g, '')
  .slice(0, 14)}`;
const { key } = (await createKey(db.prisma, keyName, 'editor', 'bench-soak'))!;
authorization = `Bearer ${key}`;
await discoverQueries();
const counts = (
  await db.pool.query<{ events: string; reports: string }>(
    `SELECT (SELECT count(*) FROM events WHERE deleted_at IS NULL) AS events, (SELECT count(*) FROM reports WHERE deleted_at IS NULL) AS reports`,
  )
).rows[0]!;
const pid = service.pid!;
console.error(
  `soak: ${duration} s at ${connections} connections, write share ${writeShare}, on ${Number(counts.events).toLocaleString('en')} events`,
);

loadStart = performance.now();
measureFrom = loadStart + warmup * 1000;
const samples: { t: number; rss: number }[] = [];
const loads: { t: number; load: number }[] = [];
const cpuAtStart = cpuSeconds(pid);
const sampleMemory = () => {
  if (!serviceExit) samples.push({ t: (performance.now() - loadStart) / 1000, rss: memory(pid).rss });
  loads.push({ t: (performance.now() - loadStart) / 1000, load: os.loadavg()[0]! });
};
sampleMemory();
const sampler = setInterval(sampleMemory, 1000);
// The V8 heap in use, from the service's /metrics (prom-client) where it has one, every 5 s: RSS that
// grows while the heap stays flat is the allocator keeping pages, a heap that grows is a leak in JS.
const heap: { t: number; used: number }[] = [];
const heapSampler = setInterval(() => {
  const t = (performance.now() - loadStart) / 1000;
  fetch(`http://127.0.0.1:${port}/metrics`)
    .then(async (response) => {
      const used = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(await response.text())?.[1]);
      if (response.ok && Number.isFinite(used)) heap.push({ t, used: used / 1024 / 1024 });
    })
    .catch(() => {});
}, 5000);
const progress = setInterval(() => {
  const errors = [...errorsByStatus.values()].reduce((a, b) => a + b, 0);
  const rss = samples[samples.length - 1]?.rss ?? 0;
  console.error(
    `${((performance.now() - loadStart) / 1000).toFixed(0)} s: ${total} requests, ${errors} errors, ${lostRaces} lost races, RSS ${rss.toFixed(0)} MB`,
  );
}, 30_000);

/** Major garbage collections of the service so far (prom-client's nodejs_gc_duration_seconds); NaN when /metrics does not answer. */
async function majorGcs(): Promise<number> {
  try {
    const text = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })
    ).text();
    return Number(/^nodejs_gc_duration_seconds_count\{kind="major"\} (\d+)/m.exec(text)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** The load's active periods (one without --idle-gap): requests sent and major GCs in each, from --warmup on in the first. */
const periods: { from: number; to: number; requests: number; majors: number }[] = [];
const workers: Worker[] = Array.from({ length: connections }, () => ({ walk: null, lastCreate: null }));
for (let from = 0; from < duration && !serviceExit; from += idleGap > 0 ? idleEvery + idleGap : duration) {
  const to = idleGap > 0 ? Math.min(duration, from + idleEvery) : duration;
  const periodEnd = loadStart + to * 1000;
  // The first period is counted from the end of the warm-up.
  const countFrom = loadStart + (from === 0 ? warmup : from) * 1000;
  const runUntil = (end: number) =>
    Promise.all(
      workers.map(async (worker) => {
        while (performance.now() < end && !serviceExit) await step(worker);
      }),
    );
  // The warm-up is load, not counted.
  await runUntil(countFrom);
  const requestsAtStart = total;
  const majorsAtStart = await majorGcs();
  await runUntil(periodEnd);
  periods.push({
    from: from === 0 ? warmup : from,
    to,
    requests: total - requestsAtStart,
    majors: (await majorGcs()) - majorsAtStart,
  });
  const resume = loadStart + (to + idleGap) * 1000;
  if (idleGap > 0 && to < duration) {
    console.error(`${to} s: idle for ${idleGap} s`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, resume - performance.now())));
  }
}
const elapsed = (performance.now() - loadStart) / 1000;
clearInterval(sampler);
clearInterval(heapSampler);
clearInterval(progress);
const peak = serviceExit ? 0 : memory(pid).peak;
const serviceCpu = serviceExit ? NaN : cpuSeconds(pid) - cpuAtStart;
agent.destroy();

stopping = true;
// How the service closes on SIGTERM after the soak: reported, not judged.
const stopAsked = performance.now();
const exited = new Promise<string>((resolve) => {
  if (service.exitCode !== null || service.signalCode !== null) resolve('had stopped already');
  else
    service.once('exit', (code, signal) =>
      resolve(`exit code ${code ?? signal}, ${fmt((performance.now() - stopAsked) / 1000, 1)} s after SIGTERM`),
    );
});
service.kill('SIGTERM');
const shutdown = await Promise.race([
  exited,
  new Promise<string>((resolve) => setTimeout(() => resolve('still running 15 s after SIGTERM'), 15_000)),
]);
await revokeKey(db.prisma, keyName, 'bench-soak');
const after = (
  await db.pool.query<{ events: string; reports: string; revisions: string }>(
    `SELECT (SELECT count(*) FROM events WHERE deleted_at IS NULL) AS events, (SELECT count(*) FROM reports WHERE deleted_at IS NULL) AS reports,
            (SELECT count(*) FROM revisions WHERE author = $1) AS revisions`,
    [keyName],
  )
).rows[0]!;
await db.close();

// ---------------------------------------------------------------- report

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const sortedOf = (lists: number[][]) => lists.flat().sort((a, b) => a - b);
const ms = (sorted: number[]) => `${fmt(percentile(sorted, 50), 1)} / ${fmt(percentile(sorted, 99), 1)}`;
const mean = (numbers: number[]) => numbers.reduce((a, b) => a + b, 0) / numbers.length;
const during = (from: number, to: number) => samples.filter((s) => s.t >= from && s.t < to).map((s) => s.rss);
const startRss = mean(during(warmup, warmup + windowSeconds));
const endRss = mean(during(duration - windowSeconds, duration));
const growth = ((endRss - startRss) / startRss) * 100;
const heapDuring = (from: number, to: number) => heap.filter((s) => s.t >= from && s.t < to).map((s) => s.used);
const startHeap = mean(heapDuring(warmup, warmup + windowSeconds));
const endHeap = mean(heapDuring(duration - windowSeconds, duration));
const errors = [...errorsByStatus.values()].reduce((a, b) => a + b, 0);
const kindRows = (['read', 'write'] as const).map((kind) => {
  const of = [...ops.values()].filter((s) => s.kind === kind);
  return { kind, count: of.reduce((a, s) => a + s.count, 0), sorted: sortedOf(of.map((s) => s.latencies)) };
});
const all = sortedOf([...ops.values()].map((s) => s.latencies));
const trend: string[] = [];
for (let t = 0; t < duration; t += windowSeconds) {
  const latencies = sortedOf([byWindow[t / windowSeconds] ?? []]);
  const load = loads.filter((s) => s.t >= t && s.t < t + windowSeconds).map((s) => s.load);
  trend.push(
    `| ${t}-${t + windowSeconds} | ${fmt(latencies.length / windowSeconds)} | ${fmt(percentile(latencies, 99))} | ${fmt(mean(during(t, t + windowSeconds)))} | ${fmt(mean(heapDuring(t, t + windowSeconds)))} | ${fmt(mean(load), 1)} |`,
  );
}
const periodRows = periods.map((period) => {
  const seconds = period.to - period.from;
  return { ...period, rps: period.requests / seconds, gcRate: (period.majors / Math.max(1, period.requests)) * 1000 };
});
const first = periodRows[0];
const last = periodRows.at(-1);
// Worse by more than --max-drift: fewer req/s, or more major GCs per request (by at least 1 per 1,000 requests, so a
// rate of nearly none that doubles is not a failure).
const rpsDrift = first && last ? ((first.rps - last.rps) / first.rps) * 100 : 0;
// From none at the start, any rate at the end is infinitely worse (the 1-per-1,000 floor below still applies).
const gcDrift =
  first && last
    ? first.gcRate > 0
      ? ((last.gcRate - first.gcRate) / first.gcRate) * 100
      : last.gcRate > 0
        ? Infinity
        : 0
    : 0;
const drifted =
  periodRows.length > 1 && (rpsDrift > maxDrift || (gcDrift > maxDrift && last!.gcRate - first!.gcRate >= 1));
const passed = errors === 0 && !serviceExit && growth < maxGrowth && !drifted;
const logs = [...logLevels.entries()].map(([level, n]) => `${n} ${level}`).join(', ') || 'none';

const lines = [
  `Soak run on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}) shared by the`,
  `service, PostgreSQL and the load generator; Node ${process.version}; ${Number(counts.events).toLocaleString('en')} live events and ${Number(counts.reports).toLocaleString('en')} live reports at the start.`,
  '',
  '```sh',
  `node --import tsx bench/soak.ts --database-url <url> --duration ${duration} --connections ${connections} --write-share ${writeShare}` +
    (idleGap > 0 ? ` --idle-every ${idleEvery} --idle-gap ${idleGap}` : '') +
    (serviceNodeOptions.length > 0 ? ` --service-node-options='${serviceNodeOptions.join(' ')}'` : ''),
  '```',
  '',
  `${duration} s (${fmt(elapsed, 1)} s with the requests in flight at the end), ${connections} requests in flight at all times, ${fmt(writeShare * 100)}% writes.`,
  `Latencies are of the requests sent after the ${warmup} s warm-up; counts and errors cover the whole run.`,
  '',
  '| | |',
  '|---|---:|',
  `| requests | ${total.toLocaleString('en')} (${fmt(total / elapsed)} req/s) |`,
  `| errors | ${errors}${errors > 0 ? ` (${[...errorsByStatus.entries()].map(([status, n]) => `${status}: ${n}`).join(', ')})` : ''} |`,
  `| 412 from lost races (expected, not errors) | ${lostRaces} |`,
  `| p50 / p99 ms, all | ${ms(all)} |`,
  ...kindRows.map(
    ({ kind, count, sorted }) => `| p50 / p99 ms, ${kind}s (${count.toLocaleString('en')}) | ${ms(sorted)} |`,
  ),
  `| RSS, mean of ${warmup}-${warmup + windowSeconds} s | ${fmt(startRss, 1)} MB |`,
  `| RSS, mean of ${duration - windowSeconds}-${duration} s | ${fmt(endRss, 1)} MB |`,
  `| RSS growth | ${fmt(growth, 1)}% |`,
  `| RSS peak (VmHWM) | ${fmt(peak)} MB |`,
  `| V8 heap used (/metrics), mean of the same windows | ${fmt(startHeap, 1)} MB, ${fmt(endHeap, 1)} MB (${fmt(((endHeap - startHeap) / startHeap) * 100, 1)}%) |`,
  `| service CPU | ${fmt((serviceCpu / elapsed) * 100)}% of one core |`,
  `| machine load average (1 min), mean / max of the per-second samples | ${fmt(mean(loads.map((s) => s.load)), 1)} / ${fmt(Math.max(...loads.map((s) => s.load)), 1)} |`,
  `| service log lines at warn and above | ${logs} |`,
  `| service | ${serviceExit ? `stopped during the run: ${String(serviceExit)}` : `up to the end; on SIGTERM, ${shutdown}`} |`,
  '',
  '| operation | kind | requests | errors | p50 / p99 ms |',
  '|---|---|---:|---:|---:|',
  ...[...ops.entries()]
    .sort(([, a], [, b]) => (a.kind === b.kind ? b.count - a.count : a.kind.localeCompare(b.kind)))
    .map(
      ([op, s]) =>
        `| ${op} | ${s.kind} | ${s.count.toLocaleString('en')} | ${s.errors} | ${ms(sortedOf([s.latencies]))} |`,
    ),
  '',
  `By ${windowSeconds} s period (requests by when they were sent; load is the machine's 1-minute load average):`,
  '',
  '| seconds | req/s | p99 ms | RSS MB | V8 heap used MB | load |',
  '|---|---:|---:|---:|---:|---:|',
  ...trend,
  '',
  `After the run: ${Number(after.events).toLocaleString('en')} live events, ${Number(after.reports).toLocaleString('en')} live reports; ${Number(after.revisions).toLocaleString('en')} revisions by the soak's key.`,
  '',
  `Load periods${idleGap > 0 ? ` (${idleEvery} s of load, then ${idleGap} s idle)` : ''}, the first counted from the end of the warm-up:`,
  '',
  '| seconds | requests | req/s | major GCs | major GCs / 1,000 requests |',
  '|---|---:|---:|---:|---:|',
  ...periodRows.map(
    (p) =>
      `| ${p.from}-${p.to} | ${p.requests.toLocaleString('en')} | ${fmt(p.rps)} | ${p.majors} | ${fmt(p.gcRate, 2)} |`,
  ),
  '',
  `Last period against the first: req/s ${fmt(-rpsDrift, 1)}%, major GCs per request ${fmt(gcDrift, 1)}%.`,
  '',
  `Verdict: ${passed ? 'passed' : 'FAILED'} (zero errors, RSS growth under ${maxGrowth}%, and the last load period's req/s and major-GC rate within ${maxDrift}% of the first's).`,
  ...(errorSamples.length > 0 ? ['', 'First errors:', '', ...errorSamples.map((line) => `- ${line}`)] : []),
];
console.log(lines.join('\n'));
process.exitCode = passed ? 0 : 1;

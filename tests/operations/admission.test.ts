// Admission control and bounded queries (issue 15): expensive reads in slots per instance and per
// client, a statement timeout answered as its own problem, slow export readers dropped, a client
// going away not taken for the database going away. Expensive reads are held in flight by a lock
// another session takes on event_stats (every stats query reads it; the single GET, an actor's
// POST and /readyz do not), so nothing here depends on how fast the machine is.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/db/uuid.js';
import { actorBody, deriveAfterRawWrites, eventBody, expectProblem, postEvent } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** Polls until `check` passes, a bounded number of times. */
async function eventually(check: () => Promise<boolean> | boolean, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** A session holding an ACCESS EXCLUSIVE lock on event_stats until release(): stats queries wait on it. */
async function lockStats(databaseUrl: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE event_stats IN ACCESS EXCLUSIVE MODE');
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** Backends of the test database waiting for a lock: the stats queries in flight. */
async function waitingOnLock(t: TestApp): Promise<number> {
  const { rows } = await t.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]?.n ?? 0;
}

/** `n` copies of a template event with a description `repeat` times long, written in bulk, tagged `tag`: exports of some size, quickly. */
async function bulkEvents(t: TestApp, n: number, tag: string, repeat = 1): Promise<void> {
  const template = await postEvent(
    t.http,
    `the ${tag} template`,
    eventBody({ description: 'A long description. '.repeat(20) }),
  );
  const ids = Array.from({ length: n }, () => uuidv7());
  await t.db.pool.query(
    `INSERT INTO events (id, type, title, description, status, occurred_start, occurred_end, occurred_precision,
                         location_name, admin1, admin2, country, lat, lon, location_precision, tags)
     SELECT x.id, e.type, e.title || ' ' || x.n, repeat(e.description, $4), e.status, e.occurred_start, e.occurred_end,
            e.occurred_precision, e.location_name, e.admin1, e.admin2, e.country, e.lat, e.lon, e.location_precision, ARRAY[$3]
     FROM events e, unnest($2::uuid[]) WITH ORDINALITY AS x(id, n) WHERE e.id = $1`,
    [template, ids, tag, repeat],
  );
  await t.db.pool.query(
    `INSERT INTO reports (id, event_id, reporter_id, reporter_role, stance, reliability, credibility)
     SELECT gen_random_uuid(), x.id, r.reporter_id, r.reporter_role, r.stance, r.reliability, r.credibility
     FROM (SELECT * FROM reports WHERE event_id = $1 LIMIT 1) r, unnest($2::uuid[]) AS x(id)`,
    [template, ids],
  );
  await deriveAfterRawWrites(t.db.pool, ids);
}

const STATS = '/v1/stats/events?group_by=period,type,country';

/**
 * A whole CSV export (of the events tagged bulk) over a raw socket that stops reading after its first
 * bytes, as a client at a trickle would; `headers` are sent with it.
 */
async function stalledExport(t: TestApp, headers: Record<string, string>): Promise<net.Socket> {
  const { port } = t.app.server.address() as AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`GET /v1/events?format=csv&tag=bulk HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`);
  await new Promise<void>((resolve, reject) => {
    socket.once('data', (chunk: Buffer) => {
      expect(chunk.toString('latin1')).toMatch(/^HTTP\/1\.1 200/);
      socket.pause();
      resolve();
    });
    socket.once('error', reject);
  });
  return socket;
}

describe('expensive reads beyond their slots', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Two expensive reads at once, one per client; queries may wait a minute (the lock holds them, not a timeout).
    t = await startTestApp({ database: { maxExpensive: 2, expensivePerClient: 1, timeouts: { expensive: 60_000 } } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('leave the single reads, the writes and /readyz their connections', async () => {
    const id = await postEvent(t.http, 'the event to read', eventBody());
    const lock = await lockStats(t.databaseUrl);
    try {
      // More stats requests than the pool has connections, all anonymous (one address).
      const stats = Array.from({ length: 8 }, () => t.anonymous.get(STATS).timeout(30_000));
      const started = Promise.all(stats.map((request) => request.then((response) => response)));
      await eventually(async () => (await waitingOnLock(t)) >= 1, 'a stats query waits on the lock');
      // Meanwhile the cheap work goes on: it got 503 while the stats held every connection.
      await t.anonymous.get(`/v1/events/${id}`).timeout(10_000).expect(200);
      await t.http.post('/v1/actors').timeout(10_000).send(actorBody()).expect(201);
      await t.anonymous.get('/readyz').timeout(10_000).expect(200);
      await t.anonymous.get('/v1/events?limit=5').timeout(10_000).expect(200);
      await lock.release();
      const answers = await started;
      const statuses = answers.map((response) => response.status);
      // Those in a slot answer once the lock goes; the rest were refused at once, with Retry-After.
      expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(1);
      for (const response of answers.filter((r) => r.status !== 200)) {
        expect(response.status).toBe(429);
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    } finally {
      await lock.release();
    }
    await eventually(() => t.db.expensive.inUse === 0, 'every slot is free');
  });

  it('a client beyond its share gets 429, another client still a slot, and beyond the instance 503', async () => {
    await postEvent(t.http, 'an event to search', eventBody());
    const lock = await lockStats(t.databaseUrl);
    try {
      const first = t.as.editor
        .get(STATS)
        .timeout(30_000)
        .then((response) => response);
      await eventually(() => t.db.expensive.inUse === 1, "the editor's stats hold a slot");
      // The same key again: beyond its share of one.
      const mine = await t.as.editor.get('/v1/stats/claims?measure=killed').timeout(10_000);
      const problem = await expectProblem(Promise.resolve(mine), 429);
      expect(problem.type).toBe('/problems/rate-limited');
      expect(Number(mine.headers['retry-after'])).toBeGreaterThan(0);
      // Another client gets the second slot.
      const other = t.as.reader
        .get(STATS)
        .timeout(30_000)
        .then((response) => response);
      await eventually(() => t.db.expensive.inUse === 2, "the reader's stats hold the other slot");
      expect((await t.anonymous.get('/metrics').expect(200)).text).toMatch(/^expensive_reads_running 2$/m);
      // A third client finds the instance full, for stats and for the other expensive reads: full text, counts, paged exports with q.
      for (const path of [
        STATS,
        '/v1/events?q=soldier',
        '/v1/events?count=true',
        '/v1/events?format=csv&q=soldier&limit=5',
      ]) {
        const full = await t.as.admin.get(path).timeout(10_000);
        expect((await expectProblem(Promise.resolve(full), 503)).type).toBe('/problems/service-unavailable');
        expect(Number(full.headers['retry-after'])).toBeGreaterThan(0);
      }
      // Cheap reads are not expensive ones: a page, and a page export, without q or count.
      await t.as.admin.get('/v1/events?limit=2').expect(200);
      await t.as.admin.get('/v1/events?format=csv&limit=2').expect(200);
      await lock.release();
      expect((await first).status).toBe(200);
      expect((await other).status).toBe(200);
    } finally {
      await lock.release();
    }
    await eventually(() => t.db.expensive.inUse === 0, 'every slot is free');
    await t.as.editor.get(STATS).expect(200);
    const searched = await t.as.admin.get('/v1/events?q=soldier&count=true').expect(200);
    expect(searched.body.total).toBe(searched.body.data.length);
    expect(searched.body.total).toBeGreaterThan(0);
  });
});

describe('a stats request its query string dooms', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ database: { timeouts: { expensive: 60_000 } } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is refused with 400 before any query runs: it answers while the stats tables are locked', async () => {
    const lock = await lockStats(t.databaseUrl);
    try {
      // A day per row from 1900: more than 10,000 rows whatever the data. It used to run the stats query first.
      const problem = await expectProblem(
        t.anonymous
          .get(
            '/v1/stats/events?occurred_from=1900-01-01&occurred_to=2024-01-01&group_by=period&interval=day&fill=true',
          )
          .timeout(10_000),
        400,
      );
      expect(problem.errors).toEqual([
        expect.objectContaining({ path: '/fill', in: 'query', message: expect.stringMatching(/more than 10000 rows/) }),
      ]);
      expect(await waitingOnLock(t)).toBe(0);
      // Just within the limit, the same shape runs (and waits on the lock like any stats query).
      const within = t.anonymous
        .get('/v1/stats/events?occurred_from=2000-01-01&occurred_to=2024-01-01&group_by=period&interval=day&fill=true')
        .timeout(30_000)
        .then((r) => r);
      await eventually(async () => (await waitingOnLock(t)) === 1, 'the query within the limit runs');
      await lock.release();
      const answered = await within;
      expect(answered.status).toBe(200);
      expect(answered.body.data.length).toBeGreaterThan(8000);
    } finally {
      await lock.release();
    }
  });
});

describe('a statement that runs past its timeout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ database: { timeouts: { expensive: 300 } } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 503 query-timeout with what to do, not a 500 or "database unavailable", and frees its slot', async () => {
    const lock = await lockStats(t.databaseUrl);
    try {
      const response = await t.anonymous.get(STATS).timeout(10_000);
      const problem = await expectProblem(Promise.resolve(response), 503);
      expect(problem.type).toBe('/problems/query-timeout');
      expect(problem.detail).toMatch(/narrow the filters/i);
      expect(problem.detail).not.toMatch(/database is unavailable|SELECT|event_stats/i);
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await lock.release();
    }
    expect(t.db.expensive.inUse).toBe(0);
    await t.anonymous.get(STATS).expect(200);
  });
});

describe('slow export readers', () => {
  let t: TestApp;
  /** Enough bulk events that an export cannot fit in the sockets' buffers (about 25 MB of CSV). */
  const BULK = 3000;

  beforeAll(async () => {
    t = await startTestApp({
      database: { maxExports: 2, exportsPerClient: 1 },
      // A client must take 256 KB/s over half a second while its socket is full.
      deps: { exportClients: { minBytesPerSecond: 256 * 1024, windowMs: 500 } },
    });
    await bulkEvents(t, BULK, 'bulk', 20);
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  const exportStalled = (key?: string) => stalledExport(t, key ? { authorization: `Bearer ${key}` } : {});

  it('one client holds only its share of the export slots: 429 beyond it, while another client still exports', async () => {
    const held = await exportStalled();
    try {
      expect(t.db.exports.inUse).toBe(1);
      const refused = await t.anonymous.get('/v1/events?format=csv&tag=bulk').timeout(10_000);
      expect((await expectProblem(Promise.resolve(refused), 429)).type).toBe('/problems/rate-limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      const exported = await t.as.reader.get('/v1/events?format=ndjson&tag=bulk').timeout(60_000).expect(200);
      expect(exported.text.split('\n').filter(Boolean)).toHaveLength(BULK);
    } finally {
      held.destroy();
    }
    await eventually(() => t.db.exports.inUse === 0, 'the slot is free');
  });

  it('a client that stops reading is dropped: its slot and connection come back', async () => {
    const stalled = [await exportStalled(), await exportStalled(t.keys.reader)];
    try {
      // Both slots taken by readers that do not read...
      expect(t.db.exports.inUse).toBe(2);
      // ...until the guard drops them, which frees the slots and the export pool's connections.
      await eventually(() => t.db.exports.inUse === 0, 'the slow readers are dropped');
      await eventually(
        () => t.db.exports.pool.totalCount === t.db.exports.pool.idleCount,
        'their connections are free',
      );
      expect((await t.anonymous.get('/metrics').expect(200)).text).toMatch(/^exports_streaming 0$/m);
      const exported = await t.anonymous.get('/v1/events?format=ndjson&tag=bulk').timeout(60_000).expect(200);
      expect(exported.text.split('\n').filter(Boolean)).toHaveLength(BULK);
    } finally {
      for (const socket of stalled) socket.destroy();
    }
  });
});

describe('callers without a key', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Three slots of each kind, but callers without a key run two expensive reads or exports at once, both kinds together.
    // X-Forwarded-For is believed, so each anonymous request below comes from an address of its own.
    t = await startTestApp({
      trustProxy: true,
      database: {
        maxExports: 3,
        exportsPerClient: 1,
        maxExpensive: 3,
        expensivePerClient: 1,
        maxAnonymousHeavy: 2,
        timeouts: { expensive: 60_000 },
      },
      deps: { exportClients: { minBytesPerSecond: 0, windowMs: 10_000 } },
    });
    // About 25 MB of CSV: more than the sockets' buffers hold.
    await bulkEvents(t, 3000, 'bulk', 20);
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  const exportStalled = (from: string) => stalledExport(t, { 'x-forwarded-for': from });

  it('run only their budget of expensive reads and exports together: 503 beyond it, while callers with a key are still served', async () => {
    const lock = await lockStats(t.databaseUrl);
    const held: net.Socket[] = [];
    try {
      // One anonymous stats query (held by the lock) and one anonymous export (a reader that does not read): the budget of two.
      const stats = t.anonymous
        .get(STATS)
        .set('x-forwarded-for', '192.0.2.1')
        .timeout(30_000)
        .then((r) => r);
      await eventually(() => t.db.expensive.inUse === 1, 'the anonymous stats hold a slot');
      held.push(await exportStalled('192.0.2.2'));
      expect(t.db.exports.inUse).toBe(1);
      const metrics = (await t.anonymous.get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/^anonymous_heavy_running 2$/m);
      expect(metrics).toMatch(/^anonymous_heavy_max 2$/m);
      // A third anonymous caller, from an address of its own and with slots of both kinds free, is refused at once.
      for (const path of ['/v1/events?format=csv&tag=bulk', STATS, '/v1/events?q=soldier']) {
        const refused = await t.anonymous.get(path).set('x-forwarded-for', '192.0.2.3').timeout(10_000);
        const problem = await expectProblem(Promise.resolve(refused), 503);
        expect(problem.type).toBe('/problems/service-unavailable');
        expect(problem.detail).toMatch(/without an API key.*\(2\).*API key/);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      }
      // Callers with a key take the slots left: an export streamed whole, and an expensive read.
      const exported = await t.as.reader.get('/v1/events?format=ndjson&tag=bulk').timeout(60_000).expect(200);
      expect(exported.text.split('\n').filter(Boolean)).toHaveLength(3000);
      await t.as.reader.get('/v1/events?q=soldier&count=true').timeout(10_000).expect(200);
      await lock.release();
      expect((await stats).status).toBe(200);
      held.pop()?.destroy();
      // Once the budget is free again, the third caller is served.
      await eventually(() => t.db.exports.inUse === 0 && t.db.expensive.inUse === 0, 'every slot is free');
      const served = await t.anonymous
        .get('/v1/events?format=ndjson&tag=bulk')
        .set('x-forwarded-for', '192.0.2.3')
        .timeout(60_000)
        .expect(200);
      expect(served.text).toBe(exported.text);
    } finally {
      await lock.release();
      for (const socket of held) socket.destroy();
    }
  });
});

describe('exports to callers without a key, at a capped rate', () => {
  let t: TestApp;
  const RATE = 128 * 1024;
  beforeAll(async () => {
    t = await startTestApp({
      deps: { exportClients: { minBytesPerSecond: 16 * 1024, windowMs: 10_000, anonymousBytesPerSecond: RATE } },
    });
    await bulkEvents(t, 800, 'capped');
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  it('stream at that rate, byte for byte what a caller with a key gets at full speed', async () => {
    let started = performance.now();
    const keyed = await t.as.reader.get('/v1/events?format=csv&tag=capped').timeout(60_000).expect(200);
    const keyedMs = performance.now() - started;
    const bytes = Buffer.byteLength(keyed.text);
    // Several seconds' worth at the cap, so the cap shows.
    expect(bytes).toBeGreaterThan(3 * RATE);
    expect(keyed.text.split('\n').filter(Boolean)).toHaveLength(801);
    started = performance.now();
    const capped = await t.anonymous.get('/v1/events?format=csv&tag=capped').timeout(60_000).expect(200);
    const cappedMs = performance.now() - started;
    expect(capped.text).toBe(keyed.text);
    // The bucket starts with a second's worth; the rest comes at the rate.
    expect(cappedMs).toBeGreaterThanOrEqual(((bytes - RATE) / RATE) * 1000 - 100);
    expect(cappedMs).toBeGreaterThan(keyedMs);
    // The slot is given back at the end, as for any export.
    await eventually(() => t.db.exports.inUse === 0, 'the slot is free');
  });
});

describe('a client that goes away mid-request', () => {
  let t: TestApp;
  const lines: { msg?: string; level?: number; err?: unknown }[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    t = await startTestApp({ deps: { logger: pino({ level: 'info' }, sink) } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is logged as a client that left, not as the database being unavailable', async () => {
    const { port } = t.app.server.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    // A POST that announces a body it never finishes sending, then the client hangs up.
    socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t.keys.editor}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"type": "capture", "title": "cut`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await eventually(() => lines.some((line) => line.err !== undefined), 'the cut request is logged');
    const messages = lines.filter((line) => line.err !== undefined).map((line) => line.msg);
    expect(messages).not.toContain('database unavailable');
    expect(messages).not.toContain('unhandled error');
    expect(messages).toContain('client closed the connection before the answer');
    // The service is none the worse.
    await t.anonymous.get('/readyz').expect(200);
  });
});

describe('under pressure', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Any heap is over a one-byte limit: the process is under pressure from its first sample on.
    t = await startTestApp({ deps: { pressure: { maxEventLoopDelayMs: 0, maxHeapBytes: 1, maxRssBytes: 0 } } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('the API answers 503 with Retry-After, while /healthz, /readyz and /metrics still answer', async () => {
    await eventually(async () => (await t.anonymous.get('/v1/events')).status === 503, 'the first sample');
    const refused = await t.anonymous.get('/v1/events');
    expect((await expectProblem(Promise.resolve(refused), 503)).type).toBe('/problems/service-unavailable');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await expectProblem(t.http.post('/v1/actors').send(actorBody()), 503);
    await t.anonymous.get('/healthz').expect(200);
    await t.anonymous.get('/readyz').expect(200);
    await t.anonymous.get('/metrics').expect(200);
  });
});

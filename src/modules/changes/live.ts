// The live change stream (GET /v1/changes/stream): the feed of GET /v1/changes pushed as
// Server-Sent Events, to every instance's subscribers, whichever instance committed the change.
//
// One LISTEN connection per instance: a trigger on revisions sends NOTIFY changes with the
// highest seq a statement wrote (migration changes_notify), PostgreSQL delivers it at COMMIT,
// and the instance reads the new revisions from the table once (`id > last`, so none is
// missed: ids grow in commit order, record.ts) and offers them to its subscribers.
//
// Each subscriber has a cursor (the seq of the last change it was sent) and sends in one loop:
// while "behind" it reads pages from the table after its cursor (a new subscriber replays what
// it asked for this way); what the listener offers meanwhile waits in its queue; once a page
// comes back short it sends the queue, dropping what it sent already, and is live. A queue that
// grows too long (a slow client, a bulk import) is dropped and the subscriber reads the table
// again: memory stays bounded and nothing is skipped, because everything the listener offered
// was committed before that next read began.
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/client.js';
import type { Resource } from './record.js';
import { latestSeq, readChanges, type ChangeRow } from './repository.js';

/** The NOTIFY channel the trigger on revisions sends to. */
export const CHANGES_CHANNEL = 'changes';

/** Rows read from the table at once, by the listener and by a subscriber catching up. */
const PAGE = 500;
/** Changes a live subscriber may have waiting before it goes back to reading the table. */
const MAX_QUEUE = 2_000;
/** Reconnection delays of the listener: doubling from the first to the last. */
const RECONNECT_MS = { first: 250, last: 30_000 };

export interface StreamSettings {
  /** Streams one instance serves at once (CHANGE_STREAM_MAX_SUBSCRIBERS). */
  maxSubscribers: number;
  /** Streams one client (API key, or address without one) holds at once (CHANGE_STREAM_MAX_PER_CLIENT). */
  perClient: number;
  /** A comment line is sent after this long without one (CHANGE_STREAM_HEARTBEAT_MS). */
  heartbeatMs: number;
  /** The `retry:` a client waits before reconnecting (CHANGE_STREAM_RETRY_MS). */
  retryMs: number;
}

export const DEFAULT_STREAM_SETTINGS: StreamSettings = {
  maxSubscribers: 1_000,
  perClient: 20,
  heartbeatMs: 15_000,
  retryMs: 3_000,
};

/** One SSE event: the seq as its id, the resource as its name, the feed's item as its data. */
function sseEvent(row: ChangeRow): string {
  return `id: ${row.seq}\nevent: ${row.resource}\ndata: ${row.json}\n\n`;
}

/**
 * The instance's listener: one connection LISTENing on CHANGES_CHANNEL (started by the first
 * stream, reconnected with backoff), the subscribers, and the reads that feed them.
 */
export class ChangeListener {
  private readonly subscribers = new Set<Subscriber>();
  private client: pg.Client | null = null;
  private started: Promise<void> | null = null;
  private closed = false;
  /** The seq of the last change read and offered; known once the listener has started. */
  private last = 0n;
  /** The highest seq notified. */
  private target = 0n;
  private reading = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly settings: Pick<StreamSettings, 'heartbeatMs' | 'retryMs'>,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Resolves once the instance LISTENs and knows where the feed stands: a subscriber must start
   * its replay only then, or a change committed between its replay and the LISTEN would be lost.
   */
  start(): Promise<void> {
    this.started ??= this.connect().catch((error: unknown) => {
      this.started = null;
      throw error;
    });
    return this.started;
  }

  private async connect(): Promise<void> {
    const client = this.db.openListener();
    client.on('notification', (message) => {
      if (message.channel === CHANGES_CHANNEL && message.payload && /^\d+$/.test(message.payload))
        this.notified(BigInt(message.payload));
    });
    client.on('error', (err) => this.log.warn({ err }, 'change stream: the LISTEN connection failed'));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.failures = 0;
    // The first time, the feed starts from where it stands now; after a reconnect, whatever was
    // committed while the connection was down is read from the table (from `last`).
    const latest = BigInt(await latestSeq(this.db.pool));
    if (this.last === 0n) this.last = latest;
    this.notified(latest);
  }

  /** The LISTEN connection ended: connect again, waiting longer after each failure. */
  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = Math.min(RECONNECT_MS.last, RECONNECT_MS.first * 2 ** this.failures);
    this.failures += 1;
    this.retryTimer = setTimeout(() => {
      this.connect().catch((err: unknown) => {
        this.log.warn({ err, retryInMs: delay }, 'change stream: reconnecting the LISTEN connection failed');
        this.scheduleReconnect();
      });
    }, delay);
    this.retryTimer.unref();
  }

  /** A NOTIFY said changes up to `seq` are committed: read them, unless a read is on its way. */
  private notified(seq: bigint): void {
    if (seq > this.target) this.target = seq;
    if (this.target > this.last) void this.readNew();
  }

  private async readNew(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      let misses = 0;
      while (!this.closed && this.target > this.last) {
        const rows = await readChanges(this.db.pool, this.last.toString(), PAGE);
        for (const row of rows) {
          this.last = BigInt(row.seq);
          for (const subscriber of this.subscribers) subscriber.offer(row);
        }
        if (rows.length > 0) continue;
        // A notified change is committed, so it should be visible; look again briefly, then let it go
        // (a NOTIFY sent by hand, or a feed that was emptied, must not keep the listener looping).
        if (++misses >= 20) this.target = this.last;
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } catch (err) {
      // Read on from `last` a second later (or at the next NOTIFY).
      this.log.warn({ err }, 'change stream: reading new changes failed');
      setTimeout(() => this.notified(this.target), 1_000).unref();
    } finally {
      this.reading = false;
    }
  }

  /**
   * Opens a stream for `response`: the changes after `cursor`, of `resources` (every kind without).
   * `release` gives its place back when the response closes, the client having left or the
   * stream ended. The body to send, or null when the client left while the stream was opening.
   */
  async open(
    response: ServerResponse,
    cursor: bigint,
    resources: readonly Resource[] | undefined,
    release: () => void,
    log: FastifyBaseLogger,
  ): Promise<PassThrough | null> {
    // Listened for before the first await, so a client gone meanwhile gives its place back too.
    let subscriber: Subscriber | undefined = undefined;
    let gone = false;
    response.once('close', () => {
      gone = true;
      if (subscriber) {
        subscriber.destroy();
        this.subscribers.delete(subscriber);
      }
      release();
    });
    try {
      await this.start();
    } catch (error) {
      release();
      throw error;
    }
    if (gone) return null;
    subscriber = new Subscriber(this.db.pool, cursor, resources, this.settings, log);
    this.subscribers.add(subscriber);
    subscriber.run();
    return subscriber.body;
  }

  /** Ends every stream (their clients see the end and may reconnect elsewhere) and the LISTEN connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const subscriber of [...this.subscribers]) subscriber.end();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}

/** One client's stream: its cursor, its queue, and the response body it writes to. */
export class Subscriber {
  readonly body = new PassThrough();
  private queue: ChangeRow[] = [];
  private behind = true;
  /** The queue was dropped since the current table read began: read again before going live. */
  private dropped = false;
  private running = false;
  private ended = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    /** The seq of the last change this client has: it is sent what follows. */
    private cursor: bigint,
    private readonly resources: readonly Resource[] | undefined,
    settings: Pick<StreamSettings, 'heartbeatMs' | 'retryMs'>,
    private readonly log: FastifyBaseLogger,
  ) {
    // The retry hint and a first comment, so the client sees the stream open before any change.
    this.body.write(`retry: ${settings.retryMs}\n: stream after seq ${cursor}\n\n`);
    // Proxies and load balancers cut connections that stay silent; a comment line is ignored by clients.
    this.heartbeat = setInterval(() => {
      if (!this.body.writableNeedDrain) this.body.write(': heartbeat\n\n');
    }, settings.heartbeatMs);
    this.heartbeat.unref();
  }

  /** A change the listener read: sent now if live, else queued for when the subscriber catches up. */
  offer(row: ChangeRow): void {
    if (this.ended || (this.resources && !this.resources.includes(row.resource))) return;
    if (this.queue.length >= MAX_QUEUE) {
      this.queue = [];
      this.behind = true;
      this.dropped = true;
    }
    this.queue.push(row);
    this.run();
  }

  /** Sends until there is nothing more to send; one loop at a time. */
  run(): void {
    if (this.running || this.ended) return;
    this.running = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      while (!this.ended) {
        if (this.behind) {
          this.dropped = false;
          const rows = await readChanges(this.pool, this.cursor.toString(), PAGE, this.resources);
          await this.send(rows);
          if (rows.length === PAGE || this.dropped) continue;
          this.behind = false;
        }
        const fresh = this.queue.filter((row) => BigInt(row.seq) > this.cursor);
        this.queue = [];
        // Returning runs `finally` at once, with no await between: an offer after it starts a new loop.
        if (fresh.length === 0) return;
        await this.send(fresh);
      }
    } catch (err) {
      this.log.warn({ err }, 'change stream: a subscriber failed; its stream ends and the client reconnects');
      this.end();
    } finally {
      this.running = false;
    }
  }

  private async send(rows: ChangeRow[]): Promise<void> {
    if (rows.length === 0 || this.ended) return;
    const last = rows.at(-1)!;
    this.cursor = BigInt(last.seq);
    if (this.body.write(rows.map(sseEvent).join(''))) return;
    // The client reads slowly: wait for it (changes queue meanwhile, up to MAX_QUEUE).
    await new Promise<void>((resolve) => {
      const done = () => {
        this.body.off('drain', done);
        this.body.off('close', done);
        resolve();
      };
      this.body.once('drain', done);
      this.body.once('close', done);
    });
  }

  /** Ends the stream (server closing, or the subscriber failed). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    this.body.end();
  }

  /** The client went away. */
  destroy(): void {
    this.ended = true;
    clearInterval(this.heartbeat);
    this.body.destroy();
  }
}

// Slots for the work that holds a database connection for long: expensive reads (stats,
// full-text search, counts) and exports of everything. Each kind has a pool of its own, sized
// to its slots, so however many such requests arrive the primary pool keeps every connection
// for pages, single reads, writes and /readyz; and a client (an API key, or an address without
// one) holds at most its share of a kind's slots, so one caller cannot take them all. A request
// beyond the slots is refused at once (429 beyond its share, 503 when the instance is full):
// queueing it would only hold its socket and add to the load it was refused for. A counter, not a
// library: concurrency limiters (p-limit and the like) queue, and @fastify/rate-limit counts
// requests per time window, not the ones in flight.
import type pg from 'pg';

/** The share of `whole` taken by default: half, at least one. */
export const half = (whole: number): number => Math.max(1, Math.floor(whole / 2));

export type Refusal = 'client' | 'instance';

export class Slots {
  private running = 0;
  private readonly byClient = new Map<string, number>();

  /**
   * At most `max` at once, `perClient` of them for one client; `pool` is the connections they
   * run on (as many as there are slots).
   */
  constructor(
    readonly max: number,
    readonly perClient: number,
    readonly pool: pg.Pool,
  ) {}

  /** Slots taken now. */
  get inUse(): number {
    return this.running;
  }

  /**
   * Takes a slot for `client`: the function that gives it back (once, however often called), or
   * why there is none: the client holds its share already, or every slot is taken.
   */
  take(client: string): (() => void) | Refusal {
    const held = this.byClient.get(client) ?? 0;
    if (held >= this.perClient) return 'client';
    if (this.running >= this.max) return 'instance';
    this.running += 1;
    this.byClient.set(client, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.running -= 1;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left > 0) this.byClient.set(client, left);
      else this.byClient.delete(client);
    };
  }
}

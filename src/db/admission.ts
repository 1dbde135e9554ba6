// Slots for the work that holds a database connection for long: expensive reads (stats,
// full-text search, counts) and exports of everything. Each kind has a pool of its own, sized
// to its slots, so however many such requests arrive the primary pool keeps every connection
// for pages, single reads, writes and /readyz; and a client (an API key, or an address without
// one) holds at most its share of a kind's slots, so one caller cannot take them all. A request
// beyond the slots is refused at once (429 beyond its share, 503 when the instance is full):
// queueing it would only hold its socket and add to the load it was refused for. A counter, not a
// library: concurrency limiters (p-limit and the like) queue, and @fastify/rate-limit counts
// requests per time window, not the ones in flight.
//
// Callers without an API key share one more bound across both kinds (an AnonymousBudget): each
// such request runs a core flat out, and an anonymous crowd (a new address each) could otherwise
// take every slot of both kinds and so both cores of a small machine, slowing every cheap read
// (bench/RESULTS.md, the abuse run). Callers with a key keep the rest of the slots.
import { availableParallelism } from 'node:os';
import type pg from 'pg';

/** The share of `whole` taken by default: half, at least one. */
export const half = (whole: number): number => Math.max(1, Math.floor(whole / 2));

/**
 * The default of the anonymous budget: one fewer than the machine's cores, at least one, so a core stays for everything
 * else.
 */
export const coresButOne = (): number => Math.max(1, availableParallelism() - 1);

export type Refusal = 'client' | 'instance' | 'anonymous';

/** How many expensive reads and exports callers without a key run at once, both kinds together. */
export class AnonymousBudget {
  running = 0;
  constructor(readonly max: number) {}
}

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
    /** Shared with the other kind: what callers without a key may run of both. */
    readonly anonymous = new AnonymousBudget(max),
  ) {}

  /** Slots taken now. */
  get inUse(): number {
    return this.running;
  }

  /**
   * Takes a slot for `client` (`keyless`: a caller without an API key): the function that gives it
   * back (once, however often called), or why there is none: the client holds its share already,
   * every slot is taken, or callers without a key run as much as they may.
   */
  take(client: string, keyless = false): (() => void) | Refusal {
    const held = this.byClient.get(client) ?? 0;
    if (held >= this.perClient) return 'client';
    if (this.running >= this.max) return 'instance';
    const budget = this.anonymous;
    if (keyless && budget.running >= budget.max) return 'anonymous';
    this.running += 1;
    if (keyless) budget.running += 1;
    this.byClient.set(client, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.running -= 1;
      if (keyless) budget.running -= 1;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left > 0) this.byClient.set(client, left);
      else this.byClient.delete(client);
    };
  }
}

// How many exports of everything one instance streams at once. Each holds a connection of
// the read pool for as long as it streams (seconds to minutes); with every connection held
// that way, pages, single reads and writes would wait for the pool's timeout and fail with
// 503, so exports get a share of the pool and the rest stays for everything else.

/** The share of a pool of `poolSize` that exports may hold by default: half, at least one. */
export const defaultMaxExports = (poolSize: number): number => Math.max(1, Math.floor(poolSize / 2));

export class ExportSlots {
  private running = 0;

  constructor(readonly max: number) {}

  /** Exports streaming now. */
  get inUse(): number {
    return this.running;
  }

  /** Takes a slot: returns the function that gives it back (once, however often called), or null when all are taken. */
  take(): (() => void) | null {
    if (this.running >= this.max) return null;
    this.running += 1;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.running -= 1;
    };
  }
}

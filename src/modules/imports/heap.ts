// Keeping an import's memory bounded. An import's live data is small (a batch or two of
// lines), but each line is copied several times on its way to PostgreSQL (the line's text, its
// parsed value, the batch's JSON, the driver's buffers), and a batch lives long enough for those
// copies to reach V8's old space. V8 lets old space grow to several times the live data before
// it collects it: a 255 MiB import of 1 MB lines took the server from 236 to 470 MB of RSS,
// though a full collection at any point left 60 to 100 MB of heap (bench/RESULTS.md). So the
// import asks for a full collection itself once the heap has grown by `slack` since the last one.
// Node offers no call for that without --expose-gc; setting the flag at run time and taking `gc`
// from a fresh context is the documented way to get it (v8.setFlagsFromString), and it changes
// nothing else.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

function collector(): () => void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

/**
 * Growth of the used heap (bytes) past which an import collects: about what two batches of large lines leave behind.
 */
export const DEFAULT_HEAP_SLACK = 48 * 1024 * 1024;

/**
 * Bounds the garbage an import leaves: `check()` after each batch collects once the heap grew by `slack` since the last
 * collection.
 */
export class HeapBound {
  private mark = getHeapStatistics().used_heap_size;
  /** Full collections made (for tests and benchmarks). */
  collections = 0;

  constructor(private readonly slack = DEFAULT_HEAP_SLACK) {}

  check(): void {
    if (getHeapStatistics().used_heap_size - this.mark < this.slack) return;
    collector()();
    this.collections++;
    // What survived is live: the next collection waits for another `slack` on top of it.
    this.mark = getHeapStatistics().used_heap_size;
  }
}

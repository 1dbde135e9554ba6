// An import of large lines keeps the heap bounded: each line is copied several times on its way
// to PostgreSQL and V8 lets those copies pile up in old space, far beyond the live data, unless
// the import collects them (src/modules/imports/heap.ts). A 255 MiB import of 1 MB lines took
// the server from 236 to 470 MB of RSS before (bench/RESULTS.md).
import { Readable } from 'node:stream';
import { getHeapStatistics } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEvents } from '../../src/modules/imports/import.js';
import { ndjsonRecords } from '../../src/modules/imports/records.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody } from '../helpers/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const words = 'shelling reported near the bridge by residents and local officials '.repeat(200);

/** `count` NDJSON lines of about 0.9 MB each (90 reports with quotes of about 9,900 characters), made as they are read. */
function* largeLines(count: number): Generator<string> {
  for (let n = 0; n < count; n++) {
    const reports = Array.from({ length: 90 }, (_, i) => ({
      reporter: { name: `Heap reporter ${i % 5}`, kind: 'media' },
      reporter_role: 'third_party',
      stance: 'asserts',
      quote: `${n} ${i} ${words.slice(i, i + 9_900)}`,
    }));
    yield `${JSON.stringify(eventBody({ title: `Large line ${n}`, reports, external_ids: { heap: String(n) } }))}\n`;
  }
}

describe('an import of large lines', () => {
  it('keeps the heap within its slack of where it started, however many lines it reads', async () => {
    const lines = 60;
    const slack = 24 * 1024 * 1024;
    const start = getHeapStatistics().used_heap_size;
    let peak = start;
    const sampler = setInterval(() => (peak = Math.max(peak, getHeapStatistics().used_heap_size)), 5);
    const report = await importEvents(t.db, 'test-editor', ndjsonRecords(Readable.from(largeLines(lines))), {
      atomic: false,
      heapSlack: slack,
    }).finally(() => clearInterval(sampler));
    expect(report).toEqual({ accepted: lines, rejected: 0, skipped: 0, errors: [] });
    const { rows } = await t.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM reports WHERE length(quote) > 9000`,
    );
    expect(rows[0]!.n).toBe(lines * 90);
    // About 54 MB of lines went through; without the collections the heap grew by twice that or more.
    expect((peak - start) / 1048576).toBeLessThan(slack / 1048576 + 24);
  }, 180_000);
});

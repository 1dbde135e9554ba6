// A page of events is read by one binary COPY, read whole and split once (copyAllRows), where
// exports stream through copyRows: both must give the same rows, and a COPY that fails must fail
// the page and hand its connection back, not leak it or crash the process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyAllRows, copyRows, type CopyRow } from '../../src/modules/events/copy-stream.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

/** Rows wider than a socket read, so rows are cut across the chunks COPY arrives in; NULLs and non-ASCII text included. */
const WIDE = `SELECT g::text AS n, CASE WHEN g % 7 = 0 THEN NULL ELSE repeat('é', $1::int) || g END AS body
  FROM generate_series(1, $2::int) g ORDER BY g`;

const text = (row: CopyRow) => row.map((field) => (field === null ? null : field.toString('utf8')));

describe('reading a page by COPY', () => {
  it('gives the rows the streamed COPY gives, byte for byte', async () => {
    const whole = await copyAllRows(t.db.pool, WIDE, [3000, 400], 2);
    const streamed: CopyRow[] = [];
    for await (const batch of await copyRows(t.db.pool, WIDE, [3000, 400], 2)) streamed.push(...(batch as CopyRow[]));
    expect(whole).toHaveLength(400);
    expect(whole.map(text)).toEqual(streamed.map(text));
    expect(text(whole[0]!)).toEqual(['1', `${'é'.repeat(3000)}1`]);
    expect(whole[6]![1]).toBeNull();
  });

  it('gives no rows for an empty result', async () => {
    expect(await copyAllRows(t.db.pool, WIDE, [10, 0], 2)).toEqual([]);
  });

  it('fails with the database error when the COPY fails midway, and gives its connection back', async () => {
    // Division by zero at the third row: some rows were sent before the error.
    const failing = 'SELECT g::text, (1 / (g - 3))::text FROM generate_series(1, 2000) g';
    await expect(copyAllRows(t.db.pool, failing, [], 2)).rejects.toThrow(/division by zero/);
    await expect(copyAllRows(t.db.pool, WIDE, [10, 3], 2)).resolves.toHaveLength(3);
    // Every connection the pool holds is idle again: none was left in the middle of a COPY.
    expect(t.db.pool.totalCount).toBeGreaterThan(0);
    expect(t.db.pool.idleCount).toBe(t.db.pool.totalCount);
    expect(t.db.pool.waitingCount).toBe(0);
  });

  it('fails when the rows have another number of fields than expected', async () => {
    await expect(copyAllRows(t.db.pool, WIDE, [10, 3], 3)).rejects.toThrow(/2 fields, expected 3/);
    expect(t.db.pool.idleCount).toBe(t.db.pool.totalCount);
  });
});

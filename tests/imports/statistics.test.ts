// An import into a new or small database refreshes the planner's statistics of the tables it
// grows as it goes (checked after its 1st, 2nd, 4th... batch, from 256 events on): planned from the statistics of nearly
// empty tables, rendering a batch's events joined every participant with a scan of every actor
// and took about twice as long (bench/RESULTS.md), until autovacuum got round to them.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEvents } from '../../src/modules/imports/import.js';
import { ndjsonRecords } from '../../src/modules/imports/records.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, ndjson } from '../helpers/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('an import into an empty database', () => {
  it('leaves the planner statistics of the tables it grew current', async () => {
    const lines = Array.from({ length: 300 }, (_, i) =>
      eventBody({
        title: `Statistics ${i}`,
        participants: [{ actor: { name: `Statistics unit ${i}`, kind: 'unit' }, role: 'target' }],
        external_ids: { statistics: String(i) },
      }),
    );
    const report = await importEvents(t.db, 'test-editor', ndjsonRecords(Readable.from([ndjson(lines)])), {
      atomic: false,
      batchSize: 150,
    });
    expect(report).toMatchObject({ accepted: lines.length, rejected: 0 });
    const { rows } = await t.db.pool.query<{ relname: string; reltuples: number; rows: number }>(
      `SELECT c.relname, c.reltuples::int AS reltuples,
              (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::int AS rows
         FROM pg_class c WHERE c.relname IN ('events', 'participants', 'reports', 'actors') AND c.relnamespace = current_schema()::regnamespace
        ORDER BY 1`,
    );
    expect(rows).toHaveLength(4);
    // Analyzed after the 2nd batch (256 events or more, more than the planner knew of): it knows every row.
    for (const row of rows) {
      expect(row.rows, row.relname).toBeGreaterThan(0);
      expect(row.reltuples, row.relname).toBeGreaterThanOrEqual(Math.floor(row.rows * 0.9));
    }
  }, 120_000);
});

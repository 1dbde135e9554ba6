// Creating events writes each event row once, with its derived columns (writeEvents, the one
// create path of POST /v1/events and the bulk import): no insert then update of the same row.
// A row updated in place leaves a dead version behind, which a bulk import paid for a million times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEvents } from '../../src/modules/imports/import.js';
import { runWrite } from '../../src/write/run.js';
import { createEvent, resolveEventReferences, writeEvents } from '../../src/modules/events/writes.js';
import { addReport } from '../../src/modules/reports/writes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, reportBody } from '../helpers/fixtures.js';
import { EventInputSchema } from '../../src/modules/events/schemas.js';
import { ReportInputSchema } from '../../src/modules/reports/schemas.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

/** Rows inserted into and updated in events, as PostgreSQL's statistics count them once every backend has reported. */
async function eventsTableWrites(inserted: number): Promise<{ inserted: number; updated: number }> {
  for (let i = 0; ; i++) {
    // Backends report their counts when idle for a second at most; a fresh snapshot each round.
    await t.db.pool.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await t.db.pool.query<{ inserted: number; updated: number }>(
      `SELECT n_tup_ins::int AS inserted, n_tup_upd::int AS updated FROM pg_stat_user_tables WHERE relname = 'events'`,
    );
    if (rows[0]!.inserted >= inserted || i >= 100) return rows[0]!;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('creating events', () => {
  it('POST and an import insert each event row with its derived columns and never update it', async () => {
    const { rows } = await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    const before = await eventsTableWrites(rows[0]!.n);
    const corroborated = eventBody({
      reports: [reportBody(), reportBody({ reporter: { name: 'Another outlet', kind: 'media' } })],
    });
    const posted = (await t.http.post('/v1/events').send(corroborated).expect(201)).body;
    expect(posted.status).toBe('corroborated');
    const lines = [corroborated, eventBody({ status: 'contested' }), eventBody({ title: 'Third' })];
    const report = await importEvents(
      t.db,
      'test-editor',
      (async function* () {
        for (const [i, value] of lines.entries()) yield { line: i + 1, value };
      })(),
      { atomic: false },
    );
    expect(report.accepted).toBe(3);
    const after = await eventsTableWrites(before.inserted + 4);
    expect(after.inserted - before.inserted).toBe(4);
    expect(after.updated - before.updated).toBe(0);
  });

  it('an event created and changed again in the same write is derived again by the finish step', async () => {
    const id = await runWrite(t.db, 'test-editor', async (unit) => {
      const created = await createEvent(unit, EventInputSchema.parse(eventBody()));
      await addReport(
        unit,
        created,
        ReportInputSchema.parse(reportBody({ reporter: { name: 'Late outlet', kind: 'media' } })),
      );
      return created;
    });
    const event = (await t.http.get(`/v1/events/${id}`).expect(200)).body;
    expect(event.reports).toHaveLength(2);
    expect(event.report_count).toBe(2);
    expect(event.status).toBe('corroborated');
    expect(await t.staleRows()).toEqual({ events: 0, stats: [], actorNames: 0 });
  });

  it('an import batch whose actors were merged between its two transactions names the survivor, not the tombstone', async () => {
    const make = async (name: string) =>
      (await t.as.editor.post('/v1/actors').send({ name, kind: 'state' }).expect(201)).body;
    const [absorbed, survivor] = [await make('Batch race absorbed'), await make('Batch race survivor')];
    const input = EventInputSchema.parse(
      eventBody({
        reports: [
          reportBody({ reporter: { id: absorbed.id } }),
          reportBody({ reporter: { name: 'Batch race absorbed', kind: 'state' } }),
        ],
      }),
    );
    // An import batch resolves its references in a transaction of its own, then writes its events in another.
    const resolved = await runWrite(t.db, 'test-editor', (unit) => resolveEventReferences(unit, [input]));
    expect(new Set(resolved.actors.values())).toEqual(new Set([absorbed.id]));
    await t.as.editor
      .post(`/v1/actors/${absorbed.id}/merge`)
      .set('If-Match', `"${absorbed.version}"`)
      .send({ into: survivor.id })
      .expect(200);
    const [id] = await runWrite(t.db, 'test-editor', (unit) =>
      writeEvents(unit, [input], undefined, undefined, resolved),
    );
    const { rows } = await t.db.pool.query<{ reporter_id: string }>(
      'SELECT reporter_id::text FROM reports WHERE event_id = $1',
      [id],
    );
    expect(rows.map((row) => row.reporter_id)).toEqual([survivor.id, survivor.id]);
    expect(await t.staleRows()).toEqual({ events: 0, stats: [], actorNames: 0 });
  });
});

// An event's figure for a measure no editor set is derived from its live asserting reports
// (low = smallest low, high = largest high, best = the lower median of the bests), in the finish
// step of every write: after a POST, a report's edit or deletion, a merge; an editor's figure
// overrides a measure and null hands it back. The stats, exports and re-imports follow.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { deriveAfterRawWrites, eventBody, expectProblem, reportBody, unique } from '../helpers/fixtures.js';
import { REFRESH_EVENTS } from '../../src/modules/events/refresh.js';
import { rebuildStats } from '../../src/modules/stats/derive.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { exportAcled } from '../acled/acled-helpers.js';

interface Figure {
  measure: string;
  low: number | null;
  best: number | null;
  high: number | null;
  qualifier: string | null;
  unit: string | null;
  subject: { name: string } | null;
  source: 'evidence' | 'editor';
}
interface Event {
  id: string;
  version: number;
  figures: Figure[];
  reports: { id: string; version: number }[];
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const agency = () => ({ name: `Agency ${unique()}`, kind: 'agency' });
const claim = (figures: Record<string, unknown>[], overrides: Record<string, unknown> = {}) =>
  reportBody({ reporter: agency(), figures, ...overrides });
const about = (best: number, measure = 'killed') => ({ measure, value: best, qualifier: 'approximately' });

async function post(
  tag: string,
  reports: Record<string, unknown>[],
  overrides: Record<string, unknown> = {},
): Promise<Event> {
  return (
    await t.http
      .post('/v1/events')
      .send(eventBody({ title: `Figures ${tag}`, tags: [tag], reports, ...overrides }))
      .expect(201)
  ).body;
}
const get = async (id: string): Promise<Event> => (await t.http.get(`/v1/events/${id}`).expect(200)).body;
const patch = (path: string, version: number, body: unknown) =>
  t.http
    .patch(path)
    .set('if-match', `"${version}"`)
    .set('content-type', 'application/merge-patch+json')
    .send(JSON.stringify(body));

/** The event's figures, reduced to what the rule decides. */
const bounds = (event: Event) =>
  event.figures.map(({ measure, low, best, high, source }) => ({ measure, low, best, high, source }));

/** The killed sums of /v1/stats/events over the tagged events (events joined) and over every event (daily rollups). */
async function killedStats(tag: string) {
  const tagged = (await t.http.get(`/v1/stats/events?tag=${tag}`).expect(200)).body.data[0].figures.killed ?? null;
  const all = (await t.http.get('/v1/stats/events').expect(200)).body.data[0].figures.killed ?? null;
  return { tagged, all };
}

describe('figures from the evidence', () => {
  it('a POST whose only report claims about 300 killed gives the event that figure, and the stats count it', async () => {
    const tag = `ev-${unique()}`;
    const before = (await killedStats(tag)).all;
    const event = await post(tag, [claim([about(300)])]);
    expect(bounds(event)).toEqual([{ measure: 'killed', low: null, best: 300, high: null, source: 'evidence' }]);
    expect(event.figures[0]).toMatchObject({ qualifier: null, text: null });
    const stats = await killedStats(tag);
    expect(stats.tagged).toMatchObject({ low: null, best: 300, high: null, best_n: 1, low_n: 0 });
    expect(stats.all.best).toBe((before?.best ?? 0) + 300);
  });

  it('low is the smallest low, high the largest high, best the lower median; only live asserting reports count', async () => {
    const tag = `ev-${unique()}`;
    const event = await post(tag, [
      claim([{ measure: 'killed', low: 100, best: 200 }, about(40, 'wounded')]),
      claim([{ measure: 'killed', best: 300, high: 400 }]),
      claim([about(250)]),
      claim([about(9000)], { stance: 'denies' }),
      claim([about(1)], { stance: 'unclear' }),
      claim([{ measure: 'killed', text: 'many' }]),
    ]);
    expect(bounds(event)).toEqual([
      { measure: 'killed', low: 100, best: 250, high: 400, source: 'evidence' },
      { measure: 'wounded', low: null, best: 40, high: null, source: 'evidence' },
    ]);

    // An even count: the lower of the two middle bests (200, 250, 280, 300 gives 250).
    const added = await t.http
      .post(`/v1/events/${event.id}/reports`)
      .send(claim([about(280)]))
      .expect(201);
    expect(bounds(await get(event.id))[0]).toMatchObject({ low: 100, best: 250, high: 400 });
    expect((await killedStats(tag)).tagged).toMatchObject({ low: 100, best: 250, high: 400 });

    // A report's figures edited: 200, 250, 300, 1000 gives 250 still, and the largest high is now 1200.
    const edited = await patch(`/v1/reports/${added.body.id}`, 1, {
      figures: [{ measure: 'killed', best: 1000, high: 1200 }],
    }).expect(200);
    expect(bounds(await get(event.id))[0]).toMatchObject({ low: 100, best: 250, high: 1200 });
    expect((await killedStats(tag)).tagged).toMatchObject({ low: 100, best: 250, high: 1200 });
    // The event's revision and the change feed say the figures changed.
    const revisions = (await t.http.get(`/v1/events/${event.id}/revisions`).expect(200)).body.data as {
      version: number;
      changed_fields: string[];
    }[];
    expect(revisions.find((r) => r.version === 3)?.changed_fields).toContain('figures');
    const feed = (await t.http.get('/v1/changes?limit=1000').expect(200)).body.data as {
      resource: string;
      id: string;
      version: number;
    }[];
    expect(feed).toContainEqual(expect.objectContaining({ resource: 'event', id: event.id, version: 3 }));

    // The first report (the only low, and the only wounded figure) withdrawn: 250, 300, 1000 gives 300.
    const first = (await get(event.id)).reports[0]!;
    await t.http.delete(`/v1/reports/${first.id}`).set('if-match', `"${first.version}"`).expect(204);
    const after = await get(event.id);
    expect(bounds(after)).toEqual([{ measure: 'killed', low: null, best: 300, high: 1200, source: 'evidence' }]);
    expect((await killedStats(tag)).tagged).toMatchObject({ low: null, best: 300, high: 1200, low_n: 0 });
    expect(edited.body.version).toBe(2);
  });

  it('widens a bound that contradicts another report, so low <= best <= high; keeps a unit and subject all agree on', async () => {
    const tag = `ev-${unique()}`;
    const side = { name: `Army ${unique()}`, kind: 'military' };
    const event = await post(tag, [
      claim([
        { measure: 'killed', value: 500, qualifier: 'at_least' },
        { ...about(3, 'equipment'), unit: 'tanks', subject: side },
      ]),
      claim([about(300), { ...about(5, 'equipment'), unit: 'tanks', subject: side }]),
      claim([
        { measure: 'killed', value: 200, qualifier: 'at_most' },
        { ...about(7, 'equipment'), unit: 'drones' },
      ]),
    ]);
    expect(bounds(event)).toEqual([
      { measure: 'killed', low: 200, best: 300, high: 500, source: 'evidence' },
      { measure: 'equipment', low: null, best: 5, high: null, source: 'evidence' },
    ]);
    expect(event.figures[1]).toMatchObject({ unit: null, subject: null });
    const first = event.reports[0]!;
    const third = event.reports[2]!;
    await t.http.delete(`/v1/reports/${third.id}`).set('if-match', `"${third.version}"`).expect(204);
    const agreed = await get(event.id);
    expect(agreed.figures[1]).toMatchObject({
      measure: 'equipment',
      best: 3,
      unit: 'tanks',
      subject: { name: side.name },
    });
    expect(bounds(agreed)[0]).toEqual({ measure: 'killed', low: 300, best: 300, high: null, source: 'evidence' });
    expect(first.id).toBeTruthy();
  });

  it("an editor's figure overrides its measure; null hands it back; an array replaces every editor figure", async () => {
    const tag = `ev-${unique()}`;
    const event = await post(tag, [claim([about(300), about(20, 'wounded')])], { figures: [about(1000, 'wounded')] });
    expect(bounds(event)).toEqual([
      { measure: 'wounded', low: null, best: 1000, high: null, source: 'editor' },
      { measure: 'killed', low: null, best: 300, high: null, source: 'evidence' },
    ]);

    const set = await patch(`/v1/events/${event.id}`, 1, {
      figures: { killed: [{ measure: 'killed', value: 350, qualifier: 'exact' }] },
    }).expect(200);
    expect(bounds(set.body)).toEqual([
      { measure: 'wounded', low: null, best: 1000, high: null, source: 'editor' },
      { measure: 'killed', low: 350, best: 350, high: 350, source: 'editor' },
    ]);
    // A new report does not move an editor's figure.
    await t.http
      .post(`/v1/events/${event.id}/reports`)
      .send(claim([about(900)]))
      .expect(201);
    expect(bounds(await get(event.id))[1]).toMatchObject({ best: 350, source: 'editor' });
    expect((await killedStats(tag)).tagged).toMatchObject({ best: 350, low: 350, high: 350 });

    const handedBack = await patch(`/v1/events/${event.id}`, 3, { figures: { killed: null } }).expect(200);
    expect(bounds(handedBack.body)).toEqual([
      { measure: 'wounded', low: null, best: 1000, high: null, source: 'editor' },
      { measure: 'killed', low: null, best: 300, high: null, source: 'evidence' },
    ]);
    expect((await killedStats(tag)).tagged).toMatchObject({ best: 300, low: null, high: null });

    const replaced = await patch(`/v1/events/${event.id}`, 4, { figures: [] }).expect(200);
    expect(bounds(replaced.body)).toEqual([
      { measure: 'killed', low: null, best: 300, high: null, source: 'evidence' },
      { measure: 'wounded', low: null, best: 20, high: null, source: 'evidence' },
    ]);
    // Two measures the editor's, then null: every measure back to the evidence.
    await patch(`/v1/events/${event.id}`, 5, {
      figures: { killed: [about(1)], wounded: [about(2, 'wounded')] },
    }).expect(200);
    expect(bounds(await get(event.id)).map((f) => [f.best, f.source])).toEqual([
      [1, 'editor'],
      [2, 'editor'],
    ]);
    const cleared = await patch(`/v1/events/${event.id}`, 6, { figures: null }).expect(200);
    expect(bounds(cleared.body)).toEqual(bounds(replaced.body));

    // A figure under another measure's key is bad input, and changes nothing.
    const counts = await t.rowCounts();
    const bad = await expectProblem(
      patch(`/v1/events/${event.id}`, 7, { figures: { killed: [about(1, 'wounded')] } }),
      400,
    );
    expect(bad.errors).toEqual([expect.objectContaining({ path: '/figures/killed/0/measure' })]);
    expect(await t.rowCounts()).toEqual(counts);
    expect((await get(event.id)).version).toBe(7);
  });

  it('a merge derives the survivor figures from the reports it gains; the duplicate keeps none', async () => {
    const tag = `ev-${unique()}`;
    const survivor = await post(tag, [claim([about(10)])]);
    const duplicate = await post(tag, [claim([about(30)]), claim([about(50)])]);
    expect(bounds(duplicate)[0]).toMatchObject({ best: 30 });
    expect((await killedStats(tag)).tagged).toMatchObject({ best: 40, best_n: 2 });
    await t.http
      .post(`/v1/events/${duplicate.id}/merge`)
      .set('if-match', '"1"')
      .send({ into: survivor.id })
      .expect(200);
    expect(bounds(await get(survivor.id))).toEqual([
      { measure: 'killed', low: null, best: 30, high: null, source: 'evidence' },
    ]);
    const { rows } = await t.db.pool.query(`SELECT count(*)::int AS n FROM figures WHERE event_id = $1`, [
      duplicate.id,
    ]);
    expect(rows[0].n).toBe(0);
    expect((await killedStats(tag)).tagged).toMatchObject({ best: 30, best_n: 1 });
  });

  it('the after-file check finds an event a write path rendered and counted without deriving its figures', async () => {
    const event = await post(`ev-${unique()}`, [claim([about(300)])]);
    // What a path that forgot the figures leaves: rendered and counted, but no derived figure.
    await t.db.pool.query(`DELETE FROM figures WHERE event_id = $1 AND derived`, [event.id]);
    await t.db.pool.query(`${REFRESH_EVENTS} WHERE e.id = $1`, [event.id]);
    await rebuildStats(t.db.pool);
    expect(await t.staleRows()).toEqual({ events: 1, stats: [], actorNames: 0 });
    await deriveAfterRawWrites(t.db.pool, [event.id]);
    expect(await t.staleRows()).toEqual({ events: 0, stats: [], actorNames: 0 });
    expect(bounds(await get(event.id))).toEqual([
      { measure: 'killed', low: null, best: 300, high: null, source: 'evidence' },
    ]);
  });

  it('the CSV, ACLED and NDJSON exports and the revisions carry the derived figure; a re-import derives it again', async () => {
    const tag = `ev-${unique()}`;
    const event = await post(tag, [claim([{ measure: 'killed', low: 280, best: 300 }])]);

    const csv: Record<string, string>[] = parse(
      (await t.http.get(`/v1/events?format=csv&tag=${tag}`).expect(200)).text,
      { columns: true },
    );
    expect(csv[0]!.figures).toBe('killed: low 280, best 300');
    const acled = await exportAcled(t, `tag=${tag}`);
    expect(acled.rows[0]!.fatalities).toBe('280');
    const revisions = (await t.http.get(`/v1/events/${event.id}/revisions`).expect(200)).body.data as {
      version: number;
      state: Event;
    }[];
    expect(revisions.find((r) => r.version === event.version)?.state.figures).toEqual(event.figures);

    const line = JSON.parse((await t.http.get(`/v1/events?format=ndjson&tag=${tag}`).expect(200)).text.trim());
    expect(line.figures).toEqual(event.figures);
    // The same line as another instance's event (another id): the figure comes back from the report, not as an editor's.
    const copyTag = `copy-${unique()}`;
    const copy = { ...line, id: randomUUID(), title: `Copy ${copyTag}`, tags: [copyTag], external_ids: {} };
    const imported = await t.http
      .post('/v1/imports')
      .set('content-type', 'application/x-ndjson')
      .send(`${JSON.stringify(copy)}\n`)
      .expect(200);
    expect(imported.body, JSON.stringify(imported.body.errors)).toMatchObject({ accepted: 1, rejected: 0 });
    const [copied] = (await t.http.get(`/v1/events?tag=${copyTag}`).expect(200)).body.data as Event[];
    expect(bounds(copied!)).toEqual([{ measure: 'killed', low: 280, best: 300, high: null, source: 'evidence' }]);
    // ...and an editor's figure comes back as the editor's.
    await patch(`/v1/events/${copied!.id}`, 1, { figures: { killed: [about(310)] } }).expect(200);
    const edited = JSON.parse((await t.http.get(`/v1/events?format=ndjson&tag=${copyTag}`).expect(200)).text.trim());
    const againTag = `again-${unique()}`;
    await t.http
      .post('/v1/imports')
      .set('content-type', 'application/x-ndjson')
      .send(`${JSON.stringify({ ...edited, id: randomUUID(), tags: [againTag], external_ids: {} })}\n`)
      .expect(200);
    const [again] = (await t.http.get(`/v1/events?tag=${againTag}`).expect(200)).body.data as Event[];
    expect(bounds(again!)).toEqual([{ measure: 'killed', low: null, best: 310, high: null, source: 'editor' }]);
  });
});

// GET /v1/stats/claims: what each reporter claims of one measure, side by side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBody, expectProblem, reportBody, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
const tag = `claims-${unique()}`;
const BELLIGERENT = { name: `Ministry of Defence ${tag}`, kind: 'state', country: 'RUS' };
const MONITOR = { name: `Monitoring mission ${tag}`, kind: 'agency' };
const WIRE = { name: `Wire service ${tag}`, kind: 'media' };

beforeAll(async () => {
  t = await startTestApp();
  // Two strikes: the belligerent puts the dead low (or denies), the monitor higher; a wire service repeats the monitor without a figure.
  await t.http
    .post('/v1/events')
    .send(
      eventBody({
        type: 'strike',
        title: `Strike on a market ${tag}`,
        tags: [tag],
        occurred: { start: '2025-03-01' },
        reports: [
          reportBody({
            reporter: BELLIGERENT,
            reporter_role: 'party',
            figures: [{ measure: 'killed', value: 2, qualifier: 'exact' }],
          }),
          reportBody({
            reporter: MONITOR,
            reporter_role: 'independent',
            figures: [
              { measure: 'killed', low: 12, best: 15, high: 20 },
              { measure: 'wounded', value: 40, qualifier: 'approximately' },
            ],
          }),
          reportBody({ reporter: WIRE, reporter_role: 'third_party' }),
        ],
      }),
    )
    .expect(201);
  await t.http
    .post('/v1/events')
    .send(
      eventBody({
        type: 'strike',
        title: `Strike on a depot ${tag}`,
        tags: [tag],
        occurred: { start: '2025-03-09' },
        reports: [
          reportBody({ reporter: BELLIGERENT, reporter_role: 'party', stance: 'denies' }),
          reportBody({
            reporter: MONITOR,
            reporter_role: 'independent',
            figures: [{ measure: 'killed', value: 5, qualifier: 'at_least', text: 'at least five' }],
          }),
        ],
      }),
    )
    .expect(201);
  // An event outside the filter: must not count.
  await t.http
    .post('/v1/events')
    .send(
      eventBody({
        title: `Elsewhere ${unique()}`,
        reports: [
          reportBody({
            reporter: MONITOR,
            reporter_role: 'independent',
            figures: [{ measure: 'killed', value: 99, qualifier: 'exact' }],
          }),
        ],
      }),
    )
    .expect(201);
});
afterAll(async () => {
  await t.close();
});

describe('GET /v1/stats/claims', () => {
  it("puts each reporter's own figures side by side, per role and stance", async () => {
    const response = await t.http.get(`/v1/stats/claims?measure=killed&tag=${tag}`).expect(200);
    expect(response.body.measure).toBe('killed');
    const rows = response.body.data.map((row: { reporter: { name: string } }) => ({
      ...row,
      reporter: row.reporter.name,
    }));
    expect(rows).toEqual([
      {
        reporter: MONITOR.name,
        reporter_role: 'independent',
        stance: 'asserts',
        events: 2,
        reports: 2,
        // 12..20 (best 15) on the market, "at least five" at the depot: the lows add up, the best and high only once.
        figures: { low: 17, best: 15, high: 20, low_n: 2, best_n: 1, high_n: 1 },
      },
      {
        reporter: BELLIGERENT.name,
        reporter_role: 'party',
        stance: 'asserts',
        events: 1,
        reports: 1,
        figures: { low: 2, best: 2, high: 2, low_n: 1, best_n: 1, high_n: 1 },
      },
      {
        reporter: BELLIGERENT.name,
        reporter_role: 'party',
        stance: 'denies',
        events: 1,
        reports: 1,
        figures: { low: null, best: null, high: null, low_n: 0, best_n: 0, high_n: 0 },
      },
      {
        reporter: WIRE.name,
        reporter_role: 'third_party',
        stance: 'asserts',
        events: 1,
        reports: 1,
        figures: { low: null, best: null, high: null, low_n: 0, best_n: 0, high_n: 0 },
      },
    ]);
  });

  it('takes the event filters, and another measure', async () => {
    const response = await t.http
      .get(`/v1/stats/claims?measure=wounded&tag=${tag}&occurred_from=2025-03-01&occurred_to=2025-03-01`)
      .expect(200);
    const monitor = response.body.data.find(
      (row: { reporter: { name: string } }) => row.reporter.name === MONITOR.name,
    );
    expect(monitor).toMatchObject({
      events: 1,
      reports: 1,
      figures: { low: null, best: 40, high: null, low_n: 0, best_n: 1, high_n: 0 },
    });
    expect(response.body.data).toHaveLength(3);
  });

  it('leaves out withdrawn reports', async () => {
    const events = (await t.http.get(`/v1/events?tag=${tag}&q=market`).expect(200)).body.data;
    const wire = events[0].reports.find((r: { reporter: { name: string } }) => r.reporter.name === WIRE.name);
    await t.http
      .delete(`/v1/reports/${wire.id}`)
      .set('if-match', `"${wire.version}"`)
      .send({ reason: 'retracted' })
      .expect(204);
    const response = await t.http.get(`/v1/stats/claims?measure=killed&tag=${tag}`).expect(200);
    expect(response.body.data.map((row: { reporter: { name: string } }) => row.reporter.name)).not.toContain(WIRE.name);
  });

  it.each([
    ['', '/measure'],
    ['measure=dead', '/measure'],
    ['measure=killed&bbox=1,2,3', '/bbox'],
    ['measure=killed&group_by=type', '/group_by'],
  ])('%s is a 400 naming %s', async (query, path) => {
    const problem = await expectProblem(t.http.get(`/v1/stats/claims?${query}`), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });
});

import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, expectProblem, nextLink, reportBody, unique } from '../helpers/fixtures.js';

interface Report {
  id: string;
  event_id: string;
  reporter: { id: string; name: string };
  via: { id: string; name: string; kind: string }[];
  stance: string;
  quote: string | null;
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const ghost = '0193f1a0-0000-7000-8000-00000000dead';

/** A new event with `count` reports, each with a quote naming its position. */
async function eventWithReports(count: number) {
  const tag = unique();
  const reports = Array.from({ length: count }, (_, i) => reportBody({ quote: `report ${i} of ${tag}` }));
  const response = await t.http.post('/v1/events').send(eventBody({ reports })).expect(201);
  return response.body as { id: string; version: number; reports: Report[] };
}

describe('GET /v1/events/{id}/reports', () => {
  it("lists an event's reports oldest first, and only that event's", async () => {
    const event = await eventWithReports(3);
    const other = await eventWithReports(2);
    const response = await t.http.get(`/v1/events/${event.id}/reports`).expect(200);
    expect(response.body.next_cursor).toBeNull();
    const data: Report[] = response.body.data;
    expect(data.map((r) => r.quote)).toEqual(event.reports.map((r) => r.quote));
    // In the order the body gave them, which is the order they were written.
    expect(data.map((r) => r.quote?.split(' of ')[0])).toEqual(['report 0', 'report 1', 'report 2']);
    expect(data.every((r) => r.event_id === event.id)).toBe(true);
    expect(data.map((r) => r.id)).not.toContain(other.reports[0]!.id);
    // Oldest first: report ids are time-ordered.
    expect(data.map((r) => r.id)).toEqual([...data.map((r) => r.id)].sort());
  });

  it('appends reports added later at the end', async () => {
    const event = await eventWithReports(1);
    const added = await t.http
      .post(`/v1/events/${event.id}/reports`)
      .send(reportBody({ quote: 'added later' }))
      .expect(201);
    const response = await t.http.get(`/v1/events/${event.id}/reports`).expect(200);
    expect(response.body.data.map((r: Report) => r.id)).toEqual([event.reports[0]!.id, added.body.id]);
  });

  it('pages with limit and cursor: every report once, in order, with a Link to the next page', async () => {
    const event = await eventWithReports(5);
    const seen: string[] = [];
    let path: string | null = `/v1/events/${event.id}/reports?limit=2`;
    let pages = 0;
    while (path) {
      const response: Response = await t.http.get(path).expect(200);
      pages++;
      expect(response.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...response.body.data.map((r: Report) => r.id));
      if (response.body.next_cursor === null) {
        expect(response.headers.link).toBeUndefined();
        path = null;
      } else {
        const url: URL = new URL(nextLink(response.headers.link));
        expect(url.pathname).toBe(`/v1/events/${event.id}/reports`);
        expect(url.searchParams.get('cursor')).toBe(response.body.next_cursor);
        expect(url.searchParams.get('limit')).toBe('2');
        path = url.pathname + url.search;
      }
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(event.reports.map((r) => r.id));
  });

  it('404 for an unknown event, 400 for a non-uuid id', async () => {
    const problem = await expectProblem(t.http.get(`/v1/events/${ghost}/reports`), 404);
    expect(problem.type).toBe('/problems/not-found');
    const bad = await expectProblem(t.http.get('/v1/events/123/reports'), 400);
    expect(bad.errors).toContainEqual(expect.objectContaining({ path: '/id', in: 'path' }));
  });

  it('400 naming /cursor for a tampered cursor or one from another list', async () => {
    const event = await eventWithReports(1);
    const forged = Buffer.from(JSON.stringify(['id', 'x', ghost])).toString('base64url');
    const problem = await expectProblem(t.http.get(`/v1/events/${event.id}/reports`).query({ cursor: forged }), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/cursor', in: 'query' }));

    await t.http.post('/v1/events').send(eventBody()).expect(201);
    const events = await t.http.get('/v1/events?limit=1').expect(200);
    await expectProblem(t.http.get(`/v1/events/${event.id}/reports`).query({ cursor: events.body.next_cursor }), 400);
  });

  it('400 for limit 0 and for an unknown query parameter', async () => {
    const event = await eventWithReports(1);
    const zero = await expectProblem(t.http.get(`/v1/events/${event.id}/reports?limit=0`), 400);
    expect(zero.errors).toContainEqual(expect.objectContaining({ path: '/limit', in: 'query' }));
    const unknown = await expectProblem(t.http.get(`/v1/events/${event.id}/reports?stance=asserts`), 400);
    expect(unknown.errors).toContainEqual(expect.objectContaining({ path: '/stance', in: 'query' }));
  });
});

describe('POST /v1/events/{id}/reports', () => {
  it('201 with a Location; the event goes from version 1 to 2 and shows the new report', async () => {
    const event = await eventWithReports(1);
    expect(event.version).toBe(1);
    const before = await t.http.get(`/v1/events/${event.id}`).expect(200);
    expect(before.headers.etag).toBe('"1"');

    const reporter = { name: `Ukrainian General Staff ${unique()}`, kind: 'military', country: 'UKR' };
    const created = await t.http
      .post(`/v1/events/${event.id}/reports`)
      .send(
        reportBody({
          reporter,
          reporter_role: 'party',
          stance: 'denies',
          quote: 'No such capture took place.',
          stated_at: '2024-12-28T09:15:00+02:00',
          figures: [{ measure: 'captured', value: 0, qualifier: 'exact' }],
        }),
      )
      .expect(201);
    expect(created.headers['content-type']).toMatch(/^application\/json/);
    expect(created.headers.location).toBe(`/v1/reports/${created.body.id}`);
    expect(created.body).toMatchObject({
      event_id: event.id,
      reporter: { name: reporter.name, kind: 'military', country: 'UKR' },
      reporter_role: 'party',
      stance: 'denies',
      quote: 'No such capture took place.',
      stated_at: '2024-12-28T07:15:00.000Z',
      figures: [{ measure: 'captured', low: 0, best: 0, high: 0, qualifier: 'exact' }],
    });

    const after = await t.http.get(`/v1/events/${event.id}`).expect(200);
    expect(after.body.version).toBe(2);
    expect(after.headers.etag).toBe('"2"');
    expect(after.body.reports.map((r: Report) => r.id)).toEqual([event.reports[0]!.id, created.body.id]);
    expect(after.body.reports[1]).toEqual(created.body);
    expect(Date.parse(after.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(before.body.updated_at));

    // The old ETag no longer matches.
    await t.http.get(`/v1/events/${event.id}`).set('If-None-Match', '"1"').expect(200);
  });

  it('keeps the via chain in the order given', async () => {
    const event = await eventWithReports(1);
    const chain = [
      { name: `a friendly country ${unique()}`, kind: 'group' },
      { name: `a defector ${unique()}`, kind: 'person' },
      { name: `Voice of the Front ${unique()}`, kind: 'media', country: 'UKR' },
    ];
    const created = await t.http
      .post(`/v1/events/${event.id}/reports`)
      .send(reportBody({ via: chain }))
      .expect(201);
    expect(created.body.via.map((a: { name: string }) => a.name)).toEqual(chain.map((a) => a.name));
    const fetched = await t.http.get(`/v1/reports/${created.body.id}`).expect(200);
    expect(fetched.body.via.map((a: { name: string }) => a.name)).toEqual(chain.map((a) => a.name));
    expect(fetched.body.via[2]).toMatchObject({ kind: 'media', country: 'UKR' });
  });

  it('uses existing actors and documents by name, URL and id', async () => {
    const event = await eventWithReports(1);
    const url = `https://news.example.org/${unique()}`;
    const first = await t.http
      .post(`/v1/events/${event.id}/reports`)
      .send(reportBody({ document: { url, title: 'Original' } }))
      .expect(201);
    const second = await t.http
      .post(`/v1/events/${event.id}/reports`)
      .send(reportBody({ reporter: { id: first.body.reporter.id }, document: { url: `${url}#comments` } }))
      .expect(201);
    expect(second.body.reporter.id).toBe(event.reports[0]!.reporter.id);
    expect(second.body.document.id).toBe(first.body.document.id);
    expect(second.body.document.title).toBe('Original');
  });

  it('404 for an unknown event, and nothing is written', async () => {
    const before = await t.rowCounts();
    const problem = await expectProblem(
      t.http
        .post(`/v1/events/${ghost}/reports`)
        .send(reportBody({ reporter: { name: `Nobody ${unique()}`, kind: 'person' } })),
      404,
    );
    expect(problem.type).toBe('/problems/not-found');
    expect(problem.instance).toBe(`/v1/events/${ghost}/reports`);
    expect(await t.rowCounts()).toEqual(before);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown stance', { stance: 'confirms' }, '/stance'],
    ['a reliability out of A..F', { reliability: 'G' }, '/reliability'],
    ['a credibility out of 1..6', { credibility: 0 }, '/credibility'],
    ['an unknown field', { confidence: 0.9 }, '/confidence'],
    ['a via actor of unknown kind', { via: [{ name: 'someone', kind: 'ghost' }] }, '/via/0'],
    ['a figure with low above high', { figures: [{ measure: 'killed', low: 9, high: 3 }] }, '/figures/0/low'],
    ['a document that is not a URL', { document: { url: 'not a url' } }, '/document'],
    ['a stated_at that is not a date', { stated_at: 'last Tuesday' }, '/stated_at'],
  ])('400 naming the field for %s, and nothing changes', async (_name, override, pointer) => {
    const event = await eventWithReports(1);
    const before = await t.rowCounts();
    const problem = await expectProblem(t.http.post(`/v1/events/${event.id}/reports`).send(reportBody(override)), 400);
    expect(problem.type).toBe('/problems/invalid-input');
    const paths = (problem.errors ?? []).map((e) => e.path);
    expect(paths.some((path) => path === pointer || path.startsWith(`${pointer}/`))).toBe(true);
    expect(problem.errors!.every((e) => e.in === 'body')).toBe(true);
    expect(await t.rowCounts()).toEqual(before);
    const after = await t.http.get(`/v1/events/${event.id}`).expect(200);
    expect(after.body.version).toBe(1);
  });

  it('400 when the reporter is missing', async () => {
    const event = await eventWithReports(1);
    const { reporter: _omitted, ...body } = reportBody();
    const problem = await expectProblem(t.http.post(`/v1/events/${event.id}/reports`).send(body), 400);
    expect(problem.errors!.map((e) => e.path)).toContain('/reporter');
  });

  it('400 for a reference to an unknown actor or document; the version bump is rolled back', async () => {
    const event = await eventWithReports(1);
    const before = await t.rowCounts();
    const problem = await expectProblem(
      t.http.post(`/v1/events/${event.id}/reports`).send(
        reportBody({
          via: [{ name: `New source ${unique()}`, kind: 'group' }, { id: ghost }],
          document: { id: ghost },
        }),
      ),
      400,
    );
    expect(problem.errors!.map((e) => e.path).sort()).toEqual(['/document/id', '/via/1/id']);
    expect(await t.rowCounts()).toEqual(before);
    const after = await t.http.get(`/v1/events/${event.id}`).expect(200);
    expect(after.body.version).toBe(1);
    expect(after.body.reports).toHaveLength(1);
  });

  it('serialises concurrent additions: every report is kept and the version counts each', async () => {
    const event = await eventWithReports(1);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        t.http.post(`/v1/events/${event.id}/reports`).send(reportBody({ quote: `parallel ${i}` })),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const after = await t.http.get(`/v1/events/${event.id}`).expect(200);
    expect(after.body.version).toBe(6);
    expect(after.body.reports).toHaveLength(6);
  });
});

describe('GET /v1/reports/{id}', () => {
  it('200 with the report and its ETag', async () => {
    const event = await eventWithReports(2);
    const report = event.reports[1]!;
    const response = await t.http.get(`/v1/reports/${report.id}`).expect(200);
    expect(response.body).toEqual(report);
    expect(response.headers.etag).toBe('"1"');
    await t.http.get(`/v1/reports/${report.id}`).set('If-None-Match', '"1"').expect(304);
  });

  it('404 for an unknown id, 400 for a non-uuid id', async () => {
    const problem = await expectProblem(t.http.get(`/v1/reports/${ghost}`), 404);
    expect(problem.type).toBe('/problems/not-found');
    expect(problem.detail).toContain(ghost);
    await expectProblem(t.http.get('/v1/reports/first'), 400);
  });

  it('does not mistake an event id for a report id', async () => {
    const event = await eventWithReports(1);
    await expectProblem(t.http.get(`/v1/reports/${event.id}`), 404);
  });
});

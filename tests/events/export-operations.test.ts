// The export operations (GET /v1/events.csv, .ndjson, .geojson, .acled.csv) answer what
// GET /v1/events?format= answers, with the same filters and paging, in their one media type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBody, expectProblem, nextLink, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
const tag = `ops-${unique()}`;
beforeAll(async () => {
  t = await startTestApp();
  for (const day of ['2025-01-01', '2025-01-02', '2025-01-03'])
    await t.http
      .post('/v1/events')
      .send(eventBody({ title: `Event of ${day}`, occurred: { start: day }, tags: [tag] }))
      .expect(201);
});
afterAll(async () => {
  await t.close();
});

const FORMATS = [
  ['/v1/events.csv', 'csv', 'text/csv; charset=utf-8; header=present'],
  ['/v1/events.ndjson', 'ndjson', 'application/x-ndjson; charset=utf-8'],
  ['/v1/events.geojson', 'geojson', 'application/geo+json; charset=utf-8'],
  ['/v1/events.acled.csv', 'acled-csv', 'text/csv; charset=utf-8; header=present'],
] as const;

describe('export operations', () => {
  for (const [path, format, contentType] of FORMATS) {
    it(`${path} is format=${format}`, async () => {
      const own = await t.anonymous.get(`${path}?tag=${tag}&sort=occurred`).buffer(true).expect(200);
      const listed = await t.anonymous
        .get(`/v1/events?format=${format}&tag=${tag}&sort=occurred`)
        .buffer(true)
        .expect(200);
      expect(own.headers['content-type']).toBe(contentType);
      expect(own.text).toContain('Event of 2025-01-03');
      expect(own.text).toBe(listed.text);
      // A page, with a Link to the next on the same path.
      const page = await t.anonymous.get(`${path}?tag=${tag}&sort=occurred&limit=2`).buffer(true).expect(200);
      expect(page.text).not.toContain('Event of 2025-01-03');
      expect(new URL(nextLink(page.headers.link)).pathname).toBe(path);
      await expectProblem(t.anonymous.get(`${path}?type=captur`), 400);
      await expectProblem(t.anonymous.get(`${path}?format=csv`), 400);
    });
  }
});

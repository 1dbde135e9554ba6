// Exports of GET /v1/events: CSV (RFC 4180), NDJSON and GeoJSON (RFC 7946), chosen
// by format= or the Accept header; filters apply; without limit an export streams
// every matching event (over many chunks of the database stream); with limit it is one page.
import { parse } from 'csv-parse/sync';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/db/uuid.js';
import { EventSchema } from '../../src/modules/events/schemas.js';
import {
  actorBody,
  asText,
  deriveAfterRawWrites,
  documentBody,
  eventBody,
  expectProblem,
  nextLink,
  reportBody,
  walkPages,
} from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Event = ReturnType<typeof EventSchema.parse>;

let t: TestApp;
/** The hand-written events (not tagged bulk), by name. */
const events: Record<string, Event> = {};
const names: Record<string, string> = {};
/** Enough events that the database stream delivers them in many chunks. */
const BULK = 1200;
/** Bulk events with coordinates: every one but each third. */
const BULK_WITH_COORDINATES = BULK - Math.floor(BULK / 3);

const TRICKY_TITLE = 'Capture, "alleged", of two soldiers';
const TRICKY_DESCRIPTION = 'First line, with a comma\nSecond line with "quotes"\r\nThird line';

beforeAll(async () => {
  t = await startTestApp();
  names.ukr = `Ukrainian forces, "SSO" ${Date.now()}`;
  names.kpa = `Korean People's Army ${Date.now()}`;
  names.nis = `National Intelligence Service ${Date.now()}`;
  names.mod = `Ministry of Defence ${Date.now()}`;
  names.friend = `A friendly country ${Date.now()}`;
  const document = documentBody();
  events.rich = (
    await t.http
      .post('/v1/events')
      .send(
        eventBody({
          title: TRICKY_TITLE,
          description: TRICKY_DESCRIPTION,
          occurred: { start: '2024-12-26', precision: 'day' },
          location: {
            name: 'Sudzha',
            admin1: 'Kursk Oblast',
            country: 'RUS',
            lat: 51.6,
            lon: 36.1,
            precision: 'exact',
          },
          participants: [
            { actor: actorBody({ name: names.ukr, kind: 'military', country: 'UKR' }), role: 'perpetrator' },
            { actor: actorBody({ name: names.kpa, kind: 'military', country: 'PRK' }), role: 'victim' },
          ],
          figures: [
            { measure: 'captured', value: 2, qualifier: 'exact' },
            { measure: 'killed', low: 1, high: 3, qualifier: 'range' },
          ],
          reports: [
            reportBody({
              reporter: actorBody({ name: names.nis, kind: 'agency', country: 'KOR' }),
              via: [actorBody({ name: names.friend, kind: 'group' })],
              document,
              stated_at: '2024-12-27',
              quote: 'They said: "two, not one"',
              figures: [{ measure: 'killed', value: 3000, qualifier: 'more_than', text: 'more than 3,000' }],
            }),
            reportBody({
              reporter: actorBody({ name: names.mod, kind: 'agency', country: 'RUS' }),
              stance: 'denies',
              reliability: 'C',
            }),
          ],
          tags: ['pow', 'north-korea'],
        }),
      )
      .expect(201)
  ).body;
  events.death = (
    await t.http
      .post('/v1/events')
      .send(
        eventBody({
          type: 'death',
          title: 'Soldier died in custody',
          occurred: { start: '2024-12-29' },
          tags: ['custody'],
        }),
      )
      .expect(201)
  ).body;
  events.unplaced = (
    await t.http
      .post('/v1/events')
      .send(
        eventBody({
          type: 'statement',
          title: 'A statement from nowhere',
          occurred: { start: '2024-12-30' },
          location: undefined,
        }),
      )
      .expect(201)
  ).body;

  // The bulk: copies of the death event (with its report) written in two SQL statements, tagged bulk.
  const eventIds = Array.from({ length: BULK }, () => uuidv7());
  const reportIds = Array.from({ length: BULK }, () => uuidv7());
  await t.db.pool.query(
    `INSERT INTO events (id, type, title, description, status, occurred_start, occurred_end, occurred_precision,
                         location_name, admin1, admin2, country, lat, lon, location_precision, tags)
     SELECT x.id, e.type, 'Bulk event ' || x.n, e.description, e.status,
            e.occurred_start - (x.n % 40)::int, e.occurred_end - (x.n % 40)::int, e.occurred_precision,
            e.location_name, e.admin1, e.admin2, e.country,
            CASE WHEN x.n % 3 = 0 THEN NULL ELSE e.lat END, CASE WHEN x.n % 3 = 0 THEN NULL ELSE e.lon END,
            e.location_precision, ARRAY['bulk']
     FROM events e, unnest($2::uuid[]) WITH ORDINALITY AS x(id, n) WHERE e.id = $1`,
    [events.death!.id, eventIds],
  );
  await t.db.pool.query(
    `INSERT INTO reports (id, event_id, reporter_id, reporter_role, stance, reliability, credibility)
     SELECT x.report_id, x.event_id, r.reporter_id, r.reporter_role, r.stance, r.reliability, r.credibility
     FROM reports r, unnest($2::uuid[], $3::uuid[]) AS x(event_id, report_id) WHERE r.event_id = $1`,
    [events.death!.id, eventIds, reportIds],
  );
  await deriveAfterRawWrites(t.db.pool, eventIds);
});
afterAll(async () => {
  await t.close();
});

async function fetchText(query: string, accept?: string): Promise<Response & { body: string }> {
  let request = t.http.get(`/v1/events?${query}`).buffer(true).parse(asText);
  if (accept) request = request.set('Accept', accept);
  const response = await request;
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${response.body}`);
  return response;
}

type CsvRecord = Record<string, string>;

function parseCsv(text: string): { header: string[]; records: CsvRecord[] } {
  const rows: string[][] = parse(text);
  const [header, ...rest] = rows;
  const records = rest.map((row) => Object.fromEntries(header!.map((column, i) => [column, row[i]!])));
  // Every record has exactly as many fields as the header.
  for (const row of rest) expect(row).toHaveLength(header!.length);
  return { header: header!, records };
}

function parseNdjson(text: string): Event[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => EventSchema.parse(JSON.parse(line)));
}

/** Checks that events come in the default order: occurred start descending, then id descending. */
function expectDefaultOrder(list: { occurred: string; id: string }[]) {
  for (let i = 1; i < list.length; i++) {
    const [a, b] = [list[i - 1]!, list[i]!];
    expect(a.occurred > b.occurred || (a.occurred === b.occurred && a.id > b.id)).toBe(true);
  }
}

describe('CSV', () => {
  it('format=csv: text/csv, a header row, one RFC 4180 record per event', async () => {
    const response = await fetchText('format=csv&tag=pow,custody');
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const { header, records } = parseCsv(response.body);
    for (const column of [
      'id',
      'type',
      'title',
      'description',
      'lat',
      'lon',
      'participants',
      'figures',
      'reporters',
      'tags',
    ]) {
      expect(header).toContain(column);
    }
    expect(records.map((r) => r.id)).toEqual([events.death!.id, events.rich!.id]);
    expect(response.body).toContain('\r\n');
  });

  it('fields with commas, quotes and newlines round-trip', async () => {
    const { records } = parseCsv((await fetchText('format=csv&tag=pow')).body);
    expect(records).toHaveLength(1);
    const row = records[0]!;
    expect(row.title).toBe(TRICKY_TITLE);
    expect(row.description).toBe(TRICKY_DESCRIPTION);
    expect(row.type).toBe('capture');
    expect(row.occurred_start).toBe('2024-12-26');
    expect(Number(row.lat)).toBe(51.6);
    expect(Number(row.lon)).toBe(36.1);
    expect(row.country).toBe('RUS');
  });

  it('participants, figures, reporters and reported figures are readable', async () => {
    const row = parseCsv((await fetchText('format=csv&tag=pow')).body).records[0]!;
    expect(row.participants).toContain(`perpetrator: ${names.ukr}`);
    expect(row.participants).toContain(`victim: ${names.kpa}`);
    expect(row.figures).toMatch(/captured: 2\b/);
    expect(row.figures).toMatch(/killed: .*low 1.*high 3/);
    expect(row.reporters).toContain(names.nis);
    expect(row.reporters).toContain(names.mod);
    expect(row.reporters).toContain('denies');
    expect(row.via).toContain(names.friend);
    expect(row.reported_figures).toContain(names.nis);
    expect(row.reported_figures).toContain('3000');
    expect(row.reported_figures).toContain('more than 3,000');
    expect(row.documents).toBe(events.rich!.reports.find((r) => r.document)!.document!.url);
    expect(row.tags!.split('; ').sort()).toEqual(['north-korea', 'pow']);
    expect(Number(row.report_count)).toBe(2);
  });

  it('Accept: text/csv gives the same CSV', async () => {
    const byFormat = await fetchText('format=csv&tag=pow,custody');
    const byAccept = await fetchText('tag=pow,custody', 'text/csv');
    expect(byAccept.headers['content-type']).toMatch(/^text\/csv/);
    expect(byAccept.body).toBe(byFormat.body);
    expect(byAccept.headers.vary).toMatch(/accept/i);
  });

  it('an export with no match is the header row alone', async () => {
    const { header, records } = parseCsv((await fetchText('format=csv&type=prisoner_exchange')).body);
    expect(header.length).toBeGreaterThan(10);
    expect(records).toEqual([]);
  });
});

describe('NDJSON', () => {
  it('format=ndjson: each line is an Event, equal to its GET', async () => {
    const response = await fetchText('format=ndjson&tag=pow,custody');
    expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = parseNdjson(response.body);
    expect(lines.map((e) => e.id)).toEqual([events.death!.id, events.rich!.id]);
    expect(lines[1]).toEqual(events.rich);
    expect(lines[1]!.title).toBe(TRICKY_TITLE);
  });

  it('Accept: application/x-ndjson gives the same lines', async () => {
    const byAccept = await fetchText('tag=pow,custody', 'application/x-ndjson');
    expect(byAccept.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(byAccept.body).toBe((await fetchText('format=ndjson&tag=pow,custody')).body);
  });
});

describe('GeoJSON', () => {
  function parseGeoJson(text: string) {
    const collection = JSON.parse(text) as {
      type: string;
      features: { type: string; id: string; geometry: { type: string; coordinates: number[] }; properties: unknown }[];
    };
    expect(collection.type).toBe('FeatureCollection');
    expect(Array.isArray(collection.features)).toBe(true);
    for (const feature of collection.features) {
      expect(feature.type).toBe('Feature');
      expect(feature.geometry.type).toBe('Point');
      expect(feature.geometry.coordinates).toHaveLength(2);
      const [lon, lat] = feature.geometry.coordinates as [number, number];
      const event = EventSchema.parse(feature.properties);
      expect(feature.id).toBe(event.id);
      // RFC 7946: [longitude, latitude].
      expect([lon, lat]).toEqual([event.location.lon, event.location.lat]);
      expect(Math.abs(lon)).toBeLessThanOrEqual(180);
      expect(Math.abs(lat)).toBeLessThanOrEqual(90);
    }
    return collection;
  }

  it('format=geojson: a FeatureCollection of Points in [lon, lat] order, only events with coordinates', async () => {
    const response = await fetchText('format=geojson&tag=pow,custody');
    expect(response.headers['content-type']).toMatch(/^application\/geo\+json/);
    const collection = parseGeoJson(response.body);
    expect(collection.features.map((f) => f.id)).toEqual([events.death!.id, events.rich!.id]);
    expect(collection.features[1]!.geometry.coordinates).toEqual([36.1, 51.6]);
    expect(collection.features[1]!.properties).toEqual(events.rich);

    // The statement without a location is in the list but not in the GeoJSON.
    const list = await t.http.get('/v1/events?type=statement').expect(200);
    expect(list.body.data.map((e: Event) => e.id)).toEqual([events.unplaced!.id]);
    const none = parseGeoJson((await fetchText('format=geojson&type=statement')).body);
    expect(none.features).toEqual([]);
  });

  it('Accept: application/geo+json gives the same document', async () => {
    const byAccept = await fetchText('tag=pow,custody', 'application/geo+json');
    expect(byAccept.headers['content-type']).toMatch(/^application\/geo\+json/);
    expect(byAccept.body).toBe((await fetchText('format=geojson&tag=pow,custody')).body);
  });
});

describe('exports of everything that matches', () => {
  it(`without limit, CSV holds every matching event (${BULK}, across many chunks of the database stream)`, async () => {
    const { records } = parseCsv((await fetchText('format=csv&tag=bulk')).body);
    expect(records).toHaveLength(BULK);
    expect(new Set(records.map((r) => r.id)).size).toBe(BULK);
    expect(records.every((r) => r.title!.startsWith('Bulk event '))).toBe(true);
    expectDefaultOrder(records.map((r) => ({ occurred: r.occurred_start!, id: r.id! })));
  });

  it('without limit, NDJSON holds every event: the total of count=true', async () => {
    const lines = parseNdjson((await fetchText('format=ndjson')).body);
    const counted = await t.http.get('/v1/events?count=true&limit=1').expect(200);
    expect(counted.body.total).toBe(BULK + 3);
    expect(lines).toHaveLength(BULK + 3);
    expect(new Set(lines.map((e) => e.id)).size).toBe(BULK + 3);
    expectDefaultOrder(lines.map((e) => ({ occurred: e.occurred.start, id: e.id })));
  });

  it('a full export carries exactly the events the JSON pages carry', async () => {
    // Exports stream rows with COPY, pages are joined into an envelope: they must agree.
    const exported = parseNdjson((await fetchText('format=ndjson')).body);
    const { items: paged } = await walkPages<Event>(t.http, '/v1/events?limit=1000');
    expect(exported).toHaveLength(paged.length);
    expect(exported).toEqual(paged);
  });

  it('without limit, GeoJSON holds every matching event with coordinates', async () => {
    const collection = JSON.parse((await fetchText('format=geojson&tag=bulk')).body) as { features: { id: string }[] };
    expect(collection.features).toHaveLength(BULK_WITH_COORDINATES);
    expect(new Set(collection.features.map((f) => f.id)).size).toBe(BULK_WITH_COORDINATES);
  });

  it('filters apply to exports', async () => {
    const csv = parseCsv((await fetchText('format=csv&type=death')).body).records;
    expect(csv).toHaveLength(BULK + 1);
    expect(csv.every((r) => r.type === 'death')).toBe(true);
    const ndjson = parseNdjson((await fetchText('format=ndjson&occurred_from=2024-12-26&occurred_to=2024-12-26')).body);
    const expected = await t.http
      .get('/v1/events?occurred_from=2024-12-26&occurred_to=2024-12-26&limit=1000')
      .expect(200);
    expect(ndjson.map((e) => e.id)).toEqual(expected.body.data.map((e: Event) => e.id));
    expect(ndjson.map((e) => e.id)).toContain(events.rich!.id);
    expect(ndjson.length).toBeGreaterThan(1);
  });

  it('a sort applies to exports', async () => {
    const lines = parseNdjson((await fetchText('format=ndjson&tag=bulk&sort=occurred')).body);
    expect(lines).toHaveLength(BULK);
    for (let i = 1; i < lines.length; i++) {
      const [a, b] = [lines[i - 1]!, lines[i]!];
      expect(a.occurred.start < b.occurred.start || (a.occurred.start === b.occurred.start && a.id < b.id)).toBe(true);
    }
  });
});

describe('exports with limit', () => {
  it('with limit an export is one page with a Link header carrying the cursor', async () => {
    const first = await fetchText('format=csv&tag=bulk&limit=5');
    const page1 = parseCsv(first.body).records;
    expect(page1).toHaveLength(5);
    const url = new URL(nextLink(first.headers.link));
    expect(url.searchParams.get('format')).toBe('csv');
    expect(url.searchParams.get('limit')).toBe('5');
    expect(url.searchParams.get('cursor')).toEqual(expect.any(String));

    const second = await fetchText(url.search.slice(1));
    const page2 = parseCsv(second.body).records;
    expect(page2).toHaveLength(5);
    const json = await t.http.get('/v1/events?tag=bulk&limit=10').expect(200);
    expect([...page1, ...page2].map((r) => r.id)).toEqual(json.body.data.map((e: Event) => e.id));
  });

  it('NDJSON and GeoJSON pages too', async () => {
    const ndjson = await fetchText('format=ndjson&tag=bulk&limit=3');
    expect(parseNdjson(ndjson.body)).toHaveLength(3);
    expect(nextLink(ndjson.headers.link)).toContain('cursor=');
    const geojson = await fetchText('format=geojson&tag=bulk&limit=3');
    expect(JSON.parse(geojson.body).features).toHaveLength(3);
    expect(nextLink(geojson.headers.link)).toContain('cursor=');
  });

  it('the last page has no Link header', async () => {
    const response = await fetchText('format=csv&tag=pow&limit=5');
    expect(parseCsv(response.body).records).toHaveLength(1);
    expect(response.headers.link).toBeUndefined();
  });
});

describe('negotiation', () => {
  it('Accept: application/xml is 406 problem+json', async () => {
    const problem = await expectProblem(t.http.get('/v1/events').set('Accept', 'application/xml'), 406);
    expect(problem.type).toBe('/problems/not-acceptable');
  });

  it('Accept: text/csv;q=0.5, application/json picks JSON', async () => {
    const response = await t.http
      .get('/v1/events?tag=pow')
      .set('Accept', 'text/csv;q=0.5, application/json')
      .expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body.data.map((e: Event) => e.id)).toEqual([events.rich!.id]);
  });

  it('Accept: application/json;q=0.2, text/csv picks CSV', async () => {
    const response = await fetchText('tag=pow', 'application/json;q=0.2, text/csv');
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
  });

  it('no Accept and */* give JSON', async () => {
    const star = await t.http.get('/v1/events?tag=pow').set('Accept', '*/*').expect(200);
    expect(star.headers['content-type']).toMatch(/^application\/json/);
  });

  it('format= overrides Accept', async () => {
    const csv = await fetchText('format=csv&tag=pow', 'application/json');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const json = await t.http.get('/v1/events?format=json&tag=pow').set('Accept', 'text/csv').expect(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.body.data).toHaveLength(1);
    // Even an Accept that nothing here satisfies.
    const ndjson = await fetchText('format=ndjson&tag=pow', 'application/xml');
    expect(ndjson.headers['content-type']).toMatch(/^application\/x-ndjson/);
  });

  it('an unknown format is 400 naming /format', async () => {
    const problem = await expectProblem(t.http.get('/v1/events?format=xml'), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/format', in: 'query' }));
  });

  it('an invalid filter on an export is a 400 problem, not a broken file', async () => {
    const problem = await expectProblem(t.http.get('/v1/events?format=csv&occurred_from=soon'), 400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ path: '/occurred_from', in: 'query' }));
  });
});

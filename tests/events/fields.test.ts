// Sparse fieldsets (docs/data-model.md, Lists, filters and pages): fields= on lists, single reads and the NDJSON and GeoJSON exports
// picks members of the event JSON by dotted path; id is always there; unknown paths are a 400
// naming them; the CSV exports refuse it; a sparse read has an ETag of its own.
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_FIELD_PATHS } from '../../src/modules/events/fields.js';
import { EventSchema } from '../../src/modules/events/schemas.js';
import {
  asText,
  deriveAfterRawWrites,
  eventBody,
  expectProblem,
  postEvent,
  reportBody,
  unique,
  walkPages,
} from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Event = ReturnType<typeof EventSchema.parse>;
type Json = Record<string, unknown>;

let t: TestApp;
const tag = `fields-${unique()}`;
/** The events of this file, whole, by id. */
const full = new Map<string, Event>();
const ids: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  const bodies = [
    eventBody({ tags: [tag], occurred: { start: '2024-12-24', precision: 'day' } }),
    eventBody({
      tags: [tag],
      type: 'death',
      title: 'Soldier killed, "reportedly", near Sudzha',
      occurred: { start: '2024-12-25', end: '2024-12-27', precision: 'range' },
      location: {
        name: 'Sudzha',
        admin1: 'Kursk Oblast',
        admin3: 'Sudzha urban okrug',
        country: 'RUS',
        lat: 51.19,
        lon: 35.27,
        precision: 'exact',
      },
      reports: [
        reportBody(),
        reportBody({ stance: 'denies', reporter: { name: `Denier ${unique()}`, kind: 'agency' } }),
      ],
    }),
    // No coordinates: left out of GeoJSON.
    eventBody({
      tags: [tag],
      occurred: { start: '2024-12-26', precision: 'day' },
      location: { country: 'RUS', precision: 'country' },
    }),
    eventBody({ tags: [tag], occurred: { start: '2024-12-27', precision: 'day' } }),
    eventBody({ tags: [tag], occurred: { start: '2024-12-28', precision: 'day' } }),
  ];
  for (const [i, body] of bodies.entries()) ids.push(await postEvent(t.http, `event ${i}`, body));
  for (const id of ids) full.set(id, EventSchema.parse((await t.http.get(`/v1/events/${id}`).expect(200)).body));
});
afterAll(async () => {
  await t.close();
});

/** The members `paths` select from a whole event, picked here from its JSON (what the server must send). */
function pick(event: Json, paths: string[]): Json {
  const out: Json = {};
  for (const path of ['id', ...paths]) {
    const keys = path.split('.');
    let from = event;
    let to = out;
    keys.forEach((key, i) => {
      if (i === keys.length - 1) to[key] = from[key];
      else {
        to[key] ??= {};
        to = to[key] as Json;
        from = from[key] as Json;
      }
    });
  }
  return out;
}

const list = (query: string) => t.http.get(`/v1/events?tag=${tag}&sort=occurred&${query}`);

async function fetchText(path: string): Promise<Response & { body: string }> {
  const response = await t.http.get(path).buffer(true).parse(asText);
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${String(response.body)}`);
  return response;
}

describe('fields= on the list', () => {
  it('sends only the members asked for, nested objects keeping their nesting, and id always', async () => {
    const paths = ['type', 'occurred.start', 'location.lat', 'location.lon', 'location.admin1', 'status'];
    const { body } = await list(`fields=${paths.join(',')}`).expect(200);
    expect(body.data).toHaveLength(ids.length);
    for (const item of body.data as Json[]) {
      const whole = full.get(item.id as string)!;
      expect(Object.keys(item).sort()).toEqual(['id', 'location', 'occurred', 'status', 'type']);
      expect(Object.keys(item.location as Json).sort()).toEqual(['admin1', 'lat', 'lon']);
      expect(item).toEqual(pick(whole, paths));
      expect(item.type).toBe(whole.type);
      expect(item.occurred).toEqual({ start: whole.occurred.start });
    }
    // The death event's exact point, as stored.
    expect((body.data as Json[])[1]!.location).toEqual({ lat: 51.19, lon: 35.27, admin1: 'Kursk Oblast' });
  });

  it('sends an object, an array or the external ids whole when its path is named', async () => {
    const { body } = await list('fields=occurred,location,reports,external_ids,tags').expect(200);
    expect(body.data).toHaveLength(ids.length);
    for (const item of body.data as Json[]) {
      const whole = full.get(item.id as string)!;
      expect(Object.keys(item).sort()).toEqual(['external_ids', 'id', 'location', 'occurred', 'reports', 'tags']);
      expect(item.occurred).toEqual(whole.occurred);
      expect(item.location).toEqual(whole.location);
      expect(item.reports).toEqual(whole.reports);
      expect((item.reports as unknown[]).length).toBeGreaterThan(0);
      expect(item.tags).toEqual([tag]);
    }
  });

  it('selects location.admin3 like the other members of location: on a page, a single read and the NDJSON export', async () => {
    const paths = ['location.admin2', 'location.admin3'];
    const { body } = await list(`fields=${paths.join(',')}`).expect(200);
    expect(body.data).toHaveLength(ids.length);
    expect(body.data).toEqual(ids.map((id) => pick(full.get(id)!, paths)));
    expect((body.data as Json[])[1]).toEqual({ id: ids[1], location: { admin2: null, admin3: 'Sudzha urban okrug' } });
    const one = await t.http.get(`/v1/events/${ids[1]}?fields=location.admin3`).expect(200);
    expect(one.body).toEqual({ id: ids[1], location: { admin3: 'Sudzha urban okrug' } });
    const lines = (await fetchText(`/v1/events.ndjson?tag=${tag}&sort=occurred&fields=location.admin3`)).body;
    expect(
      lines
        .trim()
        .split('\n')
        .map((line: string) => JSON.parse(line) as Json),
    ).toEqual(ids.map((id) => pick(full.get(id)!, ['location.admin3'])));
  });

  it('keeps an object whole when its path and a path inside it are both named, and a repeated path once', async () => {
    const { body } = await list('fields=location.lat,location,status&fields=status').expect(200);
    const item = (body.data as Json[])[1]!;
    expect(item).toEqual({ id: ids[1], location: full.get(ids[1]!)!.location, status: full.get(ids[1]!)!.status });
  });

  it('sends the whole event, member for member, when every path is named (from the row where it can, the stored JSON else)', async () => {
    for (const paths of [
      EVENT_FIELD_PATHS,
      EVENT_FIELD_PATHS.filter((path) => path.includes('.')),
      ['occurred', 'location', 'tags'],
    ]) {
      const { body } = await list(`fields=${paths.join(',')}`).expect(200);
      expect(body.data).toHaveLength(ids.length);
      expect(body.data).toEqual(ids.map((id) => pick(full.get(id)!, paths)));
      const one = await t.http.get(`/v1/events/${ids[1]}?fields=${paths.join(',')}`).expect(200);
      expect(one.body).toEqual(pick(full.get(ids[1]!)!, paths));
    }
    const every = (await list(`fields=${EVENT_FIELD_PATHS.join(',')}`).expect(200)).body.data as Json[];
    expect(every.map((event) => EventSchema.parse(event))).toEqual(ids.map((id) => full.get(id)));
  });

  it('sends id alone for fields=id, and the whole event without fields', async () => {
    const sparse = await list('fields=id').expect(200);
    expect(sparse.body.data).toEqual(ids.map((id) => ({ id })));
    const whole = await list('').expect(200);
    expect(whole.body.data.map((event: unknown) => EventSchema.parse(event))).toEqual(ids.map((id) => full.get(id)));
  });

  it('is smaller than the full page', async () => {
    const sparse = await fetchText(`/v1/events?tag=${tag}&fields=id,type,occurred,location,status`);
    const whole = await fetchText(`/v1/events?tag=${tag}`);
    expect(sparse.body.length).toBeGreaterThan(0);
    expect(sparse.body.length * 2).toBeLessThan(whole.body.length);
  });

  it('leaves cursor pages as they are: the same events in the same pages, the Link keeping fields', async () => {
    const sparse = await walkPages<Json>(t.http, `/v1/events?tag=${tag}&sort=occurred&limit=2&fields=status`, {
      fields: 'status',
      tag,
    });
    const whole = await walkPages<Event>(t.http, `/v1/events?tag=${tag}&sort=occurred&limit=2`);
    expect(sparse.pages).toBe(3);
    expect(sparse.pages).toBe(whole.pages);
    expect(sparse.items.map((item) => item.id)).toEqual(ids);
    expect(sparse.items.map((item) => item.id)).toEqual(whole.items.map((item) => item.id));
    expect(sparse.items).toEqual(whole.items.map((event) => ({ id: event.id, status: event.status })));
    // A cursor of a full page serves a sparse one, and the other way round: the cursor is the position, not the shape.
    const first = await list('limit=2').expect(200);
    const next = await list(`limit=2&fields=type&cursor=${encodeURIComponent(first.body.next_cursor)}`).expect(200);
    expect(next.body.data).toEqual(ids.slice(2, 4).map((id) => ({ id, type: full.get(id)!.type })));
  });

  it('projects events whose JSON is not stored yet (rendered NULL) as the stored ones', async () => {
    const before = (await list('fields=title,location.country,report_count').expect(200)).body.data as Json[];
    await t.db.pool.query(`UPDATE events SET rendered = NULL WHERE id = $1`, [ids[1]]);
    try {
      const after = (await list('fields=title,location.country,report_count').expect(200)).body.data as Json[];
      expect(after).toHaveLength(ids.length);
      expect(after).toEqual(before);
      const one = await t.http.get(`/v1/events/${ids[1]}?fields=title`).expect(200);
      expect(one.body).toEqual({ id: ids[1], title: full.get(ids[1]!)!.title });
      const lines = (
        await fetchText(`/v1/events.ndjson?tag=${tag}&sort=occurred&fields=title,location.country,report_count`)
      ).body;
      expect(
        lines
          .trim()
          .split('\n')
          .map((line: string) => JSON.parse(line) as Json),
      ).toEqual(before);
    } finally {
      await deriveAfterRawWrites(t.db.pool, [ids[1]!]);
    }
  });
});

describe('fields= that are not paths of an event', () => {
  it('is a 400 naming each unknown path, with the valid ones, and a path into an array says it is selected whole', async () => {
    const problem = await expectProblem(list('fields=id,nope,reports.stance,location.altitude,type'), 400);
    const messages = (problem.errors ?? []).map((error) => error.message);
    expect(messages).toHaveLength(3);
    for (const path of ['nope', 'reports.stance', 'location.altitude']) {
      const message = messages.find((text) => text.includes(`"${path}"`));
      expect(message, path).toBeDefined();
      expect(message).toContain(EVENT_FIELD_PATHS.join(', '));
    }
    expect(messages.find((text) => text.includes('"reports.stance"'))).toMatch(/reports is selected whole/);
    expect((problem.errors ?? []).every((error) => error.path === '/fields')).toBe(true);
  });

  it('is a 400 for an empty fields, and on a single read, the NDJSON and GeoJSON exports alike', async () => {
    await expectProblem(list('fields='), 400);
    await expectProblem(t.http.get(`/v1/events/${ids[0]}?fields=titel`), 400);
    for (const path of ['/v1/events.ndjson', '/v1/events.geojson'])
      await expectProblem(t.http.get(`${path}?fields=id,Type`), 400);
    await expectProblem(list('format=ndjson&fields=relations.event_id'), 400);
  });
});

describe('fields= on a single read', () => {
  it('sends the members asked for, with an ETag of their own, accepted as If-Match for that version', async () => {
    const id = ids[1]!;
    const whole = await t.http.get(`/v1/events/${id}`).expect(200);
    const sparse = await t.http.get(`/v1/events/${id}?fields=title,occurred.end,location.name`).expect(200);
    const whole_ = full.get(id)!;
    expect(sparse.body).toEqual({
      id,
      title: whole_.title,
      occurred: { end: '2024-12-27' },
      location: { name: 'Sudzha' },
    });
    const other = await t.http.get(`/v1/events/${id}?fields=title`).expect(200);
    expect(other.body).toEqual({ id, title: whole_.title });

    const tags = [whole.headers.etag, sparse.headers.etag, other.headers.etag];
    expect(tags.every((tag_) => typeof tag_ === 'string' && tag_.startsWith(`"${whole_.version}`))).toBe(true);
    expect(new Set(tags).size).toBe(3);

    // If-None-Match: a copy of another selection is not this one; the same selection, in any order, is.
    await t.http.get(`/v1/events/${id}?fields=title`).set('If-None-Match', whole.headers.etag!).expect(200);
    await t.http.get(`/v1/events/${id}`).set('If-None-Match', other.headers.etag!).expect(200);
    await t.http.get(`/v1/events/${id}?fields=title`).set('If-None-Match', sparse.headers.etag!).expect(200);
    const notModified = await t.http
      .get(`/v1/events/${id}?fields=location.name,occurred.end,title,id`)
      .set('If-None-Match', sparse.headers.etag!)
      .expect(304);
    expect(notModified.headers.etag).toBe(sparse.headers.etag);
    await t.http.get(`/v1/events/${id}`).set('If-None-Match', whole.headers.etag!).expect(304);

    // The sparse ETag names the version read: a write may send it.
    const patched = await t.http
      .patch(`/v1/events/${id}`)
      .set('If-Match', other.headers.etag!)
      .send({ title: 'Soldier killed near Sudzha' })
      .expect(200);
    expect(patched.body.version).toBe(whole_.version + 1);
    const stale = await expectProblem(
      t.http.patch(`/v1/events/${id}`).set('If-Match', other.headers.etag!).send({ title: 'Another title' }),
      412,
    );
    expect(stale.current_version).toBe(whole_.version + 1);
    const after = await t.http
      .get(`/v1/events/${id}?fields=title`)
      .set('If-None-Match', other.headers.etag!)
      .expect(200);
    expect(after.body).toEqual({ id, title: 'Soldier killed near Sudzha' });
    full.set(id, EventSchema.parse((await t.http.get(`/v1/events/${id}`).expect(200)).body));
  });

  it('projects a past state (as_of) the same way', async () => {
    const id = await postEvent(t.http, 'as_of', eventBody({ title: 'First title' }));
    const first = await t.http.get(`/v1/events/${id}`).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await t.http
      .patch(`/v1/events/${id}`)
      .set('If-Match', first.headers.etag!)
      .send({ title: 'Second title' })
      .expect(200);
    const past = await t.http.get(`/v1/events/${id}?as_of=${between}&fields=title,version,location.lat`).expect(200);
    expect(past.body).toEqual({ id, title: 'First title', version: 1, location: { lat: 51.6 } });
    expect(past.headers.etag).not.toBe(first.headers.etag);
    const now = await t.http.get(`/v1/events/${id}?fields=title,version`).expect(200);
    expect(now.body).toEqual({ id, title: 'Second title', version: 2 });
  });

  it('answers a deleted event with its whole tombstone, fields or not', async () => {
    const id = await postEvent(t.http, 'deleted', eventBody());
    await t.http.delete(`/v1/events/${id}`).set('If-Match', '"1"').send({ reason: 'duplicate' }).expect(204);
    const problem = await expectProblem(t.http.get(`/v1/events/${id}?fields=title`), 410);
    expect(problem.reason).toBe('duplicate');
  });
});

describe('fields= on the exports', () => {
  const paths = ['type', 'occurred', 'location.lat', 'location.lon', 'status'];

  it('selects the members of each NDJSON line, by format= and by the export operation, streamed or paged', async () => {
    for (const path of [
      `/v1/events?tag=${tag}&sort=occurred&format=ndjson&fields=${paths.join(',')}`,
      `/v1/events.ndjson?tag=${tag}&sort=occurred&fields=${paths.join(',')}`,
      `/v1/events.ndjson?tag=${tag}&sort=occurred&limit=10&fields=${paths.join(',')}`,
    ]) {
      const { body } = await fetchText(path);
      const lines = body
        .trim()
        .split('\n')
        .map((line: string) => JSON.parse(line) as Json);
      expect(lines).toHaveLength(ids.length);
      expect(lines).toEqual(ids.map((id) => pick(full.get(id)!, paths)));
    }
  });

  it('selects the properties of each GeoJSON Feature, the geometry always there', async () => {
    const withPoints = ids.filter((id) => full.get(id)!.location.lat !== null);
    expect(withPoints).toHaveLength(ids.length - 1);
    for (const path of [
      `/v1/events?tag=${tag}&sort=occurred&format=geojson&fields=status`,
      `/v1/events.geojson?tag=${tag}&sort=occurred&fields=status`,
      `/v1/events.geojson?tag=${tag}&sort=occurred&limit=2&fields=status`,
    ]) {
      const { body } = await fetchText(path);
      const collection = JSON.parse(body) as {
        features: { id: string; geometry: { coordinates: number[] }; properties: Json }[];
      };
      const expected = path.includes('limit=2') ? withPoints.slice(0, 2) : withPoints;
      expect(collection.features.map((feature) => feature.id)).toEqual(expected);
      for (const feature of collection.features) {
        const whole = full.get(feature.id)!;
        expect(feature.properties).toEqual({ id: feature.id, status: whole.status });
        expect(feature.geometry.coordinates).toEqual([whole.location.lon, whole.location.lat]);
      }
    }
  });

  it('is a 400 with the CSV exports, whose columns are fixed', async () => {
    for (const query of ['format=csv&fields=id,type', 'format=acled-csv&fields=type']) {
      const problem = await expectProblem(list(query), 400);
      expect(problem.errors).toEqual([
        expect.objectContaining({ path: '/fields', message: expect.stringMatching(/not (acled-)?csv/) }),
      ]);
    }
    const negotiated = await expectProblem(list('fields=type').set('Accept', 'text/csv'), 400);
    expect(negotiated.errors?.[0]?.path).toBe('/fields');
    for (const path of ['/v1/events.csv', '/v1/events.acled.csv']) {
      const problem = await expectProblem(t.http.get(`${path}?tag=${tag}&fields=type`), 400);
      expect(JSON.stringify(problem)).toContain('fields');
    }
    // The CSV itself is unchanged by the refusal: every event, every column.
    const csv = await fetchText(`/v1/events.csv?tag=${tag}`);
    expect(csv.body.trim().split('\r\n')).toHaveLength(ids.length + 1);
  });
});

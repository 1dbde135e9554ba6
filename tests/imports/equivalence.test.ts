// A bulk import must be indistinguishable from creating the same events one by one with
// POST /v1/events: the same events, reports, actors and documents as served, the same
// revisions, and the same entries in the change feed (ids and timestamps aside). Two
// databases start alike; one imports the lines in small batches, the other gets them posted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEvents } from '../../src/modules/imports/import.js';
import type { ImportRecord } from '../../src/modules/imports/records.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { readFeed, type Change } from '../helpers/feed.js';
import { eventBody, reportBody } from '../helpers/fixtures.js';

let imported: TestApp;
let posted: TestApp;
beforeAll(async () => {
  [imported, posted] = await Promise.all([startTestApp(), startTestApp()]);
});
afterAll(async () => {
  await Promise.all([imported?.close(), posted?.close()]);
});

interface Seeded {
  actor: string;
  document: string;
  base: string;
}

/** What each database has before the import: an actor and a document to name by id, an event to relate to. */
async function seed(t: TestApp): Promise<Seeded> {
  const actor = (
    await t.http.post('/v1/actors').send({ name: 'Seeded agency', kind: 'agency', country: 'UKR' }).expect(201)
  ).body;
  const document = (
    await t.http.post('/v1/documents').send({ url: 'https://example.org/seeded', title: 'Seeded' }).expect(201)
  ).body;
  const base = (
    await t.http
      .post('/v1/events')
      .send(eventBody({ title: 'Base event' }))
      .expect(201)
  ).body;
  return { actor: actor.id, document: document.id, base: base.id };
}

const kpa = { name: "Korean People's Army", kind: 'military', country: 'PRK' };

/** Event bodies that exercise every part of a create, each with an external id to find it by. */
function bodies(s: Seeded): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [
    eventBody({ title: 'Plain capture' }),
    eventBody({
      title: 'Everything nested',
      description: 'Two unrelated reporters assert it, so the evidence says corroborated.',
      occurred: { start: '2024-12-01', end: '2024-12-08', precision: 'week' },
      participants: [
        { actor: kpa, role: 'victim' },
        // The same actor again, written otherwise: found by its normalised name, and counted once in one role.
        { actor: { name: '  KOREAN  People\u2019s army ', kind: 'military' }, role: 'victim' },
        {
          actor: { name: 'Ukrainian Special Operations Forces', kind: 'military', country: 'UKR', aliases: ['SSO'] },
          role: 'perpetrator',
        },
      ],
      figures: [
        { measure: 'captured', value: 2, qualifier: 'exact', subject: kpa },
        { measure: 'killed', low: 3, high: 10, text: 'between 3 and 10' },
        { measure: 'equipment', value: 5, qualifier: 'more_than', unit: 'drones' },
      ],
      reports: [
        reportBody({
          via: [
            { name: 'a friendly country', kind: 'group' },
            { name: 'Unnamed officials', kind: 'group' },
          ],
          document: {
            url: 'https://example.org/shared#first-mention',
            title: 'First title',
            publisher: 'Wire',
            published_at: '2024-12-09',
          },
          stated_at: '2024-12-09T10:15:30.1239+02:00',
          quote: 'Two soldiers were captured.',
          figures: [{ measure: 'captured', value: 2, qualifier: 'approximately', text: 'about two' }],
        }),
        reportBody({
          reporter: { name: 'An Independent Monitor', kind: 'media', external_ids: { wikidata: 'Q1' } },
          reporter_role: 'independent',
          stated_at: '2024-12-10',
          document: { id: s.document },
        }),
        reportBody({ reporter: { id: s.actor }, stance: 'denies', reliability: 'F', credibility: 6 }),
      ],
      tags: ['pow', 'pow', 'north-korea'],
      relations: [
        { event_id: s.base, relation: 'follows' },
        { event_id: s.base, relation: 'follows' },
        { event_id: s.base, relation: 'contradicts' },
      ],
    }),
    eventBody({
      title: 'Set by an editor',
      status: 'contested',
      location: { name: 'Somewhere at sea', precision: 'water' },
    }),
    eventBody({
      title: 'No location',
      location: undefined,
      participants: [{ actor: { id: s.actor }, role: 'sender' }],
    }),
    eventBody({
      title: 'Later mentions of known actors and documents',
      participants: [{ actor: { ...kpa, country: 'RUS', aliases: ['KPA'] }, role: 'subject' }],
      reports: [reportBody({ document: { url: 'https://example.org/shared', title: 'Another title' } })],
    }),
    eventBody({
      title: 'New actor, first mention',
      participants: [{ actor: { name: 'Brand new unit', kind: 'unit', country: 'RUS' }, role: 'target' }],
    }),
    eventBody({
      title: 'New actor, second mention',
      participants: [{ actor: { name: 'brand NEW unit', kind: 'unit', country: 'UKR' }, role: 'target' }],
    }),
    eventBody({
      title: 'Unclear report',
      reports: [reportBody({ stance: 'unclear', reliability: null, credibility: null })],
    }),
    eventBody({
      title: 'Two asserting through the same source',
      reports: [reportBody({ via: [kpa] }), reportBody({ reporter: kpa })],
    }),
  ];
  return list.map((body, i) => ({ ...body, external_ids: { eqv: String(i + 1) } }));
}

async function* recordsOf(lines: Record<string, unknown>[]): AsyncIterable<ImportRecord> {
  for (const [i, value] of lines.entries()) yield { line: i + 1, value };
}

/** Replaces each UUID by its rank of first appearance and drops the timestamps the two databases cannot share. */
class Canonical {
  private readonly ids = new Map<string, string>();
  of(value: unknown): unknown {
    if (typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) {
      if (!this.ids.has(value)) this.ids.set(value, `uuid#${this.ids.size + 1}`);
      return this.ids.get(value);
    }
    if (Array.isArray(value)) return value.map((item) => this.of(item));
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([key]) => !['created_at', 'updated_at', 'at'].includes(key))
          .map(([key, item]) => [key, this.of(item)]),
      );
    }
    return value;
  }
  /** The original id of a canonical one. */
  idOf(canonical: string): string {
    for (const [id, name] of this.ids) if (name === canonical) return id;
    throw new Error(`no id is ${canonical}`);
  }
  get names(): string[] {
    return [...this.ids.values()];
  }
}

const changesSince = async (t: TestApp, since: string): Promise<Change[]> => (await readFeed(t.http, since)).changes;

describe('a bulk import', () => {
  it('gives the same events, reports, revisions, actors, documents, feed entries, derived columns and stats as posting the events one by one', async () => {
    const [seededA, seededB] = [await seed(imported), await seed(posted)];
    const feedEnd = async (t: TestApp) =>
      String((await t.http.get('/v1/changes?limit=1000').expect(200)).body.next_cursor);
    const [sinceA, sinceB] = [await feedEnd(imported), await feedEnd(posted)];
    const linesA = bodies(seededA);
    const linesB = bodies(seededB);

    // Batches of 4: actors and documents first named in one batch are found again in the next.
    const report = await importEvents(imported.db, 'test-editor', recordsOf(linesA), { atomic: false, batchSize: 4 });
    expect(report).toEqual({ accepted: linesA.length, rejected: 0, skipped: 0, errors: [] });
    for (const body of linesB) await posted.http.post('/v1/events').send(body).expect(201);

    const [a, b] = [new Canonical(), new Canonical()];
    for (const [canonical, seeded] of [
      [a, seededA],
      [b, seededB],
    ] as const) {
      canonical.of([seeded.actor, seeded.document, seeded.base]);
    }
    const served = async (t: TestApp, canonical: Canonical, i: number) => {
      const page = (await t.http.get(`/v1/events?external_id=eqv:${i}`).expect(200)).body.data;
      expect(page).toHaveLength(1);
      const event = (await t.http.get(`/v1/events/${page[0].id}`).expect(200)).body;
      const revisions = (await t.http.get(`/v1/events/${page[0].id}/revisions`).expect(200)).body.data;
      return { event: canonical.of(event), revisions: canonical.of(revisions) };
    };
    for (let i = 1; i <= linesA.length; i++) {
      const [fromImport, fromPosts] = [await served(imported, a, i), await served(posted, b, i)];
      expect(fromImport.event, `event ${i}`).toEqual(fromPosts.event);
      expect(fromImport.revisions, `revisions of event ${i}`).toEqual(fromPosts.revisions);
    }
    const nested = (await served(imported, new Canonical(), 2)).event as {
      status: string;
      participants: unknown[];
      reports: unknown[];
    };
    expect(nested.status).toBe('corroborated');
    expect(nested.participants).toHaveLength(2);

    // Every actor and document the events name, as served.
    expect(a.names).toEqual(b.names);
    for (const name of a.names) {
      const [idA, idB] = [a.idOf(name), b.idOf(name)];
      for (const kind of ['actors', 'documents']) {
        const [one, other] = await Promise.all([
          imported.http.get(`/v1/${kind}/${idA}`),
          posted.http.get(`/v1/${kind}/${idB}`),
        ]);
        expect(one.status).toBe(other.status);
        if (one.status === 200) expect(a.of(one.body), `${kind} ${name}`).toEqual(b.of(other.body));
      }
    }

    // The feed: the same changes (which resource, created, version 1), in commit order within each database.
    const feed = async (t: TestApp, since: string, canonical: Canonical) =>
      (await changesSince(t, since))
        .map((c) => `${c.resource} ${canonical.of(c.id) as string} ${c.action} v${c.version}`)
        .sort();
    const [feedA, feedB] = [await feed(imported, sinceA, a), await feed(posted, sinceB, b)];
    expect(feedA).toEqual(feedB);
    expect(feedA.filter((entry) => entry.startsWith('event '))).toHaveLength(linesA.length);
    expect(feedA.every((entry) => / created v1$/.test(entry))).toBe(true);
    // Nothing in the feed is unknown to the events served: ids all canonical.
    expect(feedA.some((entry) => / [0-9a-f]{8}-/.test(entry))).toBe(false);

    // Every revision the writes recorded (actors', documents' and reports' too, which no route serves): the same
    // states and changed fields. Revisions of created resources skip the previous-state lookup (changes/record.ts).
    const revisions = async (t: TestApp, canonical: Canonical) => {
      const { rows } = await t.db.pool.query<Record<string, unknown>>(
        `SELECT resource::text AS resource, resource_id::text AS resource_id, version, action::text AS action, author, state,
                changed_fields
         FROM revisions WHERE resource_id = ANY($1::uuid[])`,
        [canonical.names.map((name) => canonical.idOf(name))],
      );
      return (canonical.of(rows) as Record<string, unknown>[]).sort((x, y) =>
        `${x.resource as string} ${x.resource_id as string} ${x.version as number}`.localeCompare(
          `${y.resource as string} ${y.resource_id as string} ${y.version as number}`,
        ),
      );
    };
    const [revisionsA, revisionsB] = [await revisions(imported, a), await revisions(posted, b)];
    expect(revisionsA.filter((revision) => revision.resource === 'report').length).toBeGreaterThan(linesA.length);
    expect(revisionsA).toEqual(revisionsB);

    // The reports as listed, the derived columns as stored, and the stats as served and as stored.
    const reports = async (t: TestApp, canonical: Canonical) => {
      const lists = [];
      for (let i = 1; i <= linesA.length; i++) {
        const id = (await t.http.get(`/v1/events?external_id=eqv:${i}`).expect(200)).body.data[0].id;
        lists.push((await t.http.get(`/v1/events/${id}/reports`).expect(200)).body.data);
      }
      return canonical.of(lists) as unknown[][];
    };
    const [reportsA, reportsB] = [await reports(imported, a), await reports(posted, b)];
    expect(reportsA.flat().length).toBeGreaterThan(linesA.length);
    expect(reportsA).toEqual(reportsB);

    const derived = async (t: TestApp, canonical: Canonical) => {
      const { rows } = await t.db.pool.query(
        `SELECT x.external_id, e.status, e.status_source, e.search::text AS search, e.reporter_ids, e.via_ids, e.rendered_csv
           FROM events e JOIN event_external_ids x ON x.event_id = e.id AND x.source = 'eqv' ORDER BY x.external_id::int`,
      );
      // The CSV record holds the event's id and timestamps as text: only the canonical JSON can hide them.
      // reporter_ids and via_ids are sets stored sorted by id, and ids sort differently in each database: compared as sets.
      return (canonical.of(rows) as Record<string, unknown>[]).map(
        ({ rendered_csv, reporter_ids, via_ids, ...row }) => ({
          ...row,
          reporter_ids: [...(reporter_ids as string[])].sort(),
          via_ids: [...(via_ids as string[])].sort(),
          csv_fields: (rendered_csv as string).split(',').length,
        }),
      );
    };
    const [derivedA, derivedB] = [await derived(imported, a), await derived(posted, b)];
    expect(derivedA).toHaveLength(linesA.length);
    expect(derivedA.every((row) => /\S/.test(String((row as Record<string, unknown>).search)))).toBe(true);
    expect(derivedA).toEqual(derivedB);

    const stats = async (t: TestApp) => ({
      served: [
        (await t.http.get('/v1/stats/events?group_by=period,type,status&interval=day').expect(200)).body.data,
        (await t.http.get('/v1/stats/events?group_by=country,admin1').expect(200)).body.data,
      ],
      daily: (await t.db.pool.query(`SELECT day::text, type, events, reports FROM daily_event_stats ORDER BY 1, 2`))
        .rows,
      figures: (
        await t.db.pool.query(
          `SELECT day::text, type, measure, events, low, low_n, best, best_n, high, high_n FROM daily_figure_stats ORDER BY 1, 2, 3`,
        )
      ).rows,
    });
    const [statsA, statsB] = [await stats(imported), await stats(posted)];
    expect(statsA.daily.length).toBeGreaterThan(1);
    expect(statsA.figures.length).toBeGreaterThan(0);
    expect(statsA.served[0].length).toBeGreaterThan(1);
    expect(statsA).toEqual(statsB);
  }, 120_000);
});

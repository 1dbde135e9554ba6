import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { asText, eventBody, reportBody, unique } from '../helpers/fixtures.js';
import { CSV_COLUMNS } from '../../src/modules/events/render/csv.js';
import { REFRESH_EVENTS, renderMissingEvents } from '../../src/modules/events/refresh.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('POST /v1/events', () => {
  it('creates an event with nested reports, participants, figures and tags, and reads it back', async () => {
    const body = eventBody({
      description: 'Taken into custody while wounded.',
      participants: [
        {
          actor: { name: 'Special Operations Forces of Ukraine', kind: 'military', country: 'UKR' },
          role: 'perpetrator',
        },
        { actor: { name: "Korean People's Army", kind: 'military', country: 'PRK' }, role: 'subject' },
      ],
      figures: [{ measure: 'captured', value: 1, qualifier: 'exact' }],
      tags: ['pow', 'north-korea'],
    });
    const created = await t.http.post('/v1/events').send(body).expect(201);
    expect(created.headers['content-type']).toMatch(/application\/json/);
    expect(created.headers.location).toBe(`/v1/events/${created.body.id}`);
    expect(created.headers.etag).toBe('"1"');
    const event = created.body;
    expect(event).toMatchObject({
      type: 'capture',
      title: body.title,
      description: 'Taken into custody while wounded.',
      status: 'reported',
      occurred: { start: '2024-12-26', end: '2024-12-26', precision: 'day' },
      location: { admin1: 'Kursk Oblast', country: 'RUS', lat: 51.6, lon: 36.1, precision: 'admin1', name: null },
      tags: ['pow', 'north-korea'],
      version: 1,
      created_by: 'test-editor',
      deleted_at: null,
    });
    expect(event.participants.map((p: { actor: { name: string }; role: string }) => [p.actor.name, p.role])).toEqual([
      ['Special Operations Forces of Ukraine', 'perpetrator'],
      ["Korean People's Army", 'subject'],
    ]);
    expect(event.figures).toEqual([
      {
        measure: 'captured',
        low: 1,
        best: 1,
        high: 1,
        qualifier: 'exact',
        text: null,
        unit: null,
        subject: null,
        source: 'editor',
      },
    ]);
    expect(event.reports).toHaveLength(1);
    expect(event.reports[0]).toMatchObject({
      event_id: event.id,
      reporter: { name: "South Korea's National Intelligence Service", kind: 'agency', country: 'KOR' },
      reporter_role: 'third_party',
      stance: 'asserts',
      reliability: 'B',
      credibility: 2,
      via: [],
      document: null,
    });

    const fetched = await t.http.get(`/v1/events/${event.id}`).expect(200);
    expect(fetched.body).toEqual(event);
    expect(fetched.headers.etag).toBe('"1"');
  });

  it('reads a report back with its via chain in the order given', async () => {
    const chain = [
      { name: `a friendly country ${unique()}`, kind: 'group' },
      { name: `Ukrainian military intelligence ${unique()}`, kind: 'agency', country: 'UKR' },
      { name: `an unnamed field officer ${unique()}`, kind: 'person' },
    ];
    const created = await t.http
      .post('/v1/events')
      .send(eventBody({ type: 'death', reports: [reportBody({ via: chain, stated_at: '2024-12-29' })] }))
      .expect(201);
    const fetched = await t.http.get(`/v1/events/${created.body.id}`).expect(200);
    const report = fetched.body.reports[0];
    expect(report.via.map((actor: { name: string }) => actor.name)).toEqual(chain.map((actor) => actor.name));
    expect(report.via[1]).toMatchObject({ kind: 'agency', country: 'UKR' });
    expect(report.stated_at).toBe('2024-12-29');
  });

  it('normalises value and qualifier into low/best/high', async () => {
    const figures = [
      { measure: 'killed', value: 3000, qualifier: 'more_than', text: 'more than 3,000' },
      { measure: 'personnel', value: 11000, qualifier: 'approximately' },
      { measure: 'captured', value: 2, qualifier: 'exact' },
      { measure: 'wounded', value: 50, qualifier: 'fewer_than' },
      { measure: 'missing', value: 10, qualifier: 'at_least' },
      { measure: 'casualties', value: 99, qualifier: 'at_most' },
      { measure: 'equipment', low: 5, high: 9, unit: 'suicide drones' },
    ];
    const created = await t.http
      .post('/v1/events')
      .send(eventBody({ type: 'casualty_claim', figures, reports: [reportBody({ figures })] }))
      .expect(201);
    const expected = [
      { low: 3000, best: null, high: null, qualifier: 'more_than', text: 'more than 3,000' },
      { low: null, best: 11000, high: null, qualifier: 'approximately' },
      { low: 2, best: 2, high: 2, qualifier: 'exact' },
      { low: null, best: null, high: 50, qualifier: 'fewer_than' },
      { low: 10, best: null, high: null, qualifier: 'at_least' },
      { low: null, best: null, high: 99, qualifier: 'at_most' },
      { low: 5, best: null, high: 9, qualifier: 'range', unit: 'suicide drones' },
    ];
    for (const figures of [created.body.figures, created.body.reports[0].figures]) {
      expect(figures).toHaveLength(expected.length);
      expected.forEach((want, i) => expect(figures[i]).toMatchObject(want));
    }
  });

  it('finds existing actors and documents by name and URL inside the same write', async () => {
    const name = `Ministry of Defence ${unique()}`;
    const url = `https://news.example.org/${unique()}`;
    const created = await t.http
      .post('/v1/events')
      .send(
        eventBody({
          participants: [{ actor: { name, kind: 'agency' }, role: 'perpetrator' }],
          reports: [
            reportBody({ reporter: { name, kind: 'agency' }, document: { url, title: 'First' } }),
            reportBody({
              reporter: { name: `  ${name.toUpperCase()} `, kind: 'agency' },
              document: { url: `${url}#section-2` },
            }),
          ],
        }),
      )
      .expect(201);
    const [first, second] = created.body.reports;
    expect(second.reporter.id).toBe(first.reporter.id);
    expect(created.body.participants[0].actor.id).toBe(first.reporter.id);
    expect(second.document.id).toBe(first.document.id);
    expect(first.document).toMatchObject({ url, title: 'First' });
  });

  it('accepts references by id', async () => {
    const actor = await t.http
      .post('/v1/actors')
      .send({ name: `Referenced ${unique()}`, kind: 'state', country: 'UKR' })
      .expect(201);
    const document = await t.http
      .post('/v1/documents')
      .send({ url: `https://example.org/${unique()}` })
      .expect(201);
    const created = await t.http
      .post('/v1/events')
      .send(
        eventBody({ reports: [reportBody({ reporter: { id: actor.body.id }, document: { id: document.body.id } })] }),
      )
      .expect(201);
    expect(created.body.reports[0].reporter.id).toBe(actor.body.id);
    expect(created.body.reports[0].document.id).toBe(document.body.id);
  });

  it('relates a new event to an existing one', async () => {
    const capture = await t.http.post('/v1/events').send(eventBody()).expect(201);
    const death = await t.http
      .post('/v1/events')
      .send(
        eventBody({
          type: 'death',
          occurred: { start: '2024-12-27' },
          relations: [{ event_id: capture.body.id, relation: 'follows' }],
        }),
      )
      .expect(201);
    expect(death.body.relations).toEqual([{ event_id: capture.body.id, relation: 'follows' }]);
    expect(death.body.occurred).toEqual({ start: '2024-12-27', end: '2024-12-27', precision: 'day' });
  });
});

describe('POST /v1/events with invalid bodies', () => {
  async function expectRejected(body: unknown, status: number, pointers: string[]) {
    const before = await t.rowCounts();
    const response = await t.http
      .post('/v1/events')
      .send(body as object)
      .expect(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status, instance: '/v1/events' });
    expect(typeof response.body.type).toBe('string');
    expect(typeof response.body.title).toBe('string');
    expect(typeof response.body.detail).toBe('string');
    const paths = (response.body.errors ?? []).map((e: { path: string }) => e.path);
    for (const pointer of pointers) expect(paths).toContain(pointer);
    expect(await t.rowCounts()).toEqual(before);
    return response.body;
  }

  it('422 when reports are missing or empty', async () => {
    const { reports: _omitted, ...withoutReports } = eventBody();
    const missing = await expectRejected(withoutReports, 422, ['/reports']);
    expect(missing.type).toBe('/problems/rule-violation');
    expect(missing.detail).toMatch(/at least one report/);
    await expectRejected(eventBody({ reports: [] }), 422, ['/reports']);
  });

  it('400 naming the known codes for an unknown type', async () => {
    const problem = await expectRejected(eventBody({ type: 'skirmish' }), 400, ['/type']);
    expect(problem.errors[0].message).toMatch(/unknown event type "skirmish"/);
    expect(problem.errors[0].message).toMatch(/capture/);
    expect(problem.errors[0].message).toMatch(/friendly_fire/);
  });

  it('400 when occurred start is after end', async () => {
    await expectRejected(eventBody({ occurred: { start: '2024-12-28', end: '2024-12-26' } }), 400, ['/occurred/end']);
  });

  it('400 when low exceeds best, in event and report figures', async () => {
    const figures = [{ measure: 'killed', low: 10, best: 5 }];
    await expectRejected(eventBody({ figures }), 400, ['/figures/0/low']);
    await expectRejected(eventBody({ reports: [reportBody({ figures })] }), 400, ['/reports/0/figures/0/low']);
  });

  it('400 on a bad reliability or credibility grade', async () => {
    await expectRejected(eventBody({ reports: [reportBody({ reliability: 'G' })] }), 400, ['/reports/0/reliability']);
    await expectRejected(eventBody({ reports: [reportBody({ credibility: 7 })] }), 400, ['/reports/0/credibility']);
  });

  it('400 naming an unknown field, at any depth', async () => {
    const top = await expectRejected(eventBody({ severity: 'high' }), 400, ['/severity']);
    expect(top.errors[0].message).toMatch(/unknown field "severity"/);
    await expectRejected(eventBody({ reports: [reportBody({ confidence: 0.9 })] }), 400, ['/reports/0/confidence']);
  });

  it('400 for a figure with value but no qualifier, or both value and bounds', async () => {
    await expectRejected(eventBody({ figures: [{ measure: 'killed', value: 3 }] }), 400, ['/figures/0/qualifier']);
    await expectRejected(eventBody({ figures: [{ measure: 'killed', value: 3, qualifier: 'exact', low: 1 }] }), 400, [
      '/figures/0/value',
    ]);
  });

  it('400 for a reference to an actor or document that does not exist, and nothing is created', async () => {
    const ghost = '0193f1a0-0000-7000-8000-000000000000';
    await expectRejected(
      eventBody({
        participants: [{ actor: { name: `New actor ${unique()}`, kind: 'group' }, role: 'other' }],
        reports: [reportBody({ via: [{ id: ghost }], document: { id: ghost } })],
      }),
      400,
      ['/reports/0/via/0/id', '/reports/0/document/id'],
    );
  });

  it('400 for several violations at once, each with its pointer', async () => {
    const problem = await expectRejected(
      eventBody({ title: '', occurred: { start: 'yesterday' }, location: { lat: 95, lon: 10 } }),
      400,
      ['/title', '/occurred/start', '/location/lat'],
    );
    expect(problem.errors.every((e: { in: string }) => e.in === 'body')).toBe(true);
  });

  it('rolls back a write that fails halfway', async () => {
    // The second report's unknown relation target is only found inside the transaction, after actors could have been created.
    await expectRejected(
      eventBody({
        participants: [{ actor: { name: `Rolled back ${unique()}`, kind: 'group' }, role: 'other' }],
        relations: [{ event_id: '0193f1a0-0000-7000-8000-000000000001', relation: 'follows' }],
      }),
      400,
      ['/relations/0/event_id'],
    );
  });
});

describe('the rendered JSON of events', () => {
  it('is built once by a refresh, for both the JSON and the CSV record', async () => {
    // Flattened, the rendering subquery would put the whole JSON expression in the plan twice.
    const plan = await t.db.pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (VERBOSE, COSTS OFF) ${REFRESH_EVENTS} WHERE e.id = '00000000-0000-0000-0000-000000000000'`,
    );
    const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).toContain('event_csv_record');
    expect(text.split("'independent_reporter_count'").length - 1).toBe(1);
  });

  it('is what the reads serve, built on the spot while missing, and renderMissingEvents fills it in', async () => {
    const created = (
      await t.http
        .post('/v1/events')
        .send(eventBody({ title: `Rendered ${unique()}` }))
        .expect(201)
    ).body;
    const { rows } = await t.db.pool.query<{ rendered: string }>('SELECT rendered FROM events WHERE id = $1', [
      created.id,
    ]);
    expect(JSON.parse(rows[0]!.rendered)).toEqual(created);

    // A row loaded in bulk has none yet: the reads build it, and the bulk renderer writes it.
    const stored = await t.db.pool.query<{ rendered_csv: string }>('SELECT rendered_csv FROM events WHERE id = $1', [
      created.id,
    ]);
    await t.db.pool.query('UPDATE events SET rendered = NULL, rendered_csv = NULL WHERE id = $1', [created.id]);
    expect((await t.http.get(`/v1/events/${created.id}`).expect(200)).body).toEqual(created);
    // A list page reads the stored texts alone and builds the missing ones apart.
    const page = await t.http.get(`/v1/events?sort=-created&limit=3`).expect(200);
    expect(page.body.data[0]).toEqual(created);
    expect(page.body.data).toHaveLength(Math.min(3, (await t.rowCounts()).events!));
    const csvPage = await t.http
      .get(`/v1/events?sort=-created&limit=1&format=csv`)
      .buffer(true)
      .parse(asText)
      .expect(200);
    expect(csvPage.body).toBe(`${CSV_COLUMNS.join(',')}\r\n${stored.rows[0]!.rendered_csv}`);
    expect(await renderMissingEvents(t.db.pool)).toBe(1);
    const after = await t.db.pool.query<{ rendered: string | null; rendered_csv: string | null }>(
      'SELECT rendered, rendered_csv FROM events WHERE id = $1',
      [created.id],
    );
    expect(JSON.parse(after.rows[0]!.rendered!)).toEqual(created);
    expect(after.rows[0]!.rendered_csv).toBe(stored.rows[0]!.rendered_csv);
  });

  it('is stored compressed with LZ4 where the server has it, else with the default pglz (the rendered_lz4 migration)', async () => {
    const probe = await t.db.pool.connect();
    let hasLz4 = true;
    try {
      await probe.query('CREATE TEMP TABLE lz4_probe (t text COMPRESSION lz4)');
    } catch (error) {
      expect((error as { code?: string }).code).toBe('0A000'); // feature_not_supported: a server built without LZ4
      hasLz4 = false;
    } finally {
      await probe.query('DROP TABLE IF EXISTS lz4_probe');
      probe.release();
    }
    const created = await t.http
      .post('/v1/events')
      .send(eventBody({ description: `A long account, ${'told by several sources at length. '.repeat(120)}` }))
      .expect(201);
    const { rows } = await t.db.pool.query<{ rendered: string | null; rendered_csv: string | null }>(
      'SELECT pg_column_compression(rendered) AS rendered, pg_column_compression(rendered_csv) AS rendered_csv FROM events WHERE id = $1',
      [created.body.id],
    );
    const method = hasLz4 ? 'lz4' : 'pglz';
    expect(rows[0]).toEqual({ rendered: method, rendered_csv: method });
  });
});

// The CSV export of everything (no limit) streams the events' stored CSV records with COPY;
// PostgreSQL's event_csv_record makes each from the event's rendered JSON when it is written.
// These tests hold it to the CSV of the JSON pages: for every sort and filter, the export is
// byte for byte the header and the reference record (below: the format as first written, in
// TypeScript) of the events the JSON pages list, in their order; event_csv_record is byte for
// byte the reference for figure, report and number corner cases; fields with quotes, commas,
// line breaks, backslashes and non-ASCII text round-trip through a CSV parser; events without
// stored renderings export the same; filter values are inlined into the COPY statement as exact
// literals; a database failure aborts the response; a client leaving mid-export frees its connection.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/db/uuid.js';
import { inlineParameters } from '../../src/modules/events/copy-stream.js';
import { CSV_COLUMNS, EVENT_CSV_RECORD_BODY, EVENT_CSV_RECORD_FUNCTION } from '../../src/modules/events/render/csv.js';
import { EventSchema } from '../../src/modules/events/schemas.js';
import {
  actorBody,
  asText,
  deriveAfterRawWrites,
  documentBody,
  eventBody,
  postEvent,
  reportBody,
  unique,
  walkPages,
} from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Event = ReturnType<typeof EventSchema.parse>;
// An event's figure, or a report's (which has no source).
type Figure = Omit<Event['figures'][number], 'source'>;

// ---------------------------------------------------------------- the reference

/** The CSV record as first written (commit b884897), kept as the definition of the format. */
function referenceCsvRecord(event: Event): string {
  const csvField = (value: string | number | null | undefined): string => {
    if (value === null || value === undefined) return '';
    const text = String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const figureText = (figure: Figure): string => {
    const { low, best, high } = figure;
    const what = figure.unit ? `${figure.measure} (${figure.unit})` : figure.measure;
    const numbers =
      low !== null && low === best && best === high
        ? String(best)
        : [low !== null ? `low ${low}` : '', best !== null ? `best ${best}` : '', high !== null ? `high ${high}` : '']
            .filter(Boolean)
            .join(', ');
    const wording = figure.text ? ` "${figure.text}"` : '';
    return `${what}: ${numbers || 'not stated'}${wording}`;
  };
  const reporters = event.reports.map((r) => {
    const grade = `${r.reliability ?? '-'}${r.credibility ?? '-'}`;
    return `${r.reporter.name} (${r.reporter_role}, ${r.stance}, ${grade}${r.stated_at ? `, ${r.stated_at}` : ''})`;
  });
  const chains = event.reports
    .filter((r) => r.via.length > 0)
    .map((r) => [r.reporter.name, ...r.via.map((a) => a.name)].join(' < '));
  const claimed = event.reports.flatMap((r) => r.figures.map((f) => `${r.reporter.name}: ${figureText(f)}`));
  const documents = [...new Set(event.reports.flatMap((r) => (r.document ? [r.document.url] : [])))];
  const values: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
    id: event.id,
    type: event.type,
    status: event.status,
    title: event.title,
    description: event.description,
    occurred_start: event.occurred.start,
    occurred_end: event.occurred.end,
    occurred_precision: event.occurred.precision,
    location_name: event.location.name,
    admin1: event.location.admin1,
    admin2: event.location.admin2,
    admin3: event.location.admin3,
    country: event.location.country,
    lat: event.location.lat,
    lon: event.location.lon,
    location_precision: event.location.precision,
    participants: event.participants.map((p) => `${p.role}: ${p.actor.name}`).join('; '),
    figures: event.figures.map(figureText).join('; '),
    report_count: event.reports.length,
    reporters: reporters.join('; '),
    via: chains.join('; '),
    reported_figures: claimed.join('; '),
    documents: documents.join('; '),
    tags: event.tags.join('; '),
    external_ids: Object.entries(event.external_ids)
      .map(([source, id]) => `${source}:${id}`)
      .join('; '),
    version: event.version,
    created_at: event.created_at,
    updated_at: event.updated_at,
  };
  return `${CSV_COLUMNS.map((column) => csvField(values[column])).join(',')}\r\n`;
}

const HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

// ---------------------------------------------------------------- the data

let t: TestApp;
const ids: Record<string, string> = {};
const actors: Record<string, string> = {};
const sharedDocument = documentBody({ url: `https://news.example.org/shared,"doc"?q=${unique()}` });

/** Texts that need quoting, escaping in JSON, or more than one byte in UTF-8. */
const TRICKY = {
  title: 'He said "no", then left; 100% sure',
  description: 'Line one, with a comma\nline two with "quotes"\r\nline three\rafter a bare CR, and a trailing comma,',
  backslashes: 'C:\\path\\to\\file, a literal \\n and a tab\there',
  cyrillic: 'Пленные, «двое», захвачены под Курском',
  cjk: '朝鲜士兵在库尔斯克被俘 "两名"',
  emoji: 'Drone strike 🚁💥, "reported" — ñandú, Ελλάδα, עברית, العربية',
  combining: 'Cafe\u0301 near Zaporizhzhia\u00a0Oblast',
};

async function post(name: string, body: Record<string, unknown>): Promise<void> {
  ids[name] = await postEvent(t.http, name, body);
}

beforeAll(async () => {
  t = await startTestApp();
  actors.comma = `Forces of A, B and "C" ${unique()}`;
  actors.cyrillic = `Вооружённые силы «Север» ${unique()}`;
  actors.plain = `Plain Agency ${unique()}`;
  actors.relay = `Relay, the "messenger" ${unique()}`;
  actors.second = `Second relay ${unique()}`;

  await post(
    'tricky',
    eventBody({
      title: TRICKY.title,
      description: TRICKY.description,
      occurred: { start: '2024-11-02', end: '2024-11-05', precision: 'range' },
      location: {
        name: 'Sudzha, "centre"',
        admin1: 'Kursk Oblast',
        admin2: 'Sudzhansky, district',
        admin3: 'Sudzha "urban", okrug',
        country: 'RUS',
        lat: 51.19,
        lon: 35.27,
        precision: 'near',
      },
      participants: [
        { actor: actorBody({ name: actors.comma, kind: 'military', country: 'UKR' }), role: 'perpetrator' },
        { actor: actorBody({ name: actors.cyrillic, kind: 'military', country: 'RUS' }), role: 'victim' },
      ],
      figures: [
        { measure: 'captured', value: 2, qualifier: 'exact', text: 'two, "confirmed"' },
        { measure: 'killed', low: 1, high: 3, qualifier: 'range', text: 'one to three,\nper the "MoD"' },
        { measure: 'equipment', best: 4, qualifier: 'approximately', unit: 'tanks, "T-72"' },
        { measure: 'wounded', value: 10, qualifier: 'at_least' },
        { measure: 'missing', value: 5, qualifier: 'at_most' },
        { measure: 'other', text: 'an unknown number, "many"' },
      ],
      reports: [
        reportBody({
          reporter: actorBody({ name: actors.plain, kind: 'agency', country: 'KOR' }),
          via: [actorBody({ name: actors.relay, kind: 'group' }), actorBody({ name: actors.second, kind: 'group' })],
          document: sharedDocument,
          stated_at: '2024-11-06',
          quote: 'They said: "two, not one"',
          figures: [
            { measure: 'killed', value: 3000, qualifier: 'more_than', text: 'more than 3,000' },
            { measure: 'captured', low: 2, best: 2, high: 4, text: 'два — "пленных"' },
          ],
        }),
        reportBody({
          reporter: actorBody({ name: actors.cyrillic, kind: 'military', country: 'RUS' }),
          stance: 'denies',
          reliability: null,
          credibility: null,
          document: sharedDocument,
          stated_at: '2024-11-06T14:30:00Z',
        }),
        reportBody({
          reporter: actorBody({ name: actors.comma, kind: 'military' }),
          stance: 'disputes',
          reliability: 'E',
          credibility: 6,
        }),
      ],
      tags: ['pow', 'needs-"review"', 'ünïcode'],
    }),
  );
  await post(
    'unicode',
    eventBody({
      type: 'strike',
      title: TRICKY.emoji,
      description: `${TRICKY.cyrillic}\n${TRICKY.cjk}\n${TRICKY.combining}\n${TRICKY.backslashes}`,
      occurred: { start: '2024-11-03', precision: 'day' },
      location: {
        name: '库尔斯克',
        admin1: 'Курская область',
        admin3: 'Суджанский сельсовет',
        country: 'RUS',
        lat: 0.00001,
        lon: -0.000002,
        precision: 'exact',
      },
      participants: [{ actor: actorBody({ name: actors.cyrillic, kind: 'military', country: 'RUS' }), role: 'target' }],
      figures: [{ measure: 'killed', value: 7, qualifier: 'approximately', text: TRICKY.cjk }],
      reports: [
        reportBody({
          reporter: actorBody({ name: `Агентство ${unique()}`, kind: 'media', country: 'UKR' }),
          document: documentBody(),
          figures: [{ measure: 'wounded', value: 12, qualifier: 'exact', text: TRICKY.emoji }],
          stance: 'asserts',
        }),
      ],
      tags: ['дроны', '🚁'],
    }),
  );
  await post(
    'sparse',
    eventBody({
      type: 'statement',
      title: 'Nothing but a title',
      occurred: { start: '2024-11-04', precision: 'month' },
      location: undefined,
      reports: [
        reportBody({
          reporter: actorBody({ name: actors.plain, kind: 'agency' }),
          reliability: null,
          credibility: null,
          stance: 'unclear',
        }),
      ],
    }),
  );
  await post(
    'undocumented',
    eventBody({
      type: 'death',
      title: 'Reports without documents',
      occurred: { start: '2024-11-04', precision: 'day' },
      location: { country: 'UKR', precision: 'country' },
      reports: [
        reportBody({
          reporter: actorBody({ name: actors.relay, kind: 'group' }),
          via: [actorBody({ name: actors.plain, kind: 'agency' })],
        }),
        reportBody({
          reporter: actorBody({ name: actors.second, kind: 'group' }),
          stated_at: '2024-11-05T00:00:00.123Z',
          stance: 'denies',
        }),
      ],
    }),
  );
  // Variety for the filters and sorts: types, places, days, reporters, stances, tags.
  const types = ['capture', 'strike', 'death', 'deployment'];
  const places = [
    { country: 'RUS', admin1: 'Kursk Oblast', lat: 51.7, lon: 36.2 },
    { country: 'UKR', admin1: 'Kharkiv Oblast', lat: 49.99, lon: 36.23 },
    { country: 'FJI', admin1: 'Northern', lat: -16.5, lon: 179.5 },
    { country: 'USA', admin1: 'Alaska', lat: 52.0, lon: -179.5 },
  ];
  for (let i = 0; i < 24; i++) {
    const place = places[i % places.length]!;
    await post(
      `varied${i}`,
      eventBody({
        type: types[i % types.length],
        status: i % 5 === 0 ? 'contested' : 'reported',
        title: i % 3 === 0 ? `Assault near the river, "wave" ${i}` : `Shelling of positions ${i}`,
        description: i % 2 === 0 ? `Heavy fighting, day ${i}` : null,
        occurred: { start: `2024-10-${String(1 + (i % 9)).padStart(2, '0')}`, precision: 'day' },
        location: { ...place, precision: 'near' },
        participants: [
          {
            actor: actorBody({ name: i % 2 === 0 ? actors.comma : actors.cyrillic, kind: 'military' }),
            role: i % 2 === 0 ? 'perpetrator' : 'victim',
          },
        ],
        reports: [
          reportBody({
            reporter: actorBody({
              name: i % 3 === 0 ? actors.plain : actors.relay,
              kind: i % 3 === 0 ? 'agency' : 'group',
            }),
            stance: i % 4 === 0 ? 'denies' : 'asserts',
            reliability: ['A', 'B', 'C', 'D'][i % 4],
            stated_at: `2024-10-${String(2 + (i % 9)).padStart(2, '0')}`,
            document: i % 2 === 0 ? sharedDocument : undefined,
            quote: i % 3 === 0 ? 'The assault was repelled' : undefined,
          }),
        ],
        tags: i % 2 === 0 ? ['frontline'] : [],
      }),
    );
  }
});
afterAll(async () => {
  await t.close();
});

// ---------------------------------------------------------------- helpers

async function exportCsv(query: string): Promise<string> {
  const response = await t.http
    .get(`/v1/events?format=csv${query ? `&${query}` : ''}`)
    .buffer(true)
    .parse(asText);
  expect(response.status).toBe(200);
  return response.body as string;
}

/** The events the JSON pages list for a query, in order. */
async function listed(query: string): Promise<Event[]> {
  const { items } = await walkPages<Event>(t.http, `/v1/events?limit=7${query ? `&${query}` : ''}`);
  return items.map((item) => EventSchema.parse(item));
}

async function expectExportMatchesPages(query: string): Promise<Event[]> {
  const events = await listed(query).catch((error: Error) => {
    throw new Error(`${query}: ${error.message}`);
  });
  const csv = await exportCsv(query);
  expect(csv).toBe(HEADER + events.map(referenceCsvRecord).join(''));
  return events;
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...rows] = parse(text, { relax_column_count: false });
  expect(header).toEqual([...CSV_COLUMNS]);
  return rows.map((row) => Object.fromEntries(header!.map((column, i) => [column, row[i]!])));
}

const byId = async (name: string): Promise<Event> =>
  EventSchema.parse((await t.http.get(`/v1/events/${ids[name]}`).expect(200)).body);

// ---------------------------------------------------------------- tests

/** What PostgreSQL's event_csv_record makes of an event's JSON. */
async function sqlCsvRecord(event: Event): Promise<string> {
  const result = await t.db.pool.query<{ record: string }>('SELECT event_csv_record($1::jsonb) AS record', [
    JSON.stringify(event),
  ]);
  return result.rows[0]!.record;
}

describe('event_csv_record, the stored CSV record', () => {
  it('is the function render/csv.ts makes from its list of columns, so the header and the records agree', async () => {
    const result = await t.db.pool.query<{ body: string }>(
      "SELECT prosrc AS body FROM pg_proc WHERE proname = 'event_csv_record'",
    );
    expect(result.rows).toHaveLength(1);
    expect(EVENT_CSV_RECORD_BODY).toContain(`RETURN concat_ws(',',`);
    expect(
      result.rows[0]!.body,
      `the migrations' event_csv_record is not the one of src/modules/events/render/csv.ts: add a migration with\n${EVENT_CSV_RECORD_FUNCTION}\nand the UPDATE of rendered_csv its header comment describes`,
    ).toBe(EVENT_CSV_RECORD_BODY);
  });

  it('is stored for every event, byte for byte the reference record of its JSON', async () => {
    const events = await listed('');
    expect(events.length).toBe(Object.keys(ids).length);
    const stored = await t.db.pool.query<{ id: string; rendered_csv: string }>('SELECT id, rendered_csv FROM events');
    const records = new Map(stored.rows.map((row) => [row.id, row.rendered_csv]));
    for (const event of events) expect(records.get(event.id)).toBe(referenceCsvRecord(event));
  });

  it('is byte for byte the reference record for figure and report corner cases', async () => {
    const event = await byId('tricky');
    const figure = (
      low: number | null,
      best: number | null,
      high: number | null,
      extra: Partial<Figure> = {},
    ): Figure => ({
      measure: 'killed',
      low,
      best,
      high,
      qualifier: null,
      text: null,
      unit: null,
      subject: null,
      ...extra,
    });
    const figures = [
      figure(null, null, null),
      figure(0, 0, 0),
      figure(0, null, null),
      figure(null, 0, null, { text: '' }),
      figure(null, null, 0, { unit: '' }),
      figure(1, 2, 3, { unit: 'drones, "Shahed"', text: 'a "few"' }),
      figure(5, 5, 6),
      figure(5, null, 5),
    ];
    const variants: Event[] = [
      {
        ...event,
        figures: figures.map((f) => ({ ...f, source: 'editor' as const })),
        reports: event.reports.map((r) => ({ ...r, figures })),
      },
      { ...event, participants: [], figures: [], reports: [], tags: [] },
      {
        ...event,
        description: null,
        location: {
          ...event.location,
          name: null,
          admin1: null,
          admin2: null,
          admin3: null,
          country: null,
          lat: null,
          lon: null,
        },
      },
      { ...event, location: { ...event.location, lat: -0, lon: 1e-7 } },
      { ...event, location: { ...event.location, lat: -1.5e-7, lon: 0.000015 } },
      { ...event, location: { ...event.location, lat: -89.999999, lon: 179.12345678901235 } },
      { ...event, location: { ...event.location, lat: 0.000001, lon: -0.0001 } },
      { ...event, external_ids: { acled: 'UKR123', alpha_2: '"q"', zeta: 'z,1' } },
      { ...event, title: 'tab\there; semicolon', description: '', tags: ['a; b', ''] },
      {
        ...event,
        reports: event.reports.map((r) => ({
          ...r,
          document: null,
          stated_at: null,
          via: [],
          reliability: null,
          credibility: null,
        })),
      },
    ];
    for (const variant of variants) expect(await sqlCsvRecord(variant)).toBe(referenceCsvRecord(variant));
  });
});

describe('the CSV export of everything', () => {
  it('is the header and the record of every event the JSON pages list, for every sort', async () => {
    for (const sort of ['-occurred', 'occurred', '-updated', '-created']) {
      const events = await expectExportMatchesPages(`sort=${sort}`);
      expect(events).toHaveLength(Object.keys(ids).length);
    }
    const relevant = await expectExportMatchesPages('q=assault&sort=relevance');
    expect(relevant.length).toBeGreaterThan(1);
  });

  it('is the record of every event the JSON pages list, for each filter and combinations of them', async () => {
    const reportDocument = (await byId('tricky')).reports[0]!.document!.id;
    const viaActor = (await byId('tricky')).reports[0]!.via[0]!.id;
    const reporter = (await byId('tricky')).reports[0]!.reporter.id;
    const participant = (await byId('tricky')).participants[0]!.actor.id;
    const queries = [
      'type=strike,death',
      'status=contested',
      'occurred_from=2024-10-03&occurred_to=2024-10-06',
      'occurred_from=2024-11-04',
      'country=RUS,FJI&sort=occurred',
      'admin1=Kursk%20Oblast',
      'bbox=170,-20,-170,60',
      'bbox=30,45,40,55&sort=-created',
      'near=51.7,36.2&radius_km=50',
      `actor=${participant}&role=perpetrator`,
      `reporter=${reporter}`,
      `via=${viaActor}`,
      `document=${reportDocument}`,
      'stance=denies&min_reliability=B',
      'q=assault',
      'q=assault%20OR%20shelling&sort=relevance',
      'tag=frontline,pow&sort=-updated',
      'updated_since=2000-01-01T00:00:00Z',
      'type=capture&country=RUS&stance=asserts&tag=frontline&sort=occurred',
      'type=prisoner_exchange',
    ];
    for (const query of queries) await expectExportMatchesPages(query);
    const admin3 = encodeURIComponent('Суджанский сельсовет');
    expect(await expectExportMatchesPages(`admin3=${admin3}`)).toHaveLength(1);
    expect(await expectExportMatchesPages(`admin3=Elsewhere,${admin3}&country=RUS`)).toHaveLength(1);
  });

  it('with a cursor, is everything after the page it came from', async () => {
    const first = await t.http.get('/v1/events?limit=5&sort=occurred').expect(200);
    const cursor = first.body.next_cursor as string;
    const rest = await listed(`sort=occurred&cursor=${cursor}`);
    expect(rest.length).toBe(Object.keys(ids).length - 5);
    expect(await exportCsv(`sort=occurred&cursor=${cursor}`)).toBe(HEADER + rest.map(referenceCsvRecord).join(''));
  });

  it('round-trips quotes, commas, line breaks, backslashes and non-ASCII text through a CSV parser', async () => {
    const text = await exportCsv('');
    // The third-level division has its column after the second's.
    expect(text.slice(0, text.indexOf('\r\n'))).toContain(',location_name,admin1,admin2,admin3,country,lat,');
    const records = parseCsv(text);
    const tricky = records.find((r) => r.id === ids.tricky)!;
    expect(tricky.title).toBe(TRICKY.title);
    expect(tricky.description).toBe(TRICKY.description);
    expect(tricky.location_name).toBe('Sudzha, "centre"');
    expect(tricky.admin2).toBe('Sudzhansky, district');
    expect(tricky.admin3).toBe('Sudzha "urban", okrug');
    expect(tricky.participants).toBe(`perpetrator: ${actors.comma}; victim: ${actors.cyrillic}`);
    expect(tricky.figures).toBe(
      [
        'captured: 2 "two, "confirmed""',
        'killed: low 1, high 3 "one to three,\nper the "MoD""',
        'equipment (tanks, "T-72"): best 4',
        'wounded: low 10',
        'missing: high 5',
        'other: not stated "an unknown number, "many""',
      ].join('; '),
    );
    expect(tricky.via).toBe(`${actors.plain} < ${actors.relay} < ${actors.second}`);
    expect(tricky.reported_figures).toBe(
      `${actors.plain}: killed: low 3000 "more than 3,000"; ${actors.plain}: captured: low 2, best 2, high 4 "два — "пленных""`,
    );
    expect(tricky.documents).toBe((await byId('tricky')).reports[0]!.document!.url); // two reports cite it: listed once
    expect(tricky.tags!.split('; ').sort()).toEqual(['needs-"review"', 'pow', 'ünïcode'].sort());
    expect(tricky.report_count).toBe('3');

    const unicode = records.find((r) => r.id === ids.unicode)!;
    expect(unicode.title).toBe(TRICKY.emoji);
    expect(unicode.description).toBe(`${TRICKY.cyrillic}\n${TRICKY.cjk}\n${TRICKY.combining}\n${TRICKY.backslashes}`);
    expect(unicode.location_name).toBe('库尔斯克');
    expect(unicode.admin1).toBe('Курская область');
    expect(unicode.admin3).toBe('Суджанский сельсовет');
    expect(unicode.lat).toBe('0.00001');
    expect(unicode.lon).toBe('-0.000002');
    // The editor's killed figure, then the wounded one its report gives (derived: no wording).
    expect(unicode.figures).toBe(`killed: best 7 "${TRICKY.cjk}"; wounded: 12`);
    expect(unicode.reported_figures).toContain(`wounded: 12 "${TRICKY.emoji}"`);
    expect(unicode.tags).toBe('дроны; 🚁');
  });

  it('leaves empty the cells of null fields, and of documents when no report cites one', async () => {
    const records = parseCsv(await exportCsv('type=statement,death&occurred_from=2024-11-04'));
    const sparse = records.find((r) => r.id === ids.sparse)!;
    for (const column of [
      'description',
      'location_name',
      'admin1',
      'admin2',
      'admin3',
      'country',
      'lat',
      'lon',
      'participants',
      'figures',
      'via',
      'reported_figures',
      'documents',
      'tags',
    ]) {
      expect(sparse[column], column).toBe('');
    }
    expect(sparse.reporters).toBe(`${actors.plain} (third_party, unclear, --)`);
    const undocumented = records.find((r) => r.id === ids.undocumented)!;
    expect(undocumented.documents).toBe('');
    expect(undocumented.description).toBe('');
    expect(undocumented.via).toBe(`${actors.relay} < ${actors.plain}`);
    expect(undocumented.reporters).toContain(`${actors.second} (third_party, denies, B2, 2024-11-05T00:00:00.123Z)`);
  });

  it('exports events without stored renderings as if they had them', async () => {
    const before = await exportCsv('');
    const unrendered = [ids.tricky!, ids.unicode!, ids.sparse!];
    await t.db.pool.query('UPDATE events SET rendered = NULL, rendered_csv = NULL WHERE id = ANY($1::uuid[])', [
      unrendered,
    ]);
    try {
      expect(await exportCsv('')).toBe(before);
      expect(await exportCsv('limit=40')).toBe(before);
    } finally {
      await deriveAfterRawWrites(t.db.pool, unrendered);
    }
  });
});

describe('COPY statements', () => {
  it('inline the values as literals that PostgreSQL reads back exactly as bound parameters', async () => {
    const values = [
      ['plain', "it's", 'a "quote", a comma', 'back\\slash \\n', '{braces}', 'NULL', '', 'Курск 🚁'],
      "'; SELECT 1; --",
      "E'\\x",
      -0.000001,
      51.5,
      '2024-12-31',
      null,
    ];
    const text =
      'SELECT $1::text[] AS a, lower($2) AS b, $3::text AS c, $4::float8 AS d, $5::float8 AS e, $6::date AS f, $7::text AS g, $10 AS h';
    const bound = (await t.db.pool.query(text.replace(', $10 AS h', ''), values)).rows[0];
    const inlined = (await t.db.pool.query(inlineParameters(text.replace(', $10 AS h', ''), values))).rows[0];
    expect(inlined).toEqual(bound);
    expect(inlined.a).toEqual(values[0]);
    expect(inlined.b).toBe(String(values[1]).toLowerCase());
    expect(inlined.c).toBe(values[2]);
    expect(() => inlineParameters(text, values)).toThrow(/no value for \$10/);
  });

  it('exports with filter values that need escaping', async () => {
    for (const query of [
      "admin1=O'Brien%5C%2C%20%22x%22",
      "q=it's%20%22quoted%22%20%5C%20back",
      'tag=%27%3B%20DROP%20TABLE%20events%3B%20--',
    ]) {
      await expectExportMatchesPages(query);
    }
  });
});

describe('the export stream and its database connection', () => {
  /** Bulk events, written in SQL: enough that an export cannot fit in socket buffers (about 50 MB of CSV). */
  const BULK = 6000;

  beforeAll(async () => {
    const eventIds = Array.from({ length: BULK }, () => uuidv7());
    const reportIds = Array.from({ length: BULK }, () => uuidv7());
    await t.db.pool.query(
      `INSERT INTO events (id, type, title, description, status, occurred_start, occurred_end, occurred_precision,
                           location_name, admin1, admin2, country, lat, lon, location_precision, tags)
       SELECT x.id, e.type, e.title || ' ' || x.n, repeat(e.description, 80), e.status, e.occurred_start - 400, e.occurred_end - 400,
              e.occurred_precision, e.location_name, e.admin1, e.admin2, e.country, e.lat, e.lon, e.location_precision, ARRAY['bulk']
       FROM events e, unnest($2::uuid[]) WITH ORDINALITY AS x(id, n) WHERE e.id = $1`,
      [ids.tricky, eventIds],
    );
    await t.db.pool.query(
      `INSERT INTO reports (id, event_id, reporter_id, reporter_role, stance, reliability, credibility, quote)
       SELECT x.report_id, x.event_id, r.reporter_id, r.reporter_role, r.stance, r.reliability, r.credibility, repeat('a long quote ', 50)
       FROM (SELECT * FROM reports WHERE event_id = $1 ORDER BY id LIMIT 1) r, unnest($2::uuid[], $3::uuid[]) AS x(event_id, report_id)`,
      [ids.tricky, eventIds, reportIds],
    );
    await deriveAfterRawWrites(t.db.pool, eventIds);
  });

  /** Starts a CSV export of the bulk events over plain HTTP (with `key`, or anonymous) and resolves once its first bytes arrived. */
  function startExport(key?: string): Promise<{ response: http.IncomingMessage; request: http.ClientRequest }> {
    const { port } = t.app.server.address() as AddressInfo;
    const headers = key ? { authorization: `Bearer ${key}` } : {};
    return new Promise((resolve, reject) => {
      const request = http.get(
        { host: '127.0.0.1', port, path: '/v1/events?format=csv&tag=bulk', headers },
        (response) => {
          expect(response.statusCode).toBe(200);
          response.once('data', () => {
            response.pause();
            resolve({ response, request });
          });
        },
      );
      request.on('error', reject);
    });
  }

  /** The server's backends that are running a COPY. */
  async function copyBackends(): Promise<number[]> {
    const { rows } = await t.db.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'COPY (%' AND state = 'active'`,
    );
    return rows.map((row) => row.pid);
  }

  async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out waiting until ${what}`);
  }

  it('exports every bulk event, and the connection goes back to the pool', async () => {
    const records = parseCsv(await exportCsv('tag=bulk'));
    expect(records).toHaveLength(BULK);
    expect(new Set(records.map((r) => r.id)).size).toBe(BULK);
    expect(t.db.exports.pool.totalCount - t.db.exports.pool.idleCount).toBe(0);
  });

  it('a database failure mid-export aborts the response instead of ending it', async () => {
    const { response } = await startExport();
    const ended = new Promise<'complete' | 'aborted'>((resolve) => {
      response.on('end', () => resolve(response.complete ? 'complete' : 'aborted'));
      response.on('aborted', () => resolve('aborted'));
      response.on('error', () => resolve('aborted'));
      response.on('close', () => resolve(response.complete ? 'complete' : 'aborted'));
    });
    await eventually(async () => (await copyBackends()).length === 1, 'the COPY runs');
    const [pid] = await copyBackends();
    await t.db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    response.resume();
    expect(await ended).toBe('aborted');
    // The service goes on: the pool replaces the connection.
    await t.http.get('/v1/events?limit=1').expect(200);
  });

  it('a client leaving mid-export frees its connection, however many times', async () => {
    const pool = t.db.exports.pool;
    const max = pool.options.max;
    for (let i = 0; i < max + 2; i++) {
      const { request } = await startExport();
      request.destroy();
      await eventually(
        async () => (await copyBackends()).length === 0 && pool.totalCount === pool.idleCount,
        'the COPY ends',
      );
    }
    // Had any connection stayed checked out, the pool would now be exhausted.
    expect(parseCsv(await exportCsv('tag=bulk'))).toHaveLength(BULK);
    await t.http.get('/v1/events?limit=1').expect(200);
  });

  it('HEAD of an export answers its headers and holds no connection, however many times', async () => {
    for (let i = 0; i < t.db.exports.pool.options.max + 2; i++) {
      const head = await t.http.head('/v1/events?format=csv&tag=bulk').expect(200);
      expect(head.headers['content-type']).toMatch(/^text\/csv/);
    }
    const page = await t.http.head('/v1/events?format=ndjson&tag=bulk&limit=2').expect(200);
    expect(page.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(page.headers.link).toContain('rel="next"');
    expect(t.db.exports.inUse).toBe(0);
    await eventually(
      async () => t.db.exports.pool.totalCount === t.db.exports.pool.idleCount,
      'every connection is idle',
    );
    expect(parseCsv(await exportCsv('tag=bulk'))).toHaveLength(BULK);
  });

  it('exports beyond the export slots answer 503 with Retry-After while pages and writes go on', async () => {
    const slots = t.db.exports.max;
    expect(slots).toBeLessThan(t.db.pool.options.max);
    const streaming = [];
    // One client holds only a share of the slots: each export comes from another (anonymous, then each role's key).
    const clients = [undefined, t.keys.reader, t.keys.admin];
    expect(clients.length).toBeGreaterThan(slots);
    for (let i = 0; i < slots; i++) streaming.push(await startExport(clients[i]));
    expect(t.db.exports.inUse).toBe(slots);
    expect((await t.http.get('/metrics').expect(200)).text).toMatch(new RegExp(`^exports_streaming ${slots}$`, 'm'));

    const refused = await t.http.get('/v1/events?format=ndjson&tag=bulk').expect(503);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toMatchObject({ type: '/problems/service-unavailable', status: 503 });
    expect(refused.body.detail).toContain(`as many exports of everything at once as it may (${slots})`);
    // The rest of the pool still serves: a page, a one-page export, a write.
    await t.http.get('/v1/events?limit=1').expect(200);
    const page = await t.http.get('/v1/events?format=csv&tag=bulk&limit=3').expect(200);
    expect(parseCsv(page.text)).toHaveLength(3);
    const [one] = parseCsv(page.text);
    await t.http
      .patch(`/v1/events/${one!.id}`)
      .set('if-match', '"1"')
      .set('content-type', 'application/merge-patch+json')
      .send({ tags: ['bulk', 'edited'] })
      .expect(200);

    // A slot comes back when its export ends, here by the client leaving.
    streaming[0]!.request.destroy();
    await eventually(async () => t.db.exports.inUse === slots - 1, 'the slot is free');
    expect(parseCsv(await exportCsv('tag=bulk'))).toHaveLength(BULK);
    for (const { request } of streaming.slice(1)) request.destroy();
    await eventually(
      async () => t.db.exports.inUse === 0 && t.db.exports.pool.totalCount === t.db.exports.pool.idleCount,
      'every export ends',
    );
  });
});

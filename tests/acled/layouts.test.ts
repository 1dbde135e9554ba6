// ACLED files as people publish them (tests/fixtures/acled/, a few dozen rows per layout):
// the dyadic layouts of 2019-2023 (with and without data_id, event_id_no_cnty and iso3,
// numeric inter codes) and the current monadic layout (one row per side, text inter codes),
// in the date forms ACLED's exports and spreadsheets write. Each file is read with an
// independent CSV parser (csv-parse) for the expectations, imported through the import
// pipeline as `npm run import -- --format acled` does, and checked through the API: every
// row read, every side's actors on the event, one actor per ACLED name, ACLED's types kept
// and exported back, and each event counted in the month and week of its event_date.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitList, type VocabularyEntry } from '../../src/modules/events/render/acled-codebook.js';
import { acledRecords, parseAcledDate, type ImportRecord } from '../../src/modules/acled/import.js';
import { actorKindsByName } from '../../src/modules/actors/repository.js';
import { importEvents } from '../../src/modules/imports/import.js';
import type { ImportReport } from '../../src/modules/imports/schemas.js';
import { eventBody, postEvent, reportBody } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { exportAcled, vocabularyOf, type AcledRow } from './acled-helpers.js';

type Row = Record<string, string>;
type Body = Record<string, any>;

const FILES = {
  ukraine: 'ukraine-2022-dyadic.csv', // 2023 columns (disorder_type, civilian_targeting, tags), numeric inter, 24-Feb-22
  afghanistan: 'afghanistan-2020-dyadic.csv', // data_id, event_id_no_cnty, iso3, numeric inter, 21 March 2020
  india: 'india-2019-dyadic.csv', // event_id_no_cnty and iso3 without data_id or iso, 05-August-2019
  bangladesh: 'bangladesh-2024-monadic.csv', // one row per side, text inter, 5-Aug-24
} as const;
type File = keyof typeof FILES;
const COUNTRY: Record<File, string> = { ukraine: 'UKR', afghanistan: 'AFG', india: 'IND', bangladesh: 'BGD' };

const text = (file: File) => readFileSync(new URL(`../fixtures/acled/${FILES[file]}`, import.meta.url), 'utf8');
const rowsOf = (csv: string) => parse<Row>(csv, { columns: true });

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** The fixtures' date forms, read here on their own (each file writes one form): the ISO date. */
function isoDate(file: File, value: string): string {
  const [, day, month, year] =
    file === 'afghanistan'
      ? /^(\d+) (\w+) (\d{4})$/.exec(value)!
      : file === 'india'
        ? /^(\d+)-(\w+)-(\d{4})$/.exec(value)!
        : /^(\d+)-(\w+)-(\d{2})$/.exec(value)!;
  const full = year!.length === 2 ? `20${year}` : year!;
  return `${full}-${String(MONTHS.indexOf(month!.slice(0, 3).toLowerCase()) + 1).padStart(2, '0')}-${day!.padStart(2, '0')}`;
}

/** Each file's rows grouped by event, in file order. */
function eventsOf(rows: Row[]): Map<string, Row[]> {
  const events = new Map<string, Row[]>();
  for (const row of rows) events.set(row.event_id_cnty!, [...(events.get(row.event_id_cnty!) ?? []), row]);
  return events;
}

/** An event's sides as the file gives them: actor1 and assoc_actor_1 (and actor2, assoc_actor_2), one list per row of a monadic file. */
function sidesOf(rows: Row[]): string[][] {
  if (!('actor2' in rows[0]!))
    return rows.map((row) => [row.actor1!, ...splitList(row.assoc_actor_1!)].filter(Boolean));
  const row = rows[0];
  return [
    [row.actor1!, ...splitList(row.assoc_actor_1!)].filter(Boolean),
    [row.actor2!, ...splitList(row.assoc_actor_2!)].filter(Boolean),
  ];
}

let t: TestApp;
let vocabulary: VocabularyEntry[];
const reports = {} as Record<File, ImportReport>;
/** Imported events by ACLED id. */
const events = new Map<string, Body>();

/** As `npm run import -- --format acled` imports a file: actors matched by name to existing ones. */
async function importCsv(csv: string): Promise<ImportReport> {
  const existingKinds = (names: string[]) => actorKindsByName(t.db.prisma, names);
  return importEvents(t.db, 'acled-layouts', acledRecords(Readable.from([csv]), vocabulary, { existingKinds }), {
    atomic: false,
  });
}

async function readCsv(csv: string, mergeWindow?: number): Promise<ImportRecord[]> {
  const records: ImportRecord[] = [];
  for await (const record of acledRecords(Readable.from([csv]), vocabulary, { mergeWindow })) records.push(record);
  return records;
}

async function listAll(query: string): Promise<Body[]> {
  const response = await t.anonymous.get(`/v1/events?limit=1000&${query}`);
  expect(response.status).toBe(200);
  return response.body.data as Body[];
}

beforeAll(async () => {
  t = await startTestApp();
  vocabulary = await vocabularyOf(t);
  for (const file of Object.keys(FILES) as File[]) reports[file] = await importCsv(text(file));
  for (const event of await listAll(`country=${Object.values(COUNTRY).join(',')}`))
    events.set(event.external_ids.acled, event);
});

afterAll(async () => {
  await t?.close();
});

describe('1. event_date in every form ACLED and spreadsheets write', () => {
  it('imports every row of files dated 24-Feb-22, 21 March 2020 and 05-August-2019, on the right day', () => {
    for (const file of ['ukraine', 'afghanistan', 'india'] as const) {
      const rows = rowsOf(text(file));
      expect(rows.length).toBeGreaterThan(15);
      expect(reports[file], file).toMatchObject({ accepted: rows.length, rejected: 0, skipped: 0, errors: [] });
      for (const row of rows)
        expect(events.get(row.event_id_cnty!)?.occurred.start, row.event_id_cnty).toBe(isoDate(file, row.event_date!));
    }
  });

  it('reads each form, and refuses an ambiguous or impossible date with a message that says why', () => {
    const forms: [string, string][] = [
      ['2024-08-05', '2024-08-05'],
      ['5 August 2024', '2024-08-05'],
      ['21 March 2020', '2020-03-21'],
      ['5-Aug-24', '2024-08-05'],
      ['9-May-20', '2020-05-09'],
      ['05-August-2024', '2024-08-05'],
      ['05-Aug-2024', '2024-08-05'],
      ['5 Sept 2023', '2023-09-05'],
      ['August 5, 2024', '2024-08-05'],
      ['Aug 5, 24', '2024-08-05'],
      ['Monday, August 5, 2024', '2024-08-05'],
      ['2024/08/05', '2024-08-05'],
      ['2024-08-05 00:00:00', '2024-08-05'],
      ['21/03/2020', '2020-03-21'],
      ['03/21/2020', '2020-03-21'],
      ['21.03.2020', '2020-03-21'],
      ['5/5/24', '2024-05-05'],
      ['24-Dec-97', '1997-12-24'],
    ];
    for (const [form, date] of forms) expect(parseAcledDate(form), form).toEqual({ date });
    for (const form of ['05/08/2024', '5-8-24'])
      expect(parseAcledDate(form), form).toEqual({ error: expect.stringMatching(/ambiguous/) });
    for (const form of ['31-Feb-24', '2024-13-01', 'yesterday', '5 Augustus 2024', '13/13/2024', '45509'])
      expect(parseAcledDate(form), form).toEqual({ error: expect.stringMatching(/not a date/) });
  });

  it('reports an unreadable or ambiguous date at its line, and imports the rest', async () => {
    const header =
      'event_id_cnty,event_date,year,time_precision,event_type,sub_event_type,actor1,iso,country,source,fatalities';
    const csv = [
      header,
      'MDA1,5-Aug-24,2024,1,Protests,Peaceful protest,Protesters (Moldova),498,Moldova,Ziarul de Garda,0',
      'MDA2,05/08/2024,2024,1,Protests,Peaceful protest,Protesters (Moldova),498,Moldova,Ziarul de Garda,0',
      'MDA3,31-Feb-24,2024,1,Protests,Peaceful protest,Protesters (Moldova),498,Moldova,Ziarul de Garda,0',
      'MDA4,13/08/2024,2024,1,Protests,Peaceful protest,Protesters (Moldova),498,Moldova,Ziarul de Garda,0',
    ].join('\n');
    const report = await importCsv(csv);
    expect(report).toMatchObject({ accepted: 2, rejected: 2 });
    expect(report.errors).toEqual([
      { line: 3, errors: [{ path: 'event_date', message: expect.stringMatching(/"05\/08\/2024".*ambiguous/) }] },
      { line: 4, errors: [{ path: 'event_date', message: expect.stringMatching(/"31-Feb-24" is not a date/) }] },
    ]);
    const stored = await listAll('external_id=acled:MDA4');
    expect(stored.map((event) => event.occurred.start)).toEqual(['2024-08-13']);
  });
});

describe('2. every side of every layout', () => {
  it('merges the rows of one event in the monadic layout, adjacent or not, and says how many were merged', () => {
    const rows = rowsOf(text('bangladesh'));
    const byEvent = eventsOf(rows);
    const twoSided = [...byEvent.values()].filter((sides) => sides.length > 1);
    expect(twoSided.length).toBeGreaterThan(5);
    expect(reports.bangladesh).toMatchObject({
      accepted: byEvent.size,
      rejected: 0,
      skipped: 0,
      merged: rows.length - byEvent.size,
    });
  });

  it("keeps every side's primary and associated actors, the first row's side as perpetrator, in every layout", () => {
    let checked = 0;
    for (const file of Object.keys(FILES) as File[]) {
      for (const [id, rows] of eventsOf(rowsOf(text(file)))) {
        const event = events.get(id);
        expect(event, id).toBeDefined();
        const [first = [], ...others] = sidesOf(rows);
        const named = (role: string) =>
          event!.participants.filter((p: Body) => p.role === role).map((p: Body) => p.actor.name);
        expect(named('perpetrator'), id).toEqual(first);
        expect(named('target'), id).toEqual([...new Set(others.flat())]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('imports an event whole or not at all: a bad row, or rows that disagree, reject every row of it; rows too far apart are an error', async () => {
    const csv = [
      'event_id_cnty,event_date,event_type,sub_event_type,actor1,assoc_actor_1,inter1,source,fatalities',
      'A1,2024-08-05,Riots,Mob violence,Rioters (Bangladesh),,Rioters,Outlet,1',
      'B1,2024-08-05,Riots,Mob violence,Rioters (Bangladesh),,Rioters,Outlet,0',
      'A1,2024-08-05,Riots,Mob violence,Civilians (Bangladesh),,Civilians,Other outlet,1',
      'C1,2024-08-06,Riots,Mob violence,Rioters (Bangladesh),,Rioters,Outlet,3',
      'C1,2024-08-06,Riots,Mob violence,Civilians (Bangladesh),,Civilians,Outlet,4',
      'D1,2024-08-07,Riots,Mob violence,Rioters (Bangladesh),,Rioters,Outlet,0',
      'D1,05/08/2024,Riots,Mob violence,Civilians (Bangladesh),,Civilians,Outlet,0',
      'E1,2024-08-08,Riots,Mob violence,Rioters (Bangladesh),,Rioters,Outlet,0',
      'F1,2024-08-08,Riots,Mob violence,Rioters (Bangladesh),,Rioters,Outlet,0',
      'G1,2024-08-08,Riots,Mob violence,Rioters (Bangladesh),,Rioters,Outlet,0',
      'H1,2024-08-08,Riots,Mob violence,Rioters (Bangladesh),,Rioters,Outlet,0',
      'E1,2024-08-08,Riots,Mob violence,Civilians (Bangladesh),,Civilians,Outlet,0',
    ].join('\n');
    const records = await readCsv(csv, 3);
    expect(
      records.map((record) => [
        record.line,
        'value' in record ? (record.value as Body).external_ids.acled : 'errors',
        'merged' in record ? record.merged : undefined,
      ]),
    ).toEqual([
      [2, 'A1', 1],
      [3, 'B1', 0],
      [5, 'errors', undefined],
      [6, 'errors', undefined],
      [7, 'errors', undefined],
      [8, 'errors', undefined],
      [9, 'E1', 0],
      [10, 'F1', 0],
      [11, 'G1', 0],
      [12, 'H1', 0],
      [13, 'errors', undefined],
    ]);
    const errors = new Map(records.flatMap((record) => ('errors' in record ? [[record.line, record.errors]] : [])));
    expect(errors.get(5)).toEqual([
      { path: '', message: 'another row of event C1 (line 6) was rejected, so the event is not imported' },
    ]);
    expect(errors.get(6)).toEqual([
      { path: 'fatalities', message: 'fatalities "4" differs from "3" on line 5, another row of event C1' },
    ]);
    expect(errors.get(7)).toEqual([
      { path: '', message: 'another row of event D1 (line 8) was rejected, so the event is not imported' },
    ]);
    expect(errors.get(8)).toEqual([
      { path: 'event_date', message: expect.stringMatching(/^event_date "05\/08\/2024" is ambiguous/) },
    ]);
    expect(errors.get(13)).toEqual([
      { path: 'event_id_cnty', message: expect.stringMatching(/^event E1 began on line 9, more than 3 rows before/) },
    ]);
    const merged = (records[0] as { value: Body }).value;
    expect(merged.participants.map((p: Body) => [p.actor.name, p.role])).toEqual([
      ['Rioters (Bangladesh)', 'perpetrator'],
      ['Civilians (Bangladesh)', 'target'],
    ]);
    expect(merged.reports.map((r: Body) => r.reporter.name)).toEqual(['Outlet', 'Other outlet']);
  });

  it('exports a merged event as one ACLED row with both sides', async () => {
    const { rows } = await exportAcled(t, 'country=BGD');
    const byEvent = eventsOf(rowsOf(text('bangladesh')));
    expect(rows.length).toBe(byEvent.size);
    for (const row of rows) {
      const source = byEvent.get(row.event_id_cnty)!;
      expect([row.actor1, row.assoc_actor_1], row.event_id_cnty).toEqual([source[0]!.actor1, source[0]!.assoc_actor_1]);
      expect([row.actor2, row.assoc_actor_2], row.event_id_cnty).toEqual([
        source[1]?.actor1 ?? '',
        source[1]?.assoc_actor_1 ?? '',
      ]);
    }
  });
});

describe('3. one actor per ACLED name', () => {
  it('gives each name one actor, primary or associated, whatever inter says, in every file', async () => {
    const names = new Set<string>();
    for (const file of Object.keys(FILES) as File[])
      for (const rows of eventsOf(rowsOf(text(file))).values())
        for (const side of sidesOf(rows)) for (const name of side) names.add(name);
    expect(names.size).toBeGreaterThan(40);
    const kinds = new Map<string, Set<string>>();
    for (const event of events.values())
      for (const { actor } of event.participants)
        kinds.set(actor.name, (kinds.get(actor.name) ?? new Set()).add(actor.id));
    expect([...names].filter((name) => kinds.get(name)?.size !== 1)).toEqual([]);
    // Russia's forces are External/Other forces (8) in Ukraine, and an associated actor of Wagner Group's once.
    const russia = await t.anonymous.get('/v1/actors').query({ q: 'Military Forces of Russia (2000-)' });
    expect(russia.body.data.map((actor: Body) => [actor.name, actor.kind])).toEqual([
      ['Military Forces of Russia (2000-)', 'military'],
    ]);
    const inEvents = await listAll(`actor=${russia.body.data[0].id}`);
    const expected = rowsOf(text('ukraine')).filter((row) =>
      [row.actor1, row.actor2, ...splitList(row.assoc_actor_1!), ...splitList(row.assoc_actor_2!)].includes(
        'Military Forces of Russia (2000-)',
      ),
    );
    expect(inEvents.length).toBe(expected.length);
    expect(expected.length).toBeGreaterThan(15);
  });
});

describe('3. one actor per ACLED name, also with actors made before', () => {
  it('names the actor that has the name already, in whatever kind an editor gave it', async () => {
    const posted = await postEvent(
      t.http,
      'existing actor',
      eventBody({
        participants: [{ actor: { name: 'Private Security Forces (Moldova)', kind: 'unit' }, role: 'perpetrator' }],
        reports: [reportBody()],
      }),
    );
    const existing = (await t.http.get(`/v1/events/${posted}`).expect(200)).body.participants[0].actor;
    const csv = [
      'event_id_cnty,event_date,event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,iso,source',
      'MDA201,2024-05-02,Battles,Armed clash,Military Forces of Moldova (1991-),Private Security Forces (Moldova),1,Unidentified Armed Group (Moldova),,3,498,Moldpres',
      'MDA202,2024-05-03,Strategic developments,Arrests,Private Security Forces (Moldova),,8,Civilians (Moldova),,7,498,Moldpres',
    ].join('\n');
    expect(await importCsv(csv)).toMatchObject({ accepted: 2, rejected: 0 });
    const named = (await listAll('external_id=acled:MDA201,acled:MDA202')).flatMap((event) =>
      event.participants
        .filter((p: Body) => p.actor.name === 'Private Security Forces (Moldova)')
        .map((p: Body) => p.actor),
    );
    expect(named).toEqual([existing, existing]);
    expect(existing.kind).toBe('unit');
  });

  it("names the actor that has ACLED's name as an alias, in whatever kind an editor gave it", async () => {
    const kpa = (
      await t.http
        .post('/v1/actors')
        .send({
          name: "Korean People's Army (layouts)",
          kind: 'military',
          aliases: ['Military Forces of North Korea (1948-)'],
        })
        .expect(201)
    ).body;
    const corps = (
      await t.http
        .post('/v1/actors')
        .send({ name: 'Africa Corps (layouts)', kind: 'unit', aliases: ['Expeditionary Corps (RUS301)'] })
        .expect(201)
    ).body;
    const csv = [
      'event_id_cnty,event_date,event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,iso,source',
      'RUS301,2024-12-20,Battles,Armed clash,Military Forces of North Korea (1948-),Expeditionary Corps (RUS301),1,Military Forces of Ukraine (2019-),,1,643,Yonhap',
    ].join('\n');
    expect(await importCsv(csv)).toMatchObject({ accepted: 1, rejected: 0 });
    const [event] = await listAll('external_id=acled:RUS301');
    expect(event!.participants.map((p: Body) => p.actor.id).slice(0, 2)).toEqual([kpa.id, corps.id]);
  });
});

describe("4. ACLED's event types keep their meaning", () => {
  it('gives every sub-event type but Other a type of its own, and exports both types back unchanged', async () => {
    let checked = 0;
    const subEventTypes = new Set<string>();
    for (const file of ['afghanistan', 'india', 'ukraine', 'bangladesh'] as const) {
      const { rows: exported } = await exportAcled(t, `country=${COUNTRY[file]}`);
      const byId = new Map(exported.map((row) => [row.event_id_cnty, row]));
      for (const row of rowsOf(text(file))) {
        const event = events.get(row.event_id_cnty!)!;
        expect(event.type === 'other', `${row.event_id_cnty} ${row.sub_event_type}`).toBe(
          row.sub_event_type === 'Other',
        );
        const back: AcledRow = byId.get(row.event_id_cnty!)!;
        expect([back.event_type, back.sub_event_type], row.event_id_cnty).toEqual([row.event_type, row.sub_event_type]);
        if (row.disorder_type) expect(back.disorder_type, row.event_id_cnty).toBe(row.disorder_type);
        // Dyadic rows come back with the same sides (monadic ones: see 2).
        if ('actor2' in row) {
          const sides = [back.actor1, back.assoc_actor_1, back.actor2, back.assoc_actor_2];
          expect(sides, row.event_id_cnty).toEqual([row.actor1, row.assoc_actor_1, row.actor2, row.assoc_actor_2]);
        }
        subEventTypes.add(row.sub_event_type!);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(80);
    expect(subEventTypes.size).toBe(25);
  });
});

describe('5. week- and month-precision rows stay in the month and week of their event_date', () => {
  it('counts them by event_date in GET /v1/stats/events, as ACLED does', async () => {
    // Precision 2 and 3 at the edges of a month, in Moldova so no other fixture counts with them.
    const rows: [string, number, string, number][] = [
      ['MDA101', 2, '2022-03-01', 4],
      ['MDA102', 3, '2022-03-01', 10],
      ['MDA103', 2, '2022-02-28', 1],
      ['MDA104', 3, '2022-02-28', 2],
      ['MDA105', 3, '2022-03-31', 3],
      ['MDA106', 2, '2022-04-01', 5],
      ['MDA107', 1, '2022-02-14', 6],
      ['MDA108', 3, '2022-02-15', 7],
    ];
    const header = 'event_id_cnty,event_date,time_precision,event_type,sub_event_type,actor1,iso,source,fatalities';
    const csv = [
      header,
      ...rows.map(
        ([id, precision, date, killed]) =>
          `${id},${date},${precision},Battles,Armed clash,Military Forces of Moldova (1991-),498,Moldpres,${killed}`,
      ),
    ].join('\n');
    expect(await importCsv(csv)).toMatchObject({ accepted: rows.length, rejected: 0 });

    const expected = (bucket: (date: string) => string) => {
      const totals = new Map<string, { events: number; killed: number }>();
      for (const [, , date, killed] of rows) {
        const total = totals.get(bucket(date)) ?? { events: 0, killed: 0 };
        totals.set(bucket(date), { events: total.events + 1, killed: total.killed + killed });
      }
      return [...totals]
        .map(([period, { events, killed }]) => ({ period, events, killed }))
        .sort((a, b) => a.period.localeCompare(b.period));
    };
    const monday = (date: string) => {
      const day = new Date(`${date}T00:00:00Z`);
      day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
      return day.toISOString().slice(0, 10);
    };
    for (const [interval, bucket] of [
      ['month', (date: string) => `${date.slice(0, 7)}-01`],
      ['week', monday],
      ['day', (date: string) => date],
    ] as const) {
      const response = await t.anonymous.get(
        `/v1/stats/events?group_by=period&interval=${interval}&country=MDA&occurred_from=2022-01-01&occurred_to=2022-12-31`,
      );
      expect(response.status).toBe(200);
      const got = response.body.data.map((row: Body) => ({
        period: row.period,
        events: row.events,
        killed: row.figures.killed?.low ?? 0,
      }));
      expect(got.length).toBeGreaterThan(2);
      expect(got, interval).toEqual(expected(bucket));
    }
  });

  it("gives the Ukraine file's monthly events and fatalities by event_date", async () => {
    const expected = new Map<string, { events: number; killed: number }>();
    for (const row of rowsOf(text('ukraine'))) {
      const month = `${isoDate('ukraine', row.event_date!).slice(0, 7)}-01`;
      const total = expected.get(month) ?? { events: 0, killed: 0 };
      expected.set(month, { events: total.events + 1, killed: total.killed + Number(row.fatalities) });
    }
    const response = await t.anonymous.get('/v1/stats/events?group_by=period&interval=month&country=UKR');
    expect(response.status).toBe(200);
    const got = response.body.data.map((row: Body) => [
      row.period,
      { events: row.events, killed: row.figures.killed?.low ?? 0 },
    ]);
    expect(got.length).toBe(3);
    expect(got).toEqual([...expected].sort());
  });

  it('exports event_date back as it was read, for every precision', async () => {
    const { rows } = await exportAcled(t, 'country=UKR');
    const source = new Map(rowsOf(text('ukraine')).map((row) => [row.event_id_cnty!, row]));
    expect(rows.length).toBe(source.size);
    for (const row of rows) {
      const from = source.get(row.event_id_cnty)!;
      expect([row.event_date, row.time_precision], row.event_id_cnty).toEqual([
        isoDate('ukraine', from.event_date!),
        from.time_precision,
      ]);
    }
  });
});

describe('6. the place: admin1, admin2 and admin3 as ACLED gives them', () => {
  it('keeps each of the three divisions of every layout (an empty cell is null) and exports them back', async () => {
    let withAdmin3 = 0;
    for (const file of Object.keys(FILES) as File[]) {
      for (const [id, rows] of eventsOf(rowsOf(text(file)))) {
        const { admin1, admin2, admin3 } = events.get(id)!.location;
        const row = rows[0]!;
        expect({ admin1, admin2, admin3 }, id).toEqual({
          admin1: row.admin1 || null,
          admin2: row.admin2 || null,
          admin3: row.admin3 || null,
        });
        if (admin3) withAdmin3++;
      }
    }
    expect(withAdmin3).toBeGreaterThan(20);
    for (const file of ['ukraine', 'bangladesh'] as const) {
      const { rows } = await exportAcled(t, `country=${COUNTRY[file]}`);
      const source = eventsOf(rowsOf(text(file)));
      expect(rows.length).toBe(source.size);
      for (const row of rows) expect(row.admin3, row.event_id_cnty).toBe(source.get(row.event_id_cnty)![0]!.admin3);
    }
  });

  it('rejects the rows of a monadic event that disagree on admin3', async () => {
    const csv = [
      'event_id_cnty,event_date,actor1,admin1,admin2,admin3,source',
      'J1,2024-08-05,Rioters (Bangladesh),Dhaka,Dhaka,Dhanmondi,Outlet',
      'J1,2024-08-05,Civilians (Bangladesh),Dhaka,Dhaka,Kotwali,Outlet',
    ].join('\n');
    const records = await readCsv(csv);
    expect(records).toEqual([
      {
        line: 2,
        errors: [{ path: '', message: 'another row of event J1 (line 3) was rejected, so the event is not imported' }],
      },
      {
        line: 3,
        errors: [
          { path: 'admin3', message: 'admin3 "Kotwali" differs from "Dhanmondi" on line 2, another row of event J1' },
        ],
      },
    ]);
  });
});

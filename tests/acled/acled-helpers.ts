// Helpers of the ACLED tests: export as ACLED CSV and parse it with an independent CSV
// parser (csv-parse), read a CSV back with the import reader, and import its bodies.
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import { ACLED_COLUMNS, type VocabularyEntry } from '../../src/modules/acled/codebook.js';
import { acledRecords, type ImportRecord } from '../../src/modules/acled/import.js';
import { importEvents } from '../../src/modules/imports/import.js';
import type { ImportReport } from '../../src/modules/imports/schemas.js';
import type { TestApp } from '../helpers/test-app.js';

export type AcledRow = Record<(typeof ACLED_COLUMNS)[number], string>;

/** GET /v1/events?format=acled-csv&<query>: the text and its rows, after checking the header and content type. */
export async function exportAcled(t: TestApp, query = ''): Promise<{ text: string; rows: AcledRow[] }> {
  const response = await t.anonymous.get(`/v1/events?format=acled-csv${query ? `&${query}` : ''}`).buffer(true);
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
  const text = response.text;
  expect(text.slice(0, text.indexOf('\r\n'))).toBe(ACLED_COLUMNS.join(','));
  const rows = parse(text, { columns: true }) as AcledRow[];
  return { text, rows };
}

export async function vocabularyOf(t: TestApp): Promise<VocabularyEntry[]> {
  const response = await t.anonymous.get('/v1/event-types');
  expect(response.status).toBe(200);
  return response.body.data as VocabularyEntry[];
}

/** Every record the reader makes of a CSV text, given in chunks of `chunkSize` characters. */
export async function readAcled(text: string | Buffer, vocabulary: VocabularyEntry[], chunkSize = 4096): Promise<ImportRecord[]> {
  const chunks: (string | Buffer)[] = [];
  for (let at = 0; at < text.length; at += chunkSize) chunks.push(text.slice(at, at + chunkSize));
  const records: ImportRecord[] = [];
  for await (const record of acledRecords(Readable.from(chunks), vocabulary)) records.push(record);
  return records;
}

/** Imports the records through the bulk-import pipeline (as `npm run import -- --format acled` does); every line must be accepted. */
export async function importRecords(t: TestApp, records: ImportRecord[]): Promise<ImportReport> {
  const report = await importEvents(
    t.db,
    'acled-test',
    (async function* () {
      yield* records;
    })(),
    { atomic: false },
  );
  if (report.rejected > 0) throw new Error(`rejected lines: ${JSON.stringify(report.errors)}`);
  return report;
}

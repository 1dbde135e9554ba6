// Helpers of the ACLED tests: export as ACLED CSV and parse it with an independent CSV
// parser (csv-parse), read a CSV back with the import reader, and import its bodies.
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import { ACLED_COLUMNS, type VocabularyEntry } from '../../src/modules/events/render/acled-codebook.js';
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
  const rows = parse<AcledRow>(text, { columns: true });
  return { text, rows };
}

/**
 * The seeded vocabulary as far as ACLED is concerned: the types with an ACLED pair (label and
 * pair), and two without. round-trip.test.ts checks it against the database's; the reader's unit
 * tests use it without one.
 */
export const SEEDED_VOCABULARY: VocabularyEntry[] = [
  ['abduction', 'Abduction/forced disappearance', 'Violence against civilians', 'Abduction/forced disappearance'],
  ['agreement', 'Agreement', 'Strategic developments', 'Agreement'],
  ['arrest', 'Arrests', 'Strategic developments', 'Arrests'],
  ['attack', 'Attack', 'Violence against civilians', 'Attack'],
  [
    'base_established',
    'Headquarters or base established',
    'Strategic developments',
    'Headquarters or base established',
  ],
  ['battle', 'Battle', 'Battles', 'Armed clash'],
  ['capture', 'Capture', null, null],
  ['chemical_weapon', 'Chemical weapon', 'Explosions/Remote violence', 'Chemical weapon'],
  ['deployment', 'Deployment', 'Strategic developments', 'Other'],
  ['equipment_transfer', 'Equipment transfer', 'Strategic developments', 'Other'],
  ['excessive_force', 'Excessive force against protesters', 'Protests', 'Excessive force against protesters'],
  ['explosive_device', 'Remote explosive/landmine/IED', 'Explosions/Remote violence', 'Remote explosive/landmine/IED'],
  ['grenade', 'Grenade', 'Explosions/Remote violence', 'Grenade'],
  ['group_change', 'Change to group/activity', 'Strategic developments', 'Change to group/activity'],
  ['looting', 'Looting/property destruction', 'Strategic developments', 'Looting/property destruction'],
  ['mob_violence', 'Mob violence', 'Riots', 'Mob violence'],
  ['other', 'Other', null, null],
  ['prisoner_exchange', 'Prisoner exchange', 'Strategic developments', 'Agreement'],
  ['protest', 'Peaceful protest', 'Protests', 'Peaceful protest'],
  ['protest_intervention', 'Protest with intervention', 'Protests', 'Protest with intervention'],
  ['riot', 'Violent demonstration', 'Riots', 'Violent demonstration'],
  ['sexual_violence', 'Sexual violence', 'Violence against civilians', 'Sexual violence'],
  ['shelling', 'Shelling/artillery/missile attack', 'Explosions/Remote violence', 'Shelling/artillery/missile attack'],
  ['strike', 'Strike', 'Explosions/Remote violence', 'Air/drone strike'],
  ['suicide_bomb', 'Suicide bomb', 'Explosions/Remote violence', 'Suicide bomb'],
  ['territory_regained', 'Government regains territory', 'Battles', 'Government regains territory'],
  ['territory_taken', 'Non-state actor overtakes territory', 'Battles', 'Non-state actor overtakes territory'],
  [
    'territory_transfer',
    'Non-violent transfer of territory',
    'Strategic developments',
    'Non-violent transfer of territory',
  ],
  ['weapons_disrupted', 'Disrupted weapons use', 'Strategic developments', 'Disrupted weapons use'],
].map(([code, label, eventType, subEventType]) => ({
  code: code!,
  label: label!,
  acled_event_type: eventType ?? null,
  acled_sub_event_type: subEventType ?? null,
}));

export async function vocabularyOf(t: TestApp): Promise<VocabularyEntry[]> {
  const response = await t.anonymous.get('/v1/event-types');
  expect(response.status).toBe(200);
  return response.body.data as VocabularyEntry[];
}

/** Every record the reader makes of a CSV text, given in chunks of `chunkSize` characters. */
export async function readAcled(
  text: string | Buffer,
  vocabulary: VocabularyEntry[],
  chunkSize = 4096,
): Promise<ImportRecord[]> {
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

// The ACLED round trip, both ways. Ours first: events written here, exported as ACLED CSV,
// read back with acledRecords into a second database, give the same events (as far as ACLED's
// columns carry them) and export to the same CSV, column by column, but for the columns
// docs/acled.md lists as lost. ACLED's first: the sample file, imported and exported, gives
// the sample's values back in every column the export writes.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACLED_COLUMNS,
  ROLE_OF_SIDE,
  SIDE_OF_ROLE,
  type VocabularyEntry,
} from '../../src/modules/events/render/acled-codebook.js';
import { eventBody, postEvent, reportBody, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import {
  exportAcled,
  importRecords,
  readAcled,
  SEEDED_VOCABULARY,
  vocabularyOf,
  type AcledRow,
} from './acled-helpers.js';

/** Columns a round trip does not keep: timestamp is the time of the last change in the database that exports. */
const LOST = new Set(['timestamp']);
const COMPARED = ACLED_COLUMNS.filter((column) => !LOST.has(column));

let source: TestApp;
let target: TestApp;
let sampleTarget: TestApp;
const run = unique();
const actor = (name: string, kind = 'group') => ({ name: `${name} ${run}`, kind });

/** Events that use every mapping: each type kind, precision, side, figure, kept tag. */
const EVENTS = [
  eventBody({
    type: 'battle',
    description: 'A clash with "quotes", commas,\nand a second line.',
    occurred: { start: '2025-01-10', precision: 'day' },
    location: {
      name: 'Sudzha',
      admin1: 'Kursk Oblast',
      admin2: 'Sudzhansky',
      admin3: 'Sudzhansky selsoviet',
      country: 'RUS',
      lat: 51.19,
      lon: 35.27,
      precision: 'exact',
    },
    participants: [
      { actor: actor('First force', 'military'), role: 'perpetrator' },
      { actor: actor('Ally', 'unit'), role: 'supporter' },
      { actor: actor('Second force', 'military'), role: 'target' },
      { actor: actor('Bystanders'), role: 'victim' },
    ],
    figures: [{ measure: 'killed', low: 3, best: 5, high: 8 }],
    reports: [
      reportBody({ reporter: actor('Outlet A', 'media') }),
      reportBody({ reporter: actor('Agency B', 'agency') }),
    ],
    tags: ['frontline'],
  }),
  eventBody({
    type: 'capture',
    title: 'A capture without a description',
    occurred: { start: '2025-01-06', end: '2025-01-12', precision: 'week' },
    location: { admin1: 'Kursk Oblast', country: 'RUS', precision: 'near' },
    participants: [{ actor: actor('Captive', 'person'), role: 'victim' }],
    reports: [reportBody({ reporter: actor('Outlet A', 'media') })],
    tags: ['pow', 'type=strike'],
  }),
  eventBody({
    type: 'deployment',
    description: 'Troops were sent for a month.',
    occurred: { start: '2025-02-01', end: '2025-02-28', precision: 'month' },
    location: { admin1: 'Kursk Oblast', country: 'RUS', lat: 51.7, lon: 36.2, precision: 'admin1' },
    figures: [{ measure: 'killed', value: 40, qualifier: 'approximately' }],
    reports: [reportBody({ reporter: actor('Outlet C', 'media') })],
  }),
  eventBody({
    type: 'equipment_transfer',
    description: 'Equipment handed over.',
    occurred: { start: '2025-02-03', precision: 'day' },
    location: { country: 'UKR', precision: 'unknown' },
    reports: [reportBody({ reporter: actor('Outlet C', 'media') })],
  }),
  eventBody({
    type: 'prisoner_exchange',
    description: 'Prisoners exchanged over three days.',
    occurred: { start: '2025-03-01', end: '2025-03-03', precision: 'range' },
    location: { name: 'Border crossing', country: 'BLR', lat: 51.5, lon: 30.8, precision: 'near' },
    participants: [
      { actor: actor('Party one', 'state'), role: 'sender' },
      { actor: actor('Party two', 'state'), role: 'recipient' },
    ],
    reports: [
      reportBody({ reporter: actor('Outlet A', 'media') }),
      reportBody({ reporter: actor('Outlet C', 'media') }),
    ],
  }),
  eventBody({
    type: 'strike',
    description: 'A drone strike.',
    occurred: { start: '2025-03-08', precision: 'day' },
    location: {
      name: 'Kharkiv',
      admin1: 'Kharkiv Oblast',
      country: 'UKR',
      lat: 49.9935,
      lon: 36.2304,
      precision: 'exact',
    },
    figures: [{ measure: 'killed', value: 2, qualifier: 'exact' }],
    reports: [reportBody({ reporter: actor('Agency B', 'agency') })],
  }),
  eventBody({
    type: 'other',
    description: 'Shelling, as an ACLED import leaves it.',
    occurred: { start: '2025-03-09', precision: 'day' },
    location: { name: 'Kupiansk', country: 'UKR', lat: 49.71, lon: 37.61, precision: 'exact' },
    reports: [reportBody({ reporter: actor('Outlet A', 'media') })],
    tags: [
      'acled:event_type=Explosions/Remote violence',
      'acled:sub_event_type=Shelling/artillery/missile attack',
      'acled:source_scale=National',
    ],
  }),
  eventBody({
    type: 'attack',
    description: 'An attack on civilians.',
    occurred: { start: '2025-03-10', precision: 'day' },
    location: { name: 'Somewhere', country: 'SDN', lat: 13.6, lon: 25.3, precision: 'exact' },
    participants: [
      { actor: actor('Armed group'), role: 'perpetrator' },
      { actor: actor('Villagers'), role: 'victim' },
      { actor: actor('Farmers'), role: 'victim' },
    ],
    figures: [{ measure: 'killed', value: 7, qualifier: 'at_least' }],
    reports: [reportBody({ reporter: actor('Outlet D', 'media') })],
  }),
];

const byNotes = (rows: AcledRow[]) => new Map(rows.map((row) => [row.notes, row]));
const project = (row: AcledRow) => Object.fromEntries(COMPARED.map((column) => [column, row[column]]));

beforeAll(async () => {
  [source, target, sampleTarget] = await Promise.all([startTestApp(), startTestApp(), startTestApp()]);
  for (const [i, body] of EVENTS.entries()) await postEvent(source.http, `event ${i}`, body);
});

afterAll(async () => {
  await Promise.all([source?.close(), target?.close(), sampleTarget?.close()]);
});

describe('ACLED round trip', () => {
  it('reads the vocabulary the import tests assume from the seeded database', async () => {
    const vocabulary = await vocabularyOf(target);
    const acled = (entries: VocabularyEntry[]) =>
      entries
        .filter((entry) => entry.acled_sub_event_type)
        .map(({ code, label, acled_event_type, acled_sub_event_type }) => ({
          code,
          label,
          acled_event_type,
          acled_sub_event_type,
        }))
        .sort((a, b) => a.code.localeCompare(b.code));
    expect(acled(vocabulary).length).toBeGreaterThan(25);
    expect(acled(vocabulary)).toEqual(acled(SEEDED_VOCABULARY));
  });

  it('export, then import, gives the same events and the same CSV but for the columns that are lost', async () => {
    const first = await exportAcled(source);
    expect(first.rows).toHaveLength(EVENTS.length);
    const records = await readAcled(first.text, await vocabularyOf(target));
    await importRecords(target, records);
    const second = await exportAcled(target);
    expect(second.rows).toHaveLength(EVENTS.length);

    const before = byNotes(first.rows);
    const after = byNotes(second.rows);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [notes, row] of before) expect(project(after.get(notes)!), notes).toEqual(project(row));

    // The events themselves, as far as ACLED's columns carry them.
    const events = async (t: TestApp) => {
      const list = (await t.anonymous.get('/v1/events?limit=100')).body.data as Record<string, any>[];
      return new Map(list.map((event) => [event.description ?? event.title, event]));
    };
    const originals = await events(source);
    const copies = await events(target);
    for (const [key, original] of originals) {
      const copy = copies.get(key)!;
      expect(copy, key).toBeDefined();
      expect(copy.type, key).toBe(original.type);
      expect(copy.tags, key).toEqual(original.tags);
      // Every location precision used here (exact, near, admin1, unknown) has a geo_precision of its own.
      expect(copy.location, key).toEqual(original.location);
      expect(copy.reports.map((r: any) => r.reporter.name)).toEqual([
        ...new Set(original.reports.map((r: any) => r.reporter.name)),
      ]);
      const killed = (event: any) =>
        event.figures.filter((f: any) => f.measure === 'killed').map((f: any) => f.low ?? f.best);
      expect(killed(copy), key).toEqual(killed(original));
      // Roles come back as ACLED's two sides: perpetrator for actor1's, target for actor2's; supporters after their side.
      const side = (which: 1 | 2) =>
        [false, true].flatMap((supporters) =>
          original.participants
            .filter((p: any) => SIDE_OF_ROLE[p.role as 'other'] === which && (p.role === 'supporter') === supporters)
            .map((p: any) => [p.actor.name, ROLE_OF_SIDE[which]]),
        );
      expect(
        copy.participants.map((p: any) => [p.actor.name, p.role]),
        key,
      ).toEqual([...side(1), ...side(2)]);
    }
    // Whole intervals survive for days, weeks of seven days and calendar months of 31 days.
    expect(copies.get('A capture without a description')!.occurred).toEqual(
      originals.get('A capture without a description')!.occurred,
    );
    const day = 'A clash with "quotes", commas,\nand a second line.';
    expect(copies.get(day)!.occurred).toEqual(originals.get(day)!.occurred);
  });

  it('imports the sample file and exports its values back in every column the export writes', async () => {
    const sample = readFileSync(new URL('../fixtures/acled-sample.csv', import.meta.url), 'utf8');
    const records = await readAcled(sample, await vocabularyOf(sampleTarget));
    await importRecords(sampleTarget, records);
    const exported = byNotes((await exportAcled(sampleTarget)).rows);
    const original = parse<Record<string, string>>(sample, { columns: true });
    expect(exported.size).toBe(original.length);
    for (const row of original) {
      const back = exported.get(row.notes!);
      expect(back, row.event_id_cnty).toBeDefined();
      const expected = Object.fromEntries(COMPARED.map((column) => [column, row[column] ?? '']));
      expect(project(back!), row.event_id_cnty).toEqual(expected);
    }
  });
});

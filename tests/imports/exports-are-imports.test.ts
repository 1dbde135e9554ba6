// Exports are imports (docs/data-model.md, Imports): an NDJSON export line is a valid line for POST /v1/imports
// as it is (read-only fields ignored or mapped, the event's id kept as external id self:<id>),
// and an ACLED-CSV export of events that were posted, imported back, finds the same events.
// Round trips: NDJSON export -> import into an empty instance -> the same ACLED CSV (but for
// `timestamp`); any export -> import into the same instance -> nothing added.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../helpers/run-script.js';
import { ACLED_COLUMNS } from '../../src/modules/events/render/acled-codebook.js';
import { documentBody, eventBody, reportBody, unique } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { exportAcled, importRecords, readAcled, vocabularyOf, type AcledRow } from '../acled/acled-helpers.js';

let source: TestApp;
let target: TestApp;
const run = unique();
const tag = `round-${run}`;
const actor = (name: string, kind = 'group') => ({ name: `${name} ${run}`, kind });

/** Events that use what an export carries: documents, via chains, figure subjects, an editor's status, external ids. */
const EVENTS = [
  eventBody({
    type: 'battle',
    description: 'A clash.',
    occurred: { start: '2025-01-10', precision: 'day' },
    location: { name: 'Sudzha', admin1: 'Kursk Oblast', country: 'RUS', lat: 51.19, lon: 35.27, precision: 'exact' },
    participants: [
      { actor: actor('First force', 'military'), role: 'perpetrator' },
      { actor: actor('Second force', 'military'), role: 'target' },
    ],
    figures: [{ measure: 'killed', low: 3, best: 5, high: 8, subject: actor('Second force', 'military') }],
    reports: [
      reportBody({
        reporter: actor('Outlet A', 'media'),
        via: [actor('Agency B', 'agency')],
        document: documentBody({ published_at: '2025-01-11T08:00:00Z' }),
        stated_at: '2025-01-11T09:30:00+02:00',
        quote: 'Fighting near Sudzha.',
        figures: [
          { measure: 'killed', value: 5, qualifier: 'approximately', subject: actor('Second force', 'military') },
        ],
      }),
      reportBody({ reporter: actor('Agency B', 'agency'), stance: 'asserts' }),
    ],
    tags: [tag, 'frontline'],
  }),
  eventBody({
    type: 'capture',
    title: 'A capture an editor confirmed',
    status: 'confirmed',
    occurred: { start: '2025-01-06', end: '2025-01-12', precision: 'week' },
    location: { admin1: 'Kursk Oblast', country: 'RUS', precision: 'admin1' },
    participants: [{ actor: actor('Captive', 'person'), role: 'victim' }],
    reports: [reportBody({ reporter: actor('Outlet A', 'media'), stated_at: '2025-01-13' })],
    tags: [tag],
  }),
  eventBody({
    type: 'strike',
    description: 'Imported from ACLED once.',
    occurred: { start: '2025-03-08', precision: 'day' },
    location: { name: 'Kharkiv', country: 'UKR', lat: 49.99, lon: 36.23, precision: 'exact' },
    reports: [reportBody({ reporter: actor('Outlet C', 'media') })],
    tags: [tag],
    external_ids: { acled: `UKR${run}` },
  }),
];

beforeAll(async () => {
  [source, target] = await Promise.all([startTestApp(), startTestApp()]);
  for (const body of EVENTS) await source.http.post('/v1/events').send(body).expect(201);
});
afterAll(async () => {
  await Promise.all([source?.close(), target?.close()]);
});

const ndjsonExport = async (t: TestApp) => {
  const text = (await t.http.get(`/v1/events?format=ndjson&tag=${tag}&limit=1000`).expect(200)).text;
  const lines = text.split('\n').filter(Boolean);
  expect(lines.length).toBe(EVENTS.length);
  return text;
};

const postImport = (t: TestApp, body: string) =>
  t.http.post('/v1/imports').set('content-type', 'application/x-ndjson').send(body).expect(200);

/** The ACLED rows of the tagged events, in event_id_cnty order, without `timestamp`. */
const acledRows = async (t: TestApp) => {
  const { rows } = await exportAcled(t, `tag=${tag}`);
  expect(rows.length).toBe(EVENTS.length);
  return rows
    .map((row) => Object.fromEntries(ACLED_COLUMNS.filter((c) => c !== 'timestamp').map((c) => [c, row[c]])))
    .sort((a, b) => String(a.event_id_cnty).localeCompare(String(b.event_id_cnty)));
};

describe('an NDJSON export is an import', () => {
  it('back into the same instance: every line skipped, nothing added', async () => {
    const text = await ndjsonExport(source);
    const before = await source.rowCounts();
    const report = (await postImport(source, text)).body;
    expect(report).toEqual({ accepted: 0, rejected: 0, skipped: EVENTS.length, errors: [] });
    expect(await source.rowCounts()).toEqual(before);
  });

  it('into an empty instance: every event, the same ACLED CSV; a second import skips them all', async () => {
    const text = await ndjsonExport(source);
    const report = (await postImport(target, text)).body;
    expect(report).toEqual({ accepted: EVENTS.length, rejected: 0, skipped: 0, errors: [] });
    expect(await acledRows(target)).toEqual(await acledRows(source));

    // The copies keep their origin: self:<id of the source's event>, their status source, reports, documents and via chains.
    const copied = (await target.http.get(`/v1/events?tag=${tag}&limit=100`).expect(200)).body.data as Record<
      string,
      any
    >[];
    const original = (await source.http.get(`/v1/events?tag=${tag}&limit=100`).expect(200)).body.data as Record<
      string,
      any
    >[];
    const bySelf = new Map(copied.map((e) => [e.external_ids.self, e]));
    for (const event of original) {
      const copy = bySelf.get(event.id);
      expect(copy, `the copy of ${event.id}`).toBeDefined();
      expect(copy!.external_ids).toEqual({ ...event.external_ids, self: event.id });
      for (const field of [
        'type',
        'title',
        'description',
        'status',
        'status_source',
        'occurred',
        'location',
        'tags',
        'figures',
      ])
        expect(stripIds(copy![field]), field).toEqual(stripIds(event[field]));
      expect(stripIds(copy!.participants)).toEqual(stripIds(event.participants));
      const reportOf = (r: Record<string, any>) => {
        const { id: _id, event_id: _event, created_at: _c, updated_at: _u, created_by: _b, ...rest } = r;
        return stripIds(rest);
      };
      expect(copy!.reports.map(reportOf)).toEqual(event.reports.map(reportOf));
      expect(copy!.independent_reporter_count).toBe(event.independent_reporter_count);
    }

    const before = await target.rowCounts();
    expect((await postImport(target, text)).body).toEqual({
      accepted: 0,
      rejected: 0,
      skipped: EVENTS.length,
      errors: [],
    });
    // The copies' own export is an import too: back into the target, nothing is added.
    expect((await postImport(target, await ndjsonExport(target))).body).toEqual({
      accepted: 0,
      rejected: 0,
      skipped: EVENTS.length,
      errors: [],
    });
    expect(await target.rowCounts()).toEqual(before);
  });

  it('npm run import takes the export file as it is: back into the same instance, every line skipped', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'exports-are-imports-'));
    try {
      const file = path.join(folder, 'export.ndjson');
      await writeFile(file, await ndjsonExport(source));
      const before = await source.rowCounts();
      const result = await runScript('scripts/import.ts', [file], source.databaseUrl);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ accepted: 0, rejected: 0, skipped: EVENTS.length, errors: [] });
      expect(await source.rowCounts()).toEqual(before);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 60_000);

  it('maps only what is read-only: an unknown field is still refused by name', async () => {
    const line = JSON.parse((await ndjsonExport(source)).split('\n')[0]!);
    const report = (await postImport(source, JSON.stringify({ ...line, colour: 'red' }))).body;
    expect(report.rejected).toBe(1);
    expect(JSON.stringify(report.errors)).toContain('colour');
  });
});

describe('an ACLED-CSV export is an import', () => {
  it('of posted events, back into the same instance: nothing added, no second reporter', async () => {
    const { text, rows } = await exportAcled(source, `tag=${tag}`);
    expect(rows.length).toBe(EVENTS.length);
    const counts = (await source.http.get(`/v1/events?tag=${tag}&limit=100`).expect(200)).body.data.map(
      (e: { independent_reporter_count: number }) => e.independent_reporter_count,
    );
    const before = await source.rowCounts();
    const report = await importRecords(source, await readAcled(text, await vocabularyOf(source)));
    expect(report).toEqual({ accepted: 0, rejected: 0, skipped: EVENTS.length, errors: [] });
    expect(await source.rowCounts()).toEqual(before);
    const after = (await source.http.get(`/v1/events?tag=${tag}&limit=100`).expect(200)).body.data.map(
      (e: { independent_reporter_count: number }) => e.independent_reporter_count,
    );
    expect(after).toEqual(counts);
  });

  it('of copies made from an NDJSON export, back into their instance: nothing added', async () => {
    const { text, rows } = await exportAcled(target, `tag=${tag}`);
    expect(rows.length).toBe(EVENTS.length);
    expect(rows.map((row: AcledRow) => row.event_id_cnty).sort()).toEqual(
      (await exportAcled(source, `tag=${tag}`)).rows.map((row: AcledRow) => row.event_id_cnty).sort(),
    );
    const before = await target.rowCounts();
    const report = await importRecords(target, await readAcled(text, await vocabularyOf(target)));
    expect(report).toEqual({ accepted: 0, rejected: 0, skipped: EVENTS.length, errors: [] });
    expect(await target.rowCounts()).toEqual(before);
  });
});

/** A value with the ids of nested actors and documents removed: they differ between instances. */
function stripIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripIds);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== 'id')
        .map(([key, inner]) => [key, stripIds(inner)]),
    );
  return value;
}

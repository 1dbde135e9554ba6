// `npm run import -- FILE` end to end, as a user runs it: a child process on the test's
// database, the report as JSON on stdout, progress on stderr, exit codes 0, 1 and 2.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../helpers/run-script.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, unique } from '../helpers/fixtures.js';

let t: TestApp;
let folder: string;
beforeAll(async () => {
  t = await startTestApp();
  folder = await mkdtemp(path.join(tmpdir(), 'conflict-events-import-'));
});
afterAll(async () => {
  await t.close();
  await rm(folder, { recursive: true, force: true });
});

const run = (args: string[]) => runScript('scripts/import.ts', args, t.databaseUrl);

async function file(name: string, lines: unknown[]): Promise<string> {
  const at = path.join(folder, name);
  await writeFile(at, `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`);
  return at;
}

const tagged = async (tag: string) =>
  (await t.http.get(`/v1/events?tag=${tag}&limit=100&sort=occurred`).expect(200)).body.data as {
    title: string;
    created_by: string;
    external_ids: Record<string, string>;
  }[];

describe('npm run import', () => {
  it('imports a file (exit 0), and again skips every event (exit 0, nothing new)', async () => {
    const tag = `cli-${unique()}`;
    const lines = [1, 2, 3].map((i) =>
      eventBody({ title: `cli ${i}`, tags: [tag], external_ids: { acled: `${tag}-${i}` } }),
    );
    const good = await file('good.ndjson', lines);
    const first = await run(['--author', 'nightly-loader', good]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ accepted: 3, rejected: 0, skipped: 0, errors: [] });
    expect(first.stderr).toMatch(/3\/3 events/);
    const events = await tagged(tag);
    expect(events.map((e) => [e.title, e.created_by])).toEqual([
      ['cli 1', 'nightly-loader'],
      ['cli 2', 'nightly-loader'],
      ['cli 3', 'nightly-loader'],
    ]);

    const before = await t.rowCounts();
    const again = await run([good]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ accepted: 0, rejected: 0, skipped: 3, errors: [] });
    expect(await t.rowCounts()).toEqual(before);
  }, 60_000);

  it('reports bad lines and exits 1; with --atomic writes nothing', async () => {
    const tag = `cli-bad-${unique()}`;
    const mixed = await file('mixed.ndjson', [
      eventBody({ tags: [tag] }),
      '{oops',
      eventBody({ tags: [tag], type: 'nope' }),
    ]);
    const before = await t.rowCounts();
    const atomic = await run(['--atomic', mixed]);
    expect(atomic.code).toBe(1);
    expect(JSON.parse(atomic.stdout)).toMatchObject({ accepted: 1, rejected: 2, errors: [{ line: 2 }, { line: 3 }] });
    expect(atomic.stderr).toMatch(/nothing was written/);
    expect(await t.rowCounts()).toEqual(before);

    const partial = await run([mixed]);
    expect(partial.code).toBe(1);
    const report = JSON.parse(partial.stdout);
    expect(report).toMatchObject({ accepted: 1, rejected: 2, skipped: 0 });
    expect(report.errors[1]).toEqual({
      line: 3,
      errors: [{ path: '/type', message: expect.stringMatching(/^unknown event type "nope"/) }],
    });
    expect(await tagged(tag)).toHaveLength(1);
  }, 60_000);

  it('imports an ACLED export with --format acled, and a second run of the same file changes nothing', async () => {
    const sample = new URL('../fixtures/acled-sample.csv', import.meta.url).pathname;
    const first = await run(['--format', 'acled', sample]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ accepted: 14, rejected: 0, skipped: 0, errors: [] });
    const imported = (await t.http.get('/v1/events?external_id=acled:NGA1001&limit=10').expect(200)).body.data;
    expect(imported).toHaveLength(1);
    const rows = await t.rowCounts();
    const feed = (await t.http.get('/v1/changes?limit=1000').expect(200)).body.next_cursor;

    const again = await run(['--format', 'acled', sample]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ accepted: 0, rejected: 0, skipped: 14, errors: [] });
    expect(await t.rowCounts()).toEqual(rows);
    expect((await t.http.get('/v1/changes?limit=1000').expect(200)).body.next_cursor).toBe(feed);
  }, 60_000);

  it('exits 2 for usage errors: no file, an unknown format, a missing file', async () => {
    const some = await file('some.ndjson', [eventBody()]);
    for (const args of [[], ['--format', 'xml', some], [path.join(folder, 'missing.ndjson')], ['--bogus', some]]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/usage: npm run import/);
      expect(result.stdout).toBe('');
    }
  }, 60_000);
});

// The OpenAPI document, proven usable by a generated client: types generated from
// openapi/openapi.json with openapi-typescript must compile the scenario of
// client-scenario.ts (and a document that disagrees with it must not), and the scenario
// then runs through openapi-fetch against the real app on its HTTP port.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { unique } from '../helpers/fixtures.js';
import {
  connect,
  createEvent,
  disputedCapture,
  everyPage,
  listWithFilter,
  readEvent,
  retitle,
  type Client,
} from './client-scenario.js';
import { clientTypes, compileScenario, DOCUMENT } from './client-types.js';

let t: TestApp;
let client: Client;
beforeAll(async () => {
  t = await startTestApp();
  const { port } = t.app.server.address() as AddressInfo;
  client = connect(`http://127.0.0.1:${port}`, t.keys.editor);
});
afterAll(async () => {
  await t.close();
});

describe('types generated from openapi/openapi.json', () => {
  it('compile the scenario', async () => {
    const { code, output } = await compileScenario(await clientTypes(DOCUMENT));
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('from a document that renames a field the scenario reads, fail to compile it', async () => {
    const document = JSON.parse(await readFile(DOCUMENT, 'utf8'));
    const page = document.components.schemas.EventPage;
    page.properties.next_page = page.properties.next_cursor;
    delete page.properties.next_cursor;
    page.required = page.required.map((name: string) => (name === 'next_cursor' ? 'next_page' : name));
    const { code, output } = await compileScenario(await clientTypes(document));
    expect(code).not.toBe(0);
    expect(output).toMatch(/client-scenario\.ts\(\d+,\d+\): error TS\d+: .*next_cursor/);
  });
});

describe('the scenario, through openapi-fetch against the app', () => {
  const tag = `client-${unique()}`;
  let disputed: Awaited<ReturnType<typeof createEvent>>;

  it('creates an event with two conflicting reports', async () => {
    disputed = await createEvent(
      client,
      disputedCapture('Two soldiers captured near Sudzha', '2024-12-26', tag),
      randomUUID(),
    );
    expect(disputed.httpStatus).toBe(201);
    expect(disputed.etag).toBe('"1"');
    expect(disputed.location).toMatch(new RegExp(`/v1/events/${disputed.id}$`));
    expect(disputed.version).toBe(1);
    expect(disputed.reportCount).toBe(2);
    expect(disputed.stances.sort()).toEqual([
      'General Staff of the Armed Forces of Ukraine: asserts',
      'Ministry of Defence of the Russian Federation: denies',
    ]);
    expect(disputed.claimedCaptured).toEqual([2]);
  });

  it('lists with filters and follows next_cursor to the last page', async () => {
    const matching = [disputed.id];
    for (const day of ['2024-12-27', '2024-12-28', '2024-12-29', '2024-12-30']) {
      matching.push((await createEvent(client, disputedCapture(`Capture of ${day}`, day, tag), randomUUID())).id);
    }
    // Left out by the filters: too early, and a report that nobody denies.
    await createEvent(client, disputedCapture('An earlier capture', '2024-11-01', tag), randomUUID());
    const undisputed = disputedCapture('An undisputed capture', '2024-12-27', tag);
    await createEvent(client, { ...undisputed, reports: undisputed.reports.slice(0, 1) }, randomUUID());

    // Lists are arrays, sent comma-separated as the document says (style form, explode false); commas mean OR.
    const pages = await everyPage(client, {
      tag: [tag],
      type: ['capture', 'death'],
      stance: ['denies'],
      occurred_from: '2024-12-01',
      sort: 'occurred',
      limit: 2,
    });
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const ids of pages) expect(ids.length).toBeLessThanOrEqual(2);
    expect(pages.flat()).toEqual(matching);
  });

  it('patches with If-Match (a merge patch) and reads the new version and ETag', async () => {
    const read = await readEvent(client, disputed.id);
    expect(read.etag).toBe('"1"');
    const patched = await retitle(
      client,
      disputed.id,
      read.etag!,
      'Two soldiers captured near Sudzha, one side denies',
      [tag, 'pow'],
    );
    expect(patched).toMatchObject({ ok: true, etag: '"2"', version: 2, tags: [tag, 'pow'], updatedBy: 'test-editor' });
    expect(await readEvent(client, disputed.id)).toMatchObject({
      etag: '"2"',
      version: 2,
      title: 'Two soldiers captured near Sudzha, one side denies',
    });
  });

  it('gets a stale If-Match back as a 412 problem in the error branch, and nothing changes', async () => {
    const stale = await retitle(client, disputed.id, '"1"', 'A title written over a newer version', [tag]);
    expect(stale.ok).toBe(false);
    if (stale.ok) return;
    expect(stale.failure).toMatchObject({
      httpStatus: 412,
      status: 412,
      type: '/problems/precondition-failed',
      currentVersion: 2,
      etag: '"2"',
    });
    expect(stale.failure.contentType).toMatch(/^application\/problem\+json/);
    expect(await readEvent(client, disputed.id)).toMatchObject({
      version: 2,
      title: 'Two soldiers captured near Sudzha, one side denies',
    });
  });

  it('gets a bad filter back as a 400 problem naming the parameter', async () => {
    const refused = await listWithFilter(client, { occurred_from: 'yesterday' });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.failure).toMatchObject({ httpStatus: 400, status: 400, type: '/problems/invalid-input' });
    expect(refused.failure.contentType).toMatch(/^application\/problem\+json/);
    expect(refused.failure.violations).toEqual([{ path: '/occurred_from', in: 'query' }]);

    const reversed = await listWithFilter(client, { occurred_from: '2025-01-02', occurred_to: '2025-01-01' });
    expect(reversed.ok || reversed.failure.violations).toEqual([{ path: '/occurred_to', in: 'query' }]);
  });
});

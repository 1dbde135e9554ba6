// GET /v1/changes: a client that replays the feed ends with exactly the live data, the
// feed follows commit order, pages walk it without gaps, and failed writes add nothing.
import type supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVISION_LOCK_KEY } from '../../src/db/locks.js';
import { readFeed as feed, type Change } from '../helpers/feed.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { eventBody, expectProblem, reportBody, unique } from '../helpers/fixtures.js';

interface EventJson {
  id: string;
  version: number;
  participants: { actor: { id: string } }[];
  reports: { id: string; version: number; reporter: { id: string; name: string }; via: { id: string }[] }[];
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const ghost = '0193f1a0-0000-7000-8000-00000000dead';

/** POSTs a body that must create a resource; returns the created JSON. */
const create = async (path: string, body: object) => (await t.http.post(path).send(body).expect(201)).body;

/** A write with If-Match set to `version` (not yet sent). */
const ifMatch = (method: 'patch' | 'delete' | 'post', path: string, version: number | null) =>
  t.http[method](path).set('If-Match', `"${version}"`);

const readFeed = (since: string, limit = 1000) => feed(t.http, since, limit);

/** Every resource row as `${resource}/${id}` -> its version and whether it is live (not deleted or withdrawn). */
async function rowsByKey(): Promise<Map<string, { version: number; live: boolean }>> {
  const { rows } = await t.db.pool.query<{ key: string; version: number; live: boolean }>(
    `SELECT 'event/' || id AS key, version, deleted_at IS NULL AS live FROM events
     UNION ALL SELECT 'report/' || id, version, deleted_at IS NULL FROM reports
     UNION ALL SELECT 'actor/' || id, version, true FROM actors
     UNION ALL SELECT 'document/' || id, version, true FROM documents`,
  );
  return new Map(rows.map((row) => [row.key, row]));
}

/** mulberry32: a tiny seeded PRNG, so a failing sequence can be replayed from its seed (FEED_SEED). */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.FEED_SEED ?? 20241226);

describe('GET /v1/changes', () => {
  it(
    `replaying the feed over 200 mixed writes gives exactly the live data (seed ${SEED})`,
    { timeout: 120_000 },
    async () => {
      const random = mulberry32(SEED);
      const int = (n: number) => Math.floor(random() * n);
      const pick = <T>(items: T[]): T => items[int(items.length)]!;
      const run = unique();
      // Small pools of names and URLs, so writes often find an existing actor or document.
      const namedActor = () =>
        ((n) => ({ name: `Feed actor ${run} ${n}`, kind: ['group', 'military', 'agency'][n % 3] }))(int(12));
      const documentUrl = () => `https://feed.example.org/${run}/${int(10)}`;
      const newReport = () =>
        reportBody({
          reporter: namedActor(),
          via: random() < 0.5 ? [namedActor()] : [],
          document: { url: documentUrl() },
        });

      const { cursor: start } = await readFeed('0');
      const before = await rowsByKey();

      // What the client knows: live events with their live reports, and actors; a null version is unknown: GET first.
      type Known = { id: string; version: number | null };
      const events: (Known & { reports: Known[] })[] = [];
      const actors = new Map<string, number | null>();
      const observed = new Set<string>(); // `${key}@${version}` seen in responses: each must be in the feed

      function absorb(json: EventJson) {
        const known = {
          id: json.id,
          version: json.version,
          reports: json.reports.map((r) => ({ id: r.id, version: r.version })),
        };
        const existing = events.find((e) => e.id === json.id);
        // In place: callers hold the object.
        if (existing) Object.assign(existing, known);
        else events.push(known);
        observed.add(`event/${json.id}@${json.version}`);
        for (const r of json.reports) observed.add(`report/${r.id}@${r.version}`);
        const named = [
          ...json.participants.map((p) => p.actor),
          ...json.reports.flatMap((r) => [r.reporter, ...r.via]),
        ];
        for (const { id } of named) if (!actors.has(id)) actors.set(id, null);
      }
      async function refresh(event: Known & { reports: Known[] }) {
        if (event.version === null || event.reports.some((r) => r.version === null))
          absorb((await t.http.get(`/v1/events/${event.id}`).expect(200)).body);
      }
      const bump = (known: Known) => (known.version = known.version === null ? null : known.version + 1);

      // The writes and their weights; a write returns false when there is nothing to apply it to.
      const weights = { createEvent: 18, patchEvent: 15, addReport: 12, patchReport: 12, withdrawReport: 8 };
      const rarer = { deleteEvent: 5, mergeEvents: 5, renameActor: 8, createActor: 5, createDocument: 5 };
      const writes: Record<keyof typeof weights | keyof typeof rarer, () => Promise<boolean | void>> = {
        async createEvent() {
          const reports = Array.from({ length: 1 + int(3) }, newReport);
          absorb(
            await create(
              '/v1/events',
              eventBody({ participants: [{ actor: namedActor(), role: 'perpetrator' }], reports }),
            ),
          );
        },
        async patchEvent() {
          const event = pick(events);
          await refresh(event);
          const patch = pick([
            { title: `Edited ${int(1e3)}` },
            { tags: [`tag-${int(5)}`] },
            { location: { name: `Place ${int(9)}` } },
          ]);
          const response = await ifMatch('patch', `/v1/events/${event.id}`, event.version).send(patch).expect(200);
          expect(response.headers.etag).toBe(`"${event.version! + 1}"`);
          absorb(response.body);
        },
        async addReport() {
          const event = pick(events);
          const request = t.http.post(`/v1/events/${event.id}/reports`); // If-Match is optional here
          if (event.version !== null && random() < 0.5) request.set('If-Match', `"${event.version}"`);
          const report = (await request.send(newReport()).expect(201)).body;
          observed.add(`report/${report.id}@${report.version}`);
          event.reports.push({ id: report.id, version: report.version });
          bump(event);
        },
        async patchReport() {
          const event = pick(events);
          await refresh(event);
          const report = pick(event.reports);
          const patch = pick([
            { quote: `Q ${int(1e3)}` },
            { stance: 'denies' },
            { document: { url: documentUrl() } },
            { reporter: namedActor() },
          ]);
          const response = await ifMatch('patch', `/v1/reports/${report.id}`, report.version).send(patch).expect(200);
          report.version = response.body.version;
          observed.add(`report/${report.id}@${report.version}`);
          if (!actors.has(response.body.reporter.id)) actors.set(response.body.reporter.id, null);
          bump(event);
        },
        async withdrawReport() {
          const event = events.find((e) => e.reports.length >= 2);
          if (!event) return false;
          await refresh(event);
          const report = pick(event.reports);
          await ifMatch('delete', `/v1/reports/${report.id}`, report.version).send({ reason: 'retracted' }).expect(204);
          event.reports.splice(event.reports.indexOf(report), 1);
          bump(event);
        },
        async deleteEvent() {
          if (events.length < 4) return false;
          const event = pick(events);
          await refresh(event);
          await ifMatch('delete', `/v1/events/${event.id}`, event.version).expect(204);
          events.splice(events.indexOf(event), 1);
        },
        async mergeEvents() {
          const [duplicate, survivor] = [pick(events), pick(events)];
          if (events.length < 4 || duplicate === survivor) return false;
          await refresh(duplicate);
          const merge = ifMatch('post', `/v1/events/${duplicate.id}/merge`, duplicate.version);
          const response = await merge.send({ into: survivor.id }).expect(200);
          events.splice(events.indexOf(duplicate), 1);
          absorb(response.body); // the survivor, with the moved reports at their new versions
        },
        async renameActor() {
          const id = pick([...actors.keys()]);
          if (actors.get(id) === null) actors.set(id, (await t.http.get(`/v1/actors/${id}`).expect(200)).body.version);
          const rename = ifMatch('patch', `/v1/actors/${id}`, actors.get(id)!);
          const response = await rename.send({ name: `Renamed ${run} ${int(1e9)}` }).expect(200);
          actors.set(id, response.body.version);
          observed.add(`actor/${id}@${response.body.version}`);
          // Every event and report naming the actor got a new version: forget them all.
          for (const event of events) for (const known of [event, ...event.reports]) known.version = null;
        },
        async createActor() {
          const response = await t.http.post('/v1/actors').send(namedActor());
          expect([200, 201]).toContain(response.status); // 200: found, nothing written
          if (response.status === 201) observed.add(`actor/${response.body.id}@1`);
          if (!actors.has(response.body.id)) actors.set(response.body.id, response.body.version);
        },
        async createDocument() {
          const response = await t.http.post('/v1/documents').send({ url: documentUrl() });
          expect([200, 201]).toContain(response.status);
          if (response.status === 201) observed.add(`document/${response.body.id}@1`);
        },
      };
      const table = Object.entries({ ...weights, ...rarer }) as [keyof typeof writes, number][];
      const total = table.reduce((sum, [, weight]) => sum + weight, 0);
      const done: Record<string, number> = {};
      for (let count = 0; count < 200;) {
        let roll = int(total);
        const name = events.length < 2 ? 'createEvent' : table.find(([, weight]) => (roll -= weight) < 0)![0];
        if ((await writes[name]()) === false) continue;
        done[name] = (done[name] ?? 0) + 1;
        count++;
      }
      expect(Object.keys(done).sort()).toEqual(Object.keys(writes).sort());

      // Replay with an odd page size, so pages end inside a transaction's changes.
      const { changes } = await readFeed(start, 37);
      const replay = new Map<string, number>();
      const history = new Map<string, Change[]>();
      changes.forEach((change, i) => {
        if (i > 0) expect(change.seq).toBeGreaterThan(changes[i - 1]!.seq);
        const key = `${change.resource}/${change.id}`;
        history.set(key, [...(history.get(key) ?? []), change]);
        if (change.action === 'deleted') replay.delete(key);
        else replay.set(key, change.version);
      });
      // The live data this test touched: rows that are new or changed since `before`, and not deleted.
      const after = await rowsByKey();
      const live = new Map<string, number>();
      for (const [key, row] of after)
        if (row.live && before.get(key)?.version !== row.version) live.set(key, row.version);
      expect(live.size).toBeGreaterThan(100);
      expect(Object.fromEntries(replay)).toEqual(Object.fromEntries(live));

      // Per resource: versions follow on with no gap, created comes first and only for new ones, nothing after deleted.
      for (const [key, list] of history) {
        const previous = before.get(key)?.version ?? 0;
        const expected = list.map((change, i) => ({ ...change, version: previous + 1 + i }));
        expect(list, key).toEqual(expected);
        const actions = list.map((change) => change.action).join(' ');
        expect(actions, key).toMatch(
          previous === 0 ? /^created( updated)*( deleted)?$/ : /^updated( updated)*( deleted)?$|^deleted$/,
        );
        expect(after.get(key)?.version, key).toBe(list.at(-1)!.version);
      }
      const inFeed = new Set(changes.map((c) => `${c.resource}/${c.id}@${c.version}`));
      expect([...observed].filter((seen) => !inFeed.has(seen))).toEqual([]);
    },
  );

  it("renaming an actor keeps a deleted event's stored reports at the versions the feed announced", async () => {
    const reporter = { name: `Reporter renamed later ${unique()}`, kind: 'agency' };
    const event: EventJson = await create('/v1/events', eventBody({ reports: [reportBody({ reporter })] }));
    await ifMatch('delete', `/v1/events/${event.id}`, 1).expect(204);
    const { cursor } = await readFeed('0');
    const actorId = event.reports[0]!.reporter.id;
    await ifMatch('patch', `/v1/actors/${actorId}`, 1)
      .send({ name: `${reporter.name} 2` })
      .expect(200);

    const { changes } = await readFeed(cursor);
    const reportChange = changes.find((c) => c.resource === 'report');
    expect(reportChange).toMatchObject({ id: event.reports[0]!.id, action: 'updated', version: 2 });
    const report = (await t.http.get(`/v1/reports/${event.reports[0]!.id}`).expect(200)).body;
    const listed = await t.http.get('/v1/events').query({ include_deleted: true, reporter: actorId }).expect(200);
    expect(listed.body.data.map((e: EventJson) => e.id)).toEqual([event.id]);
    // The deleted event's stored JSON shows the report as GET /v1/reports/{id} does: new name, version 2.
    expect(listed.body.data[0].reports).toEqual([report]);
  });

  it('a writer holding the revision lock keeps every later change out of the feed until it commits', async () => {
    const event: EventJson = await create('/v1/events', eventBody());
    const document = await create('/v1/documents', { url: `https://feed.example.org/${unique()}` });
    const { cursor } = await readFeed('0');

    const earlier = await t.db.pool.connect(); // a session of its own, outside the app's transactions
    try {
      // An earlier writer in its commit phase: it holds the lock and has drawn its seq, but has not committed.
      await earlier.query('BEGIN');
      await earlier.query(`SELECT pg_advisory_xact_lock(${REVISION_LOCK_KEY})`);
      await earlier.query('UPDATE documents SET version = 2, updated_at = now() WHERE id = $1', [document.id]);
      const drawn = await earlier.query<{ id: string }>(
        `INSERT INTO revisions (resource, resource_id, version, action, author, state)
         VALUES ('document', $1, 2, 'updated', 'test', '{}') RETURNING id`,
        [document.id],
      );

      let settled = false;
      const pending = ifMatch('patch', `/v1/events/${event.id}`, 1)
        .send({ title: 'Edited while the lock is held' })
        .then((response) => ((settled = true), response));
      for (let i = 0; ; i++) {
        const waiting = await t.db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
           WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`,
        );
        if (waiting.rows[0]!.n > 0) break; // the PATCH queues on the lock
        if (i > 200) throw new Error('the PATCH never waited for the revision lock');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect((await readFeed(cursor)).changes).toEqual([]);
      expect(settled).toBe(false);

      await earlier.query('COMMIT');
      expect((await pending).status).toBe(200);
      const { changes } = await readFeed(cursor);
      expect(changes.map((c) => [c.resource, c.id, c.action, c.version])).toEqual([
        ['document', document.id, 'updated', 2],
        ['event', event.id, 'updated', 2],
      ]);
      expect(changes[0]!.seq).toBe(Number(drawn.rows[0]!.id));
    } finally {
      earlier.release(true); // closes the session, ending its transaction if the test failed inside it
    }
  });

  it('pages of 3 give each change once and in order; an empty page keeps the cursor', async () => {
    const { cursor: start } = await readFeed('0');
    for (let i = 0; i < 3; i++) await create('/v1/events', eventBody({ reports: [reportBody(), reportBody()] }));
    await create('/v1/actors', { name: `Paging actor ${unique()}`, kind: 'group' });
    const whole = (await t.http.get('/v1/changes').query({ since: start, limit: 1000 }).expect(200)).body;
    expect(whole.data.length).toBeGreaterThanOrEqual(10); // 3 x (event + 2 reports) + the actor

    const seen: Change[] = [];
    let cursor = start;
    for (let pages = 0; ; pages++) {
      const response = await t.http.get(`/v1/changes?since=${cursor}&limit=3`).expect(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const data: Change[] = response.body.data;
      expect(data.length).toBeLessThanOrEqual(3);
      if (data.length === 0) {
        expect(response.body.next_cursor).toBe(cursor);
        expect(pages).toBe(Math.ceil(whole.data.length / 3));
        break;
      }
      expect(response.body.next_cursor).toBe(String(data.at(-1)!.seq));
      seen.push(...data);
      cursor = response.body.next_cursor;
    }
    expect(seen).toEqual(whole.data);
    expect(cursor).toBe(whole.next_cursor);
    // Without since, the feed starts at its first change.
    const first = (await t.http.get('/v1/changes?limit=1').expect(200)).body.data;
    expect(first).toEqual((await t.http.get('/v1/changes?since=0&limit=1').expect(200)).body.data);
    expect(first).toHaveLength(1);
  });

  it('400 for a since that is not a cursor, and for a limit out of 1..1000', async () => {
    for (const query of ['since=abc', 'since=-1', 'since=1.5', 'limit=0', 'limit=1001']) {
      const problem = await expectProblem(t.http.get(`/v1/changes?${query}`), 400);
      expect(problem.errors).toContainEqual(expect.objectContaining({ path: `/${query.split('=')[0]}`, in: 'query' }));
    }
  });

  it('writes that fail (400, 409, 412, 422, 428) add nothing to the feed', async () => {
    const event: EventJson = await create('/v1/events', eventBody());
    const other: EventJson = await create('/v1/events', eventBody());
    await ifMatch('post', `/v1/events/${event.id}/relations`, 1)
      .send({ event_id: other.id, relation: 'follows' })
      .expect(201);
    const actor = await create('/v1/actors', { name: `Failing ${unique()}`, kind: 'group' });
    const { cursor } = await readFeed('0');
    const counts = await t.rowCounts();

    // Several of these name a new actor, which a write that went through would create.
    const participants = [{ actor: { name: `Never written ${unique()}`, kind: 'group' }, role: 'perpetrator' }];
    const report = event.reports[0]!;
    const failures: [supertest.Test, number][] = [
      [t.http.post('/v1/events').send(eventBody({ type: 'no-such-type', participants })), 400],
      [ifMatch('patch', `/v1/events/${event.id}`, 2).send({ participants, location: { lat: 10, lon: null } }), 400],
      [
        t.http
          .post(`/v1/events/${event.id}/reports`)
          .send(reportBody({ reporter: participants[0]!.actor, document: { id: ghost } })),
        400,
      ],
      [ifMatch('post', `/v1/events/${event.id}/merge`, 2).send({ into: ghost }), 400],
      [ifMatch('post', `/v1/events/${event.id}/relations`, 2).send({ event_id: other.id, relation: 'follows' }), 409],
      [ifMatch('patch', `/v1/actors/${actor.id}`, 1).send({ name: report.reporter.name, kind: 'agency' }), 409],
      [ifMatch('patch', `/v1/events/${event.id}`, 1).send({ title: 'Stale' }), 412],
      [ifMatch('patch', `/v1/reports/${report.id}`, 7).send({ quote: 'Stale' }), 412],
      [ifMatch('delete', `/v1/reports/${report.id}`, 1), 422], // the last live report
      [ifMatch('post', `/v1/events/${event.id}/merge`, 2).send({ into: event.id }), 422],
      [t.http.delete(`/v1/events/${event.id}`), 428],
    ];
    for (const [request, status] of failures) await expectProblem(request, status);

    expect(await readFeed(cursor)).toEqual({ changes: [], cursor });
    expect(await t.rowCounts()).toEqual(counts);
    expect((await t.http.get(`/v1/events/${event.id}`).expect(200)).headers.etag).toBe('"2"');
  });
});

// Actor aliases and merge (API.md section 10): find-or-create by name also finds aliases, an
// alias names one actor of a kind, and POST /v1/actors/{id}/merge joins two actors that turn
// out to be one, moving every record that names the absorbed one, with history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { readFeed as feed } from '../helpers/feed.js';
import { eventBody, expectProblem, reportBody, retried, unique } from '../helpers/fixtures.js';

interface ActorJson {
  id: string;
  name: string;
  kind: string;
  aliases: string[];
  version: number;
  merged_into: string | null;
}
interface EventJson {
  id: string;
  version: number;
  participants: { actor: { id: string; name: string }; role: string }[];
  figures: { subject: { id: string } | null }[];
  reports: {
    id: string;
    version: number;
    reporter: { id: string };
    via: { id: string }[];
    figures: { subject: { id: string } | null }[];
  }[];
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const ghost = '0193f1a0-0000-7000-8000-00000000cafe';

const createActor = async (body: object): Promise<ActorJson> =>
  (await t.http.post('/v1/actors').send(body).expect(201)).body;
const createEvent = async (body: object): Promise<EventJson> =>
  (await t.http.post('/v1/events').send(body).expect(201)).body;
const getEvent = async (id: string): Promise<EventJson> => (await t.http.get(`/v1/events/${id}`).expect(200)).body;
const merge = (id: string, into: string, version: number | null) => {
  const request = t.http.post(`/v1/actors/${id}/merge`);
  return (version === null ? request : request.set('If-Match', `"${version}"`)).send({ into });
};

/** Every row that references an actor, by table: none may name a merged one. */
async function referencesTo(actorId: string): Promise<Record<string, number>> {
  const { rows } = await t.db.pool.query<{ table: string; n: number }>(
    `SELECT 'participants' AS table, count(*)::int AS n FROM participants WHERE actor_id = $1
     UNION ALL SELECT 'reports', count(*)::int FROM reports WHERE reporter_id = $1
     UNION ALL SELECT 'report_via', count(*)::int FROM report_via WHERE actor_id = $1
     UNION ALL SELECT 'figures', count(*)::int FROM figures WHERE subject_id = $1
     UNION ALL SELECT 'actor_names', count(*)::int FROM actor_names WHERE actor_id = $1`,
    [actorId],
  );
  return Object.fromEntries(rows.map((row) => [row.table, row.n]));
}

/** The change feed from `since` to its end. */
const readFeed = (since: string) => feed(t.http, since);

const feedEnd = async () =>
  (await readFeed((await t.http.get('/v1/changes?limit=1').expect(200)).body.next_cursor ?? '0')).cursor;

describe('find-or-create by alias', () => {
  it('an event naming an actor by its alias (any case, spacing or quotes) uses that actor; no new actor is made', async () => {
    const tag = unique();
    const kpa = await createActor({
      name: `Korean People's Army ${tag}`,
      kind: 'military',
      aliases: [`KPA ${tag}`, `Military Forces of North Korea (1948-) ${tag}`],
    });
    const before = await t.rowCounts();
    const event = await createEvent(
      eventBody({
        participants: [{ actor: { name: `  kpa   ${tag.toUpperCase()} `, kind: 'military' }, role: 'victim' }],
        reports: [
          reportBody({
            reporter: { name: `MILITARY FORCES OF NORTH KOREA (1948-) ${tag}`, kind: 'military' },
            via: [{ name: `Korean People\u2019s Army ${tag}`, kind: 'military' }],
          }),
        ],
      }),
    );
    expect(event.participants[0]!.actor).toMatchObject({ id: kpa.id, name: kpa.name });
    expect(event.reports[0]!.reporter.id).toBe(kpa.id);
    expect(event.reports[0]!.via[0]!.id).toBe(kpa.id);
    expect((await t.rowCounts()).actors).toBe(before.actors);
    // POST /v1/actors by an alias finds the actor too, unchanged.
    const found = await t.http
      .post('/v1/actors')
      .send({ name: `kpa ${tag}`, kind: 'military', aliases: ['ignored'] })
      .expect(200);
    expect(found.body).toMatchObject({ id: kpa.id, aliases: kpa.aliases, version: 1 });
  });

  it('an alias added by PATCH is found from then on; one removed is not', async () => {
    const tag = unique();
    const actor = await createActor({ name: `Special Operations Forces of Ukraine ${tag}`, kind: 'military' });
    const alias = `Ukrainian Special Operations Forces ${tag}`;
    const patched = await t.http
      .patch(`/v1/actors/${actor.id}`)
      .set('If-Match', '"1"')
      .send({ aliases: [alias] })
      .expect(200);
    expect(patched.body.aliases).toEqual([alias]);
    const event = await createEvent(
      eventBody({ participants: [{ actor: { name: alias, kind: 'military' }, role: 'perpetrator' }] }),
    );
    expect(event.participants[0]!.actor.id).toBe(actor.id);

    await t.http.patch(`/v1/actors/${actor.id}`).set('If-Match', '"2"').send({ aliases: [] }).expect(200);
    const other = await createEvent(
      eventBody({ participants: [{ actor: { name: alias, kind: 'military' }, role: 'perpetrator' }] }),
    );
    expect(other.participants[0]!.actor.id).not.toBe(actor.id);
  });

  it('an alias belongs to one kind: the same words name another actor of another kind', async () => {
    const tag = unique();
    const state = await createActor({ name: `North Korea ${tag}`, kind: 'state', aliases: [`DPRK ${tag}`] });
    const group = await t.http
      .post('/v1/actors')
      .send({ name: `DPRK ${tag}`, kind: 'group' })
      .expect(201);
    expect(group.body.id).not.toBe(state.id);
  });
});

describe('imports resolve aliases and merged actors as single writes do', () => {
  it('an NDJSON line naming an alias uses its actor; one naming a merged actor by id uses the survivor', async () => {
    const tag = unique();
    const kpa = await createActor({ name: `Korean People's Army ${tag}`, kind: 'military', aliases: [`KPA ${tag}`] });
    const absorbed = await createActor({ name: `North Korean troops ${tag}`, kind: 'military' });
    await merge(absorbed.id, kpa.id, 1).expect(200);
    const before = await t.rowCounts();
    const lines = [
      eventBody({
        title: `Alias ${tag}`,
        participants: [{ actor: { name: `kpa ${tag}`, kind: 'military' }, role: 'victim' }],
      }),
      eventBody({
        title: `Merged ${tag}`,
        participants: [{ actor: { id: absorbed.id }, role: 'victim' }],
        reports: [reportBody({ reporter: { name: absorbed.name, kind: 'military' }, via: [{ id: absorbed.id }] })],
      }),
    ];
    const response = await t.http
      .post('/v1/imports')
      .set('content-type', 'application/x-ndjson')
      .send(lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accepted: 2, rejected: 0 });
    expect((await t.rowCounts()).actors).toBe(before.actors);
    const events = (await t.http.get(`/v1/events?actor=${kpa.id}&q=${tag}`).expect(200)).body.data as EventJson[];
    expect(events).toHaveLength(2);
    const merged = events.find((e) => e.participants.length > 0 && e.reports[0]!.via.length > 0)!;
    expect(merged.reports[0]!.reporter.id).toBe(kpa.id);
    expect(merged.reports[0]!.via[0]!.id).toBe(kpa.id);
    expect(await referencesTo(absorbed.id)).toEqual({
      participants: 0,
      reports: 0,
      report_via: 0,
      figures: 0,
      actor_names: 0,
    });
  });
});

describe('an alias names one actor of a kind', () => {
  it("POST /v1/actors with an alias that is another actor's name or alias: 409 naming it, nothing written", async () => {
    const tag = unique();
    const nis = await createActor({
      name: `National Intelligence Service ${tag}`,
      kind: 'agency',
      aliases: [`NIS ${tag}`],
    });
    for (const alias of [`nis ${tag}`, `NATIONAL intelligence service ${tag}`]) {
      const before = await t.rowCounts();
      const problem = await expectProblem(
        t.http
          .post('/v1/actors')
          .send({ name: `Another agency ${unique()}`, kind: 'agency', aliases: ['Fine', alias] }),
        409,
      );
      expect(problem.existing_id).toBe(nis.id);
      expect(problem.detail).toContain(alias);
      expect(problem.errors).toEqual([expect.objectContaining({ path: '/aliases/1', in: 'body' })]);
      expect(await t.rowCounts()).toEqual(before);
    }
    // An alias that is the actor's own name, or given twice, is no conflict.
    await t.http
      .post('/v1/actors')
      .send({ name: `Own ${tag}`, kind: 'agency', aliases: [`OWN ${tag}`, `own ${tag}`] })
      .expect(201);
  });

  it("PATCH giving an alias that is another actor's name or alias: 409, the actor unchanged", async () => {
    const tag = unique();
    const owner = await createActor({ name: `Owner ${tag}`, kind: 'unit', aliases: [`Unit 1 ${tag}`] });
    const other = await createActor({ name: `Other ${tag}`, kind: 'unit' });
    for (const aliases of [[`unit 1 ${tag}`], [`OWNER ${tag}`]]) {
      const problem = await expectProblem(
        t.http.patch(`/v1/actors/${other.id}`).set('If-Match', '"1"').send({ aliases }),
        409,
      );
      expect(problem.existing_id).toBe(owner.id);
      expect(problem.errors?.[0]).toMatchObject({ path: '/aliases/0' });
    }
    // Renaming to another actor's alias is refused too.
    const renamed = await expectProblem(
      t.http
        .patch(`/v1/actors/${other.id}`)
        .set('If-Match', '"1"')
        .send({ name: `Unit 1 ${tag}` }),
      409,
    );
    expect(renamed.existing_id).toBe(owner.id);
    expect((await t.http.get(`/v1/actors/${other.id}`).expect(200)).body).toMatchObject({
      name: other.name,
      aliases: [],
      version: 1,
    });
    // The alias still finds its owner.
    const found = await t.http
      .post('/v1/actors')
      .send({ name: `Unit 1 ${tag}`, kind: 'unit' })
      .expect(200);
    expect(found.body.id).toBe(owner.id);
  });

  it('an event body naming a new actor with a taken alias creates it without that alias', async () => {
    const tag = unique();
    const owner = await createActor({ name: `Holder ${tag}`, kind: 'group', aliases: [`Taken ${tag}`] });
    const event = await createEvent(
      eventBody({
        participants: [
          {
            actor: { name: `Newcomer ${tag}`, kind: 'group', aliases: [`Taken ${tag}`, `Free ${tag}`] },
            role: 'other',
          },
        ],
      }),
    );
    const made = (await t.http.get(`/v1/actors/${event.participants[0]!.actor.id}`).expect(200)).body as ActorJson;
    expect(made.aliases).toEqual([`Free ${tag}`]);
    const taken = await t.http
      .post('/v1/actors')
      .send({ name: `taken ${tag}`, kind: 'group' })
      .expect(200);
    expect(taken.body.id).toBe(owner.id);
  });

  it('10 parallel POSTs of new actors where one has the name of the others as alias end with one owner of it', async () => {
    const tag = unique();
    const shared = `Shared ${tag}`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? t.http.post('/v1/actors').send({ name: shared, kind: 'media' })
          : t.http.post('/v1/actors').send({ name: `Outlet ${i} ${tag}`, kind: 'media', aliases: [shared] }),
      ),
    );
    for (const answer of answers) expect([200, 201, 409]).toContain(answer.status);
    const owners = await t.db.pool.query(
      `SELECT actor_id FROM actor_names WHERE kind = 'media' AND normalized_name = $1`,
      [shared.toLowerCase()],
    );
    expect(owners.rowCount).toBe(1);
    const found = await t.http.post('/v1/actors').send({ name: shared, kind: 'media' }).expect(200);
    expect(found.body.id).toBe(owners.rows[0].actor_id);
  });
});

describe('POST /v1/actors/{id}/merge', () => {
  /** Two actors of one kind, and events naming the first in every place an actor can stand. */
  async function scene() {
    const tag = unique();
    const absorbed = await createActor({
      name: `Ukrainian Special Operations Forces ${tag}`,
      kind: 'military',
      aliases: [`USOF ${tag}`],
    });
    const survivor = await createActor({
      name: `Special Operations Forces of Ukraine ${tag}`,
      kind: 'military',
      aliases: [`SSO ${tag}`],
    });
    const witness = { name: `Witness ${tag}`, kind: 'media' };
    const named = await createEvent(
      eventBody({
        title: `Named ${tag}`,
        participants: [
          { actor: { id: absorbed.id }, role: 'perpetrator' },
          { actor: { id: survivor.id }, role: 'perpetrator' },
          { actor: { id: absorbed.id }, role: 'supporter' },
        ],
        figures: [{ measure: 'captured', value: 1, qualifier: 'exact', subject: { id: absorbed.id } }],
        reports: [
          reportBody({
            reporter: { id: absorbed.id },
            via: [witness],
            figures: [{ measure: 'killed', value: 3, qualifier: 'exact', subject: { id: absorbed.id } }],
          }),
          reportBody({ reporter: witness, via: [{ id: absorbed.id }] }),
        ],
      }),
    );
    const other = await createEvent(
      eventBody({ title: `Other ${tag}`, participants: [{ actor: { id: survivor.id }, role: 'perpetrator' }] }),
    );
    return { tag, absorbed, survivor, named, other };
  }

  it('moves every participation, report, via and figure subject to the survivor, and keeps the names as its aliases', async () => {
    const { tag, absorbed, survivor, named, other } = await scene();
    const start = await feedEnd();
    const response = await merge(absorbed.id, survivor.id, 1).expect(200);
    const { changes: mergeChanges } = await readFeed(start);
    expect(response.headers.location).toBe(`/v1/actors/${survivor.id}`);
    expect(response.headers.etag).toBe('"2"');
    expect(response.body).toMatchObject({ id: survivor.id, name: survivor.name, version: 2, merged_into: null });
    expect(response.body.aliases).toEqual([`SSO ${tag}`, absorbed.name, `USOF ${tag}`]);
    expect(await referencesTo(absorbed.id)).toEqual({
      participants: 0,
      reports: 0,
      report_via: 0,
      figures: 0,
      actor_names: 0,
    });

    const after = await getEvent(named.id);
    expect(after.version).toBe(named.version + 1);
    // The survivor's perpetrator role is kept once; the supporter role moves.
    expect(after.participants.map((p) => [p.actor.id, p.role])).toEqual([
      [survivor.id, 'perpetrator'],
      [survivor.id, 'supporter'],
    ]);
    expect(after.figures[0]!.subject!.id).toBe(survivor.id);
    expect(after.reports[0]!.reporter.id).toBe(survivor.id);
    expect(after.reports[0]!.figures[0]!.subject!.id).toBe(survivor.id);
    expect(after.reports[1]!.via[0]!.id).toBe(survivor.id);

    // The filters and the stats count one actor.
    const ids = async (query: string) =>
      (await t.http.get(`/v1/events?${query}`).expect(200)).body.data.map((e: EventJson) => e.id).sort();
    expect(await ids(`actor=${survivor.id}`)).toEqual([named.id, other.id].sort());
    expect(await ids(`actor=${absorbed.id}`)).toEqual([]);
    expect(await ids(`reporter=${survivor.id}`)).toEqual([named.id]);
    expect(await ids(`via=${survivor.id}`)).toEqual([named.id]);
    expect(await ids(`reporter=${absorbed.id}`)).toEqual([]);
    const stats = await t.http.get(`/v1/stats/events?group_by=actor&actor=${survivor.id},${absorbed.id}`).expect(200);
    expect(stats.body.data).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ id: survivor.id }), events: 2 }),
    ]);

    // The absorbed actor is a tombstone naming the survivor; its names and its id find the survivor.
    const gone = await expectProblem(t.http.get(`/v1/actors/${absorbed.id}`), 410);
    expect(gone.merged_into).toBe(survivor.id);
    const listed = await t.http.get(`/v1/actors?kind=military&q=${tag}`).expect(200);
    expect(listed.body.data.map((a: ActorJson) => a.id)).toEqual([survivor.id]);
    for (const name of [absorbed.name, `usof ${tag}`]) {
      expect((await t.http.post('/v1/actors').send({ name, kind: 'military' }).expect(200)).body.id).toBe(survivor.id);
    }
    const later = await createEvent(eventBody({ participants: [{ actor: { id: absorbed.id }, role: 'target' }] }));
    expect(later.participants[0]!.actor.id).toBe(survivor.id);

    // Revisions and change-feed entries for everything the merge touched.
    expect(mergeChanges.map((c) => `${c.resource}/${c.id} ${c.action} ${c.version}`).sort()).toEqual(
      [
        `actor/${absorbed.id} deleted 2`,
        `actor/${survivor.id} updated 2`,
        `event/${named.id} updated ${named.version + 1}`,
        ...named.reports.map((r) => `report/${r.id} updated ${r.version + 1}`),
      ].sort(),
    );
    const revisions = await t.db.pool.query<{ resource_id: string; action: string; state: ActorJson }>(
      `SELECT resource_id::text, action::text, state FROM revisions WHERE resource = 'actor' AND resource_id = ANY($1::uuid[]) AND version = 2`,
      [[absorbed.id, survivor.id]],
    );
    const byId = new Map(revisions.rows.map((row) => [row.resource_id, row]));
    expect(byId.get(absorbed.id)).toMatchObject({ action: 'deleted', state: { merged_into: survivor.id } });
    expect(byId.get(survivor.id)).toMatchObject({ action: 'updated', state: response.body });
    const eventRevisions = (await t.http.get(`/v1/events/${named.id}/revisions`).expect(200)).body.data;
    expect(eventRevisions.at(-1)).toMatchObject({ version: named.version + 1 });
    expect(eventRevisions.at(-1).state).toEqual(await getEvent(named.id));
    // The other event showed only the survivor: unchanged.
    expect((await getEvent(other.id)).version).toBe(other.version);
  });

  it('428 without If-Match, 412 when stale, 409 into itself or another kind or a merged actor, 404, 410, 400, 403; nothing written', async () => {
    const { absorbed, survivor } = await scene();
    const agency = await createActor({ name: `Agency ${unique()}`, kind: 'agency' });
    const before = await t.rowCounts();
    await expectProblem(merge(absorbed.id, survivor.id, null), 428);
    const stale = await expectProblem(merge(absorbed.id, survivor.id, 7), 412);
    expect(stale.detail).toContain('1');
    expect((await expectProblem(merge(absorbed.id, absorbed.id, 1), 409)).detail).toContain('itself');
    expect((await expectProblem(merge(absorbed.id, agency.id, 1), 409)).detail).toContain('kinds');
    await expectProblem(merge(ghost, survivor.id, 1), 404);
    const unknownInto = await expectProblem(merge(absorbed.id, ghost, 1), 400);
    expect(unknownInto.errors).toEqual([expect.objectContaining({ path: '/into', in: 'body' })]);
    await expectProblem(
      t.as.reader.post(`/v1/actors/${absorbed.id}/merge`).set('If-Match', '"1"').send({ into: survivor.id }),
      403,
    );
    expect(await t.rowCounts()).toEqual(before);

    await merge(absorbed.id, survivor.id, 1).expect(200);
    const again = await expectProblem(merge(absorbed.id, survivor.id, 2), 410);
    expect(again.merged_into).toBe(survivor.id);
    await expectProblem(t.http.patch(`/v1/actors/${absorbed.id}`).set('If-Match', '"2"').send({ country: 'UKR' }), 410);
    const third = await createActor({ name: `Third ${unique()}`, kind: 'military' });
    const intoMerged = await expectProblem(merge(third.id, absorbed.id, 1), 409);
    expect(intoMerged.merged_into).toBe(survivor.id);
  });

  it('an actor merged into one that is merged later answers 410 naming the last survivor', async () => {
    const tag = unique();
    const [a, b, c] = [
      await createActor({ name: `Chain A ${tag}`, kind: 'group' }),
      await createActor({ name: `Chain B ${tag}`, kind: 'group' }),
      await createActor({ name: `Chain C ${tag}`, kind: 'group' }),
    ];
    await merge(a.id, b.id, 1).expect(200);
    await merge(b.id, c.id, 2).expect(200);
    expect((await expectProblem(t.http.get(`/v1/actors/${a.id}`), 410)).merged_into).toBe(c.id);
    const found = await t.http
      .post('/v1/actors')
      .send({ name: `chain a ${tag}`, kind: 'group' })
      .expect(200);
    expect(found.body).toMatchObject({ id: c.id, aliases: [`Chain B ${tag}`, `Chain A ${tag}`] });
  });

  it(
    'under concurrent POSTs and PATCHes naming either actor, nothing is lost and the feed and revisions replay to the live data',
    { timeout: 120_000 },
    async () => {
      const { tag, absorbed, survivor } = await scene();
      const start = await feedEnd();
      const byName = { name: absorbed.name, kind: 'military' };
      const byAlias = { name: `usof ${tag}`, kind: 'military' };
      const refs = [
        { id: absorbed.id },
        byName,
        byAlias,
        { id: survivor.id },
        { name: survivor.name, kind: 'military' },
      ];
      const targets = await Promise.all(
        Array.from({ length: 4 }, () => createEvent(eventBody({ title: `Target ${tag}` }))),
      );

      const writes: Promise<{ status: number; body: EventJson }>[] = [];
      const posts = () =>
        refs.map((ref, i) =>
          retried(() =>
            t.http.post('/v1/events').send(
              eventBody({
                title: `Concurrent ${tag} ${i}`,
                participants: [{ actor: ref, role: 'perpetrator' }],
                reports: [reportBody({ reporter: ref, via: [refs[(i + 1) % refs.length]] })],
              }),
            ),
          ),
        );
      writes.push(...posts());
      const merged = retried(() => merge(absorbed.id, survivor.id, 1));
      writes.push(...posts());
      // PATCHes replace the participants of existing events with either actor (their If-Match is version 1: each applies once).
      targets.forEach((target, i) =>
        writes.push(
          retried(() =>
            t.http
              .patch(`/v1/events/${target.id}`)
              .set('If-Match', '"1"')
              .send({ participants: [{ actor: refs[i % refs.length], role: 'target' }] }),
          ),
        ),
      );
      writes.push(...posts());
      const [mergeAnswer, ...answers] = await Promise.all([merged, ...writes]);
      expect(mergeAnswer.status, JSON.stringify(mergeAnswer.body)).toBe(200);
      for (const answer of answers) expect([200, 201], JSON.stringify(answer.body)).toContain(answer.status);

      // Nothing names the tombstone, and every write landed on the survivor.
      expect(await referencesTo(absorbed.id)).toEqual({
        participants: 0,
        reports: 0,
        report_via: 0,
        figures: 0,
        actor_names: 0,
      });
      for (const answer of answers) {
        const live = await getEvent(answer.body.id);
        expect(live.participants.map((p) => p.actor.id)).toEqual([survivor.id]);
        if (answer.status === 201) {
          expect(live.reports[0]!.reporter.id).toBe(survivor.id);
          expect(live.reports[0]!.via.map((v) => v.id)).toEqual([survivor.id]);
        }
      }
      const created = answers.filter((a) => a.status === 201).map((a) => a.body.id);
      const count = await t.http.get(`/v1/events?actor=${survivor.id}&q=Concurrent&limit=1000&count=true`).expect(200);
      expect(count.body.total).toBe(created.length);
      expect((await t.http.get(`/v1/events?reporter=${absorbed.id}`).expect(200)).body.data).toEqual([]);

      // Replaying the feed gives the versions live now, and each resource's last revision is its live state.
      const { changes } = await readFeed(start);
      const replay = new Map<string, number>();
      for (const change of changes) {
        const key = `${change.resource}/${change.id}`;
        if (change.action === 'deleted') replay.delete(key);
        else replay.set(key, change.version);
      }
      const { rows } = await t.db.pool.query<{ key: string; version: number }>(
        `SELECT 'event/' || id AS key, version FROM events WHERE deleted_at IS NULL AND id = ANY($1::uuid[])
       UNION ALL SELECT 'report/' || id, version FROM reports WHERE deleted_at IS NULL AND id IN (SELECT r.id FROM reports r WHERE r.event_id = ANY($1::uuid[]))
       UNION ALL SELECT 'actor/' || id, version FROM actors WHERE merged_into IS NULL AND id = $2`,
        [answers.map((a) => a.body.id), survivor.id],
      );
      for (const row of rows) expect(replay.get(row.key), row.key).toBe(row.version);
      expect(replay.has(`actor/${absorbed.id}`)).toBe(false);
      expect(changes.filter((c) => c.resource === 'actor' && c.id === absorbed.id).map((c) => c.action)).toEqual([
        'deleted',
      ]);

      const latest = await t.db.pool.query<{ resource: string; resource_id: string; state: unknown }>(
        `SELECT DISTINCT ON (resource, resource_id) resource::text, resource_id::text, state FROM revisions
       WHERE (resource = 'event' AND resource_id = ANY($1::uuid[])) OR (resource = 'actor' AND resource_id = $2)
       ORDER BY resource, resource_id, version DESC`,
        [answers.map((a) => a.body.id), survivor.id],
      );
      for (const revision of latest.rows) {
        const path =
          revision.resource === 'event' ? `/v1/events/${revision.resource_id}` : `/v1/actors/${revision.resource_id}`;
        expect(revision.state, path).toEqual((await t.http.get(path).expect(200)).body);
      }
      expect(await t.staleRows()).toEqual({ events: 0, stats: [], actorNames: 0 });
    },
  );
});

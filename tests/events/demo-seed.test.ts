import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/modules/events/demo-seed.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

interface Event {
  id: string;
  type: string;
  title: string;
  occurred: { start: string; end: string };
  reports: {
    reporter: { name: string };
    via: { name: string }[];
    figures: { measure: string; low: number | null; best: number | null }[];
  }[];
  figures: { measure: string; low: number | null; best: number | null; high: number | null }[];
  relations: { event_id: string; relation: string }[];
}

describe('the demo data set', () => {
  it('loads the events of the seed article through the API rules, once', async () => {
    expect(await seedDemo(t.db)).toBe(7);
    expect(await seedDemo(t.db)).toBe(0);
    const events: Event[] = (await t.http.get('/v1/events?limit=50').expect(200)).body.data;
    expect(events).toHaveLength(7);
    const byType = (type: string) => events.filter((event) => event.type === type);

    const [capture] = byType('capture');
    const [death] = byType('death');
    expect(capture?.occurred).toMatchObject({ start: '2024-12-26', end: '2024-12-26' });
    expect(death?.occurred).toMatchObject({ start: '2024-12-27', end: '2024-12-27' });
    expect(death?.relations).toContainEqual({ event_id: capture?.id, relation: 'follows' });
    expect(death?.reports[0]?.reporter.name).toBe("South Korea's National Intelligence Service");
    expect(death?.reports[0]?.via.map((actor) => actor.name)).toEqual(['a friendly country']);

    const deployment = byType('deployment').find((event) => event.title.includes('11,000'));
    expect(deployment?.figures[0]).toMatchObject({ measure: 'personnel', best: 11000 });
    const [casualties] = byType('casualty_claim');
    expect(casualties?.reports[0]?.reporter.name).toBe('Volodymyr Zelensky');
    expect(casualties?.figures[0]).toMatchObject({ measure: 'killed', low: 3000, best: null });
    expect(byType('atrocity_allegation')).toHaveLength(1);
    expect(byType('friendly_fire')).toHaveLength(1);
    const preparation = byType('deployment').find((event) => event.title.includes('suicide drones'));
    expect(preparation?.reports.length).toBe(3);

    // One actor per kind and name across all events, one document for the article.
    const actors = await t.db.pool.query("SELECT count(*)::int AS n FROM actors WHERE name = 'Korean People''s Army'");
    expect(actors.rows[0].n).toBe(1);
    const documents = await t.db.pool.query('SELECT count(*)::int AS n FROM documents');
    expect(documents.rows[0].n).toBe(1);
  });
});

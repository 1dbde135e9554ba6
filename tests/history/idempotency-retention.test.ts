import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeExpiredIdempotencyKeys } from '../../src/write/run.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { actorBody, unique } from '../helpers/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

/** Moves a key's stored response back in time, as if it had been made `hours` ago. */
const age = (key: string, hours: number) =>
  t.db.pool.query(`UPDATE idempotency_keys SET created_at = now() - make_interval(hours => $2) WHERE key = $1`, [
    key,
    hours,
  ]);

describe('Idempotency-Key retention', () => {
  it('a key is honoured for 24 hours, then free for a new request', async () => {
    const key = `retention-${unique()}`;
    const first = await t.http.post('/v1/actors').set('idempotency-key', key).send(actorBody()).expect(201);
    await age(key, 23);
    const replay = await t.http.post('/v1/actors').set('idempotency-key', key).send(actorBody()).expect(422);
    expect(replay.body.type).toBe('/problems/rule-violation');

    await age(key, 25);
    const fresh = await t.http.post('/v1/actors').set('idempotency-key', key).send(actorBody()).expect(201);
    expect(fresh.body.id).not.toBe(first.body.id);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
  });

  it('the hourly sweep deletes only expired keys', async () => {
    const [old, recent] = [`old-${unique()}`, `recent-${unique()}`];
    await t.http.post('/v1/actors').set('idempotency-key', old).send(actorBody()).expect(201);
    await t.http.post('/v1/actors').set('idempotency-key', recent).send(actorBody()).expect(201);
    await age(old, 25);
    expect(await purgeExpiredIdempotencyKeys(t.db)).toBe(1);
    const { rows } = await t.db.pool.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE key = ANY($1)', [
      [old, recent],
    ]);
    expect(rows.map((row) => row.key)).toEqual([recent]);
  });
});

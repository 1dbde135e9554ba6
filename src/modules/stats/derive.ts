// The tables behind the stats, derived from the events like their rendered JSON:
// event_stats and event_figure_stats (one narrow row per event, and per event and
// measure), and the daily rollups of both per (day of occurred start, type).
//
// Writers keep them exact in two steps. refreshEventStats re-derives the rows of the
// events a transaction changed (with their other derived columns) and returns the
// (day, type) keys those events were and are counted under; refreshDailyStats then
// recomputes the rollup rows of exactly those keys from event_stats. It runs under the
// feed's advisory lock, which every writer holds until it commits, so each recount
// sees every earlier writer's committed rows and no two recounts of a key interleave.
// A recount, unlike a running total, cannot drift.
import type pg from 'pg';
import type { Transaction } from '../../db/client.js';
import { REPORT_COUNT } from '../events/evidence.js';
import { takeRevisionLock } from '../../db/locks.js';

/** (day, type) pairs of the daily rollups, as two parallel arrays for unnest. */
export interface DailyKeys {
  days: string[];
  types: string[];
}

const EVENT_STATS_COLUMNS =
  'event_id, occurred_start, occurred_end, type, status, country, admin1, admin3, deleted_at, reports';

/** Inserts or updates the event_stats rows of the events `e` its caller's WHERE clause selects. */
const UPSERT_EVENT_STATS = (where: string) => `
  INSERT INTO event_stats (${EVENT_STATS_COLUMNS})
  SELECT e.id, e.occurred_start, e.occurred_end, e.type, e.status, e.country, e.admin1, e.admin3, e.deleted_at,
         ${REPORT_COUNT}
  FROM events e WHERE ${where}
  ON CONFLICT (event_id) DO UPDATE SET
    occurred_start = excluded.occurred_start, occurred_end = excluded.occurred_end, type = excluded.type,
    status = excluded.status, country = excluded.country, admin1 = excluded.admin1, admin3 = excluded.admin3,
    deleted_at = excluded.deleted_at, reports = excluded.reports`;

/** The event_figure_stats rows of the events whose figures `f` its caller's WHERE clause selects. */
const INSERT_FIGURE_STATS = (where: string) => `
  INSERT INTO event_figure_stats (event_id, measure, low, best, high)
  SELECT f.event_id, f.measure, sum(f.low), sum(f.best), sum(f.high)
  FROM figures f WHERE ${where}
  GROUP BY f.event_id, f.measure`;

/** The rollup rows recounted from event_stats `s` (live events only) where its caller's condition holds. */
const COUNT_DAILY_EVENTS = (where: string) => `
  INSERT INTO daily_event_stats (day, type, events, reports)
  SELECT s.occurred_start, s.type, count(*), sum(s.reports)
  FROM event_stats s WHERE s.deleted_at IS NULL AND ${where}
  GROUP BY s.occurred_start, s.type`;

const COUNT_DAILY_FIGURES = (where: string) => `
  INSERT INTO daily_figure_stats (day, type, measure, events, low, low_n, best, best_n, high, high_n)
  SELECT s.occurred_start, s.type, g.measure, count(*), sum(g.low), count(g.low), sum(g.best), count(g.best), sum(g.high), count(g.high)
  FROM event_stats s JOIN event_figure_stats g ON g.event_id = s.event_id
  WHERE s.deleted_at IS NULL AND ${where}
  GROUP BY s.occurred_start, s.type, g.measure`;

const KEYS = `unnest($1::date[], $2::text[]) AS k(day, type)`;
const IN_KEYS = `(s.occurred_start, s.type) IN (SELECT k.day, k.type FROM ${KEYS})`;

/**
 * Re-derives event_stats and event_figure_stats of the events (after their status and
 * reports are current) and returns the rollup keys they were and are now counted under.
 */
export async function refreshEventStats(tx: Transaction, eventIds: string[]): Promise<DailyKeys> {
  const before = await tx.$queryRaw<{ day: string; type: string }[]>`
    SELECT DISTINCT to_char(occurred_start, 'YYYY-MM-DD') AS day, type FROM event_stats
    WHERE event_id = ANY(${eventIds}::uuid[])`;
  // eslint-disable-next-line raw-sql/unsafe -- text from this file's constants (shared with rebuildStats); ids bound
  const after = await tx.$queryRawUnsafe<{ day: string; type: string }[]>(
    `${UPSERT_EVENT_STATS('e.id = ANY($1::uuid[])')} RETURNING to_char(occurred_start, 'YYYY-MM-DD') AS day, type`,
    eventIds,
  );
  await tx.$executeRaw`DELETE FROM event_figure_stats WHERE event_id = ANY(${eventIds}::uuid[])`;
  // eslint-disable-next-line raw-sql/unsafe -- text from this file's constants (shared with rebuildStats); ids bound
  await tx.$executeRawUnsafe(INSERT_FIGURE_STATS('f.event_id = ANY($1::uuid[])'), eventIds);
  const keys = new Map<string, { day: string; type: string }>();
  for (const key of [...before, ...after]) keys.set(`${key.day} ${key.type}`, key);
  return { days: [...keys.values()].map((k) => k.day), types: [...keys.values()].map((k) => k.type) };
}

/** Recounts the daily rollup rows of the keys, under the feed's lock (see the head of this file). */
export async function refreshDailyStats(tx: Transaction, keys: DailyKeys): Promise<void> {
  if (keys.days.length === 0) return;
  await takeRevisionLock(tx);
  // eslint-disable-next-line raw-sql/unsafe -- constant text (KEYS, shared with rebuildStats); keys bound
  await tx.$executeRawUnsafe(
    `DELETE FROM daily_event_stats s WHERE (s.day, s.type) IN (SELECT k.day, k.type FROM ${KEYS})`,
    keys.days,
    keys.types,
  );
  // eslint-disable-next-line raw-sql/unsafe -- constant text (KEYS, shared with rebuildStats); keys bound
  await tx.$executeRawUnsafe(
    `DELETE FROM daily_figure_stats s WHERE (s.day, s.type) IN (SELECT k.day, k.type FROM ${KEYS})`,
    keys.days,
    keys.types,
  );
  // eslint-disable-next-line raw-sql/unsafe -- constant text (KEYS, shared with rebuildStats); keys bound
  await tx.$executeRawUnsafe(COUNT_DAILY_EVENTS(IN_KEYS), keys.days, keys.types);
  // eslint-disable-next-line raw-sql/unsafe -- constant text (KEYS, shared with rebuildStats); keys bound
  await tx.$executeRawUnsafe(COUNT_DAILY_FIGURES(IN_KEYS), keys.days, keys.types);
}

/**
 * Rebuilds every stats table from the events (after a bulk load that bypassed the writers).
 * The caller runs it in one transaction; it takes the feed's lock like a writer.
 */
export async function rebuildStats(client: pg.Pool | pg.ClientBase): Promise<void> {
  await takeRevisionLock(client);
  await client.query('TRUNCATE event_stats, event_figure_stats, daily_event_stats, daily_figure_stats');
  await client.query(UPSERT_EVENT_STATS('TRUE'));
  await client.query(INSERT_FIGURE_STATS('f.event_id IS NOT NULL'));
  await client.query(COUNT_DAILY_EVENTS('TRUE'));
  await client.query(COUNT_DAILY_FIGURES('TRUE'));
}

/**
 * Rows of the stats tables that differ from a recount from the events: empty when they are
 * exact. The test helpers check it after every test file, like the other derived columns.
 */
export const STALE_STATS = `
  WITH fresh_events AS (
    SELECT e.id AS event_id, e.occurred_start, e.occurred_end, e.type, e.status, e.country, e.admin1, e.admin3, e.deleted_at,
           ${REPORT_COUNT} AS reports
    FROM events e),
  fresh_figures AS (
    SELECT f.event_id, f.measure, sum(f.low) AS low, sum(f.best) AS best, sum(f.high) AS high
    FROM figures f WHERE f.event_id IS NOT NULL GROUP BY f.event_id, f.measure),
  fresh_daily AS (
    SELECT s.occurred_start AS day, s.type, count(*)::int AS events, sum(s.reports)::int AS reports
    FROM fresh_events s WHERE s.deleted_at IS NULL GROUP BY 1, 2),
  fresh_daily_figures AS (
    SELECT s.occurred_start AS day, s.type, g.measure, count(*)::int AS events, sum(g.low) AS low, count(g.low)::int AS low_n,
           sum(g.best) AS best, count(g.best)::int AS best_n, sum(g.high) AS high, count(g.high)::int AS high_n
    FROM fresh_events s JOIN fresh_figures g ON g.event_id = s.event_id WHERE s.deleted_at IS NULL GROUP BY 1, 2, 3)
  SELECT 'event_stats' AS "table", count(*)::int AS rows FROM (
    (SELECT * FROM fresh_events EXCEPT SELECT ${EVENT_STATS_COLUMNS} FROM event_stats)
    UNION ALL (SELECT ${EVENT_STATS_COLUMNS} FROM event_stats EXCEPT SELECT * FROM fresh_events)) d
  UNION ALL SELECT 'event_figure_stats', count(*)::int FROM (
    (SELECT * FROM fresh_figures EXCEPT SELECT event_id, measure, low, best, high FROM event_figure_stats)
    UNION ALL (SELECT event_id, measure, low, best, high FROM event_figure_stats EXCEPT SELECT * FROM fresh_figures)) d
  UNION ALL SELECT 'daily_event_stats', count(*)::int FROM (
    (SELECT * FROM fresh_daily EXCEPT SELECT day, type, events, reports FROM daily_event_stats)
    UNION ALL (SELECT day, type, events, reports FROM daily_event_stats EXCEPT SELECT * FROM fresh_daily)) d
  UNION ALL SELECT 'daily_figure_stats', count(*)::int FROM (
    (SELECT * FROM fresh_daily_figures EXCEPT SELECT day, type, measure, events, low, low_n, best, best_n, high, high_n FROM daily_figure_stats)
    UNION ALL (SELECT day, type, measure, events, low, low_n, best, best_n, high, high_n FROM daily_figure_stats EXCEPT SELECT * FROM fresh_daily_figures)) d`;

// The list query shapes the benchmarks load and explain. Their parameters are
// read from the data itself (the busiest month and type, a prolific reporter, the
// core of the busiest country, a common word), so every shape returns full pages.
import type pg from 'pg';
import { encodeCursor } from '../src/http/cursor.js';

/** Query shapes whose parameters come from the data itself, so every one returns full pages. */
export async function discoverShapes(pool: pg.Pool): Promise<{ name: string; query: string }[]> {
  const one = async <T>(sql: string) => (await pool.query<T & pg.QueryResultRow>(sql)).rows[0] as T;
  const month = await one<{ type: string; start: string; end: string }>(`
    SELECT type, to_char(date_trunc('month', occurred_start), 'YYYY-MM-DD') AS start,
           to_char(date_trunc('month', occurred_start) + interval '1 month - 1 day', 'YYYY-MM-DD') AS end
    FROM events WHERE occurred_start >= '2022-01-01' GROUP BY 1, 2, 3 ORDER BY count(*) DESC LIMIT 1`);
  const reporter = await one<{ id: string }>(
    `SELECT reporter_id AS id FROM reports GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 5`,
  );
  const country = await one<{ minlon: number; minlat: number; maxlon: number; maxlat: number }>(`
    SELECT percentile_cont(0.3) WITHIN GROUP (ORDER BY lon) AS minlon, percentile_cont(0.3) WITHIN GROUP (ORDER BY lat) AS minlat,
           percentile_cont(0.7) WITHIN GROUP (ORDER BY lon) AS maxlon, percentile_cont(0.7) WITHIN GROUP (ORDER BY lat) AS maxlat
    FROM events WHERE country = (SELECT country FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) AND lat IS NOT NULL`);
  // A fixed sample (REPEATABLE), so every run on a database searches the same word and q runs compare.
  const word = await one<{ word: string }>(`
    SELECT word FROM ts_stat($$SELECT to_tsvector('english', title) FROM events TABLESAMPLE SYSTEM (1) REPEATABLE (1)$$)
    AS t(word, ndoc, nentry) WHERE length(word) > 4 ORDER BY ndoc DESC LIMIT 1 OFFSET 10`);
  // Page 1,000 of a walk of 50-event pages starts after the 49,950th event.
  const deep = await one<{ id: string; key: string }>(`
    SELECT id, to_char(occurred_start, 'YYYY-MM-DD') AS key FROM events WHERE deleted_at IS NULL
    ORDER BY occurred_start DESC, id DESC OFFSET 49949 LIMIT 1`);
  if (!deep) throw new Error('the shapes need at least 50,000 live events (page 1,000 of 50-event pages); seed more');
  const round = (n: number) => n.toFixed(2);
  return [
    { name: 'first page (no filter)', query: 'limit=50' },
    {
      name: 'type + month window',
      query: `type=${month.type}&occurred_from=${month.start}&occurred_to=${month.end}&limit=50`,
    },
    { name: 'reporter', query: `reporter=${reporter.id}&limit=50` },
    {
      name: 'bbox',
      query: `bbox=${round(country.minlon)},${round(country.minlat)},${round(country.maxlon)},${round(country.maxlat)}&limit=50`,
    },
    { name: `q (${word.word})`, query: `q=${encodeURIComponent(word.word)}&limit=50` },
    {
      name: 'page 1,000 of a cursor walk',
      query: `limit=50&cursor=${encodeCursor({ sort: '-occurred', key: deep.key, id: deep.id })}`,
    },
  ];
}

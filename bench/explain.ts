// EXPLAIN (ANALYZE, BUFFERS) of the list query for the main filter combinations,
// built by the service's own query builder, written to bench/PLANS.md.
//
//   node --import tsx bench/explain.ts --database-url postgresql://...
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { EventListQuerySchema } from '../src/modules/events/list-query.js';
import { eventPageSql } from '../src/modules/events/repository.js';
import { SESSION_OPTIONS } from '../src/db/client.js';
import { SqlParams } from '../src/db/sql.js';
import { eventConditions } from '../src/modules/events/filters.js';
import { discoverShapes } from './shapes.js';

const { values: args } = parseArgs({
  options: { 'database-url': { type: 'string' }, out: { type: 'string', default: 'bench/PLANS.md' } },
});
if (!args['database-url']) throw new Error('--database-url is required');
// The service's own session settings, so the plans are the ones it gets.
const pool = new pg.Pool({ connectionString: args['database-url'], max: 2, options: SESSION_OPTIONS });

const one = async <T>(sql: string) => (await pool.query<T & pg.QueryResultRow>(sql)).rows[0] as T;
const busy = await one<{
  country: string;
  lat: number;
  lon: number;
  actor: string;
  tag: string;
  reporter: string;
  via: string;
}>(`
  SELECT (SELECT country FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) AS country,
         (SELECT lat FROM events WHERE lat IS NOT NULL LIMIT 1) AS lat, (SELECT lon FROM events WHERE lat IS NOT NULL LIMIT 1) AS lon,
         (SELECT actor_id FROM participants GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 20) AS actor,
         (SELECT t FROM events, unnest(tags) t GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 5) AS tag,
         (SELECT reporter_id FROM reports GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 5) AS reporter,
         (SELECT actor_id FROM report_via GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 5) AS via`);
const shapes = [
  ...(await discoverShapes(pool)),
  {
    name: 'country + year window',
    query: `country=${busy.country}&occurred_from=2023-01-01&occurred_to=2023-12-31&limit=50`,
  },
  { name: 'actor + role', query: `actor=${busy.actor}&role=perpetrator,target&limit=50` },
  { name: 'stance + min_reliability', query: 'stance=denies,disputes&min_reliability=B&limit=50' },
  { name: 'via', query: `via=${busy.via}&limit=50` },
  { name: 'reporter + stance (one report)', query: `reporter=${busy.reporter}&stance=denies,disputes&limit=50` },
  { name: 'tag', query: `tag=${encodeURIComponent(busy.tag)}&limit=50` },
  { name: 'near 50 km', query: `near=${busy.lat},${busy.lon}&radius_km=50&limit=50` },
  { name: 'updated since, sort -updated', query: `updated_since=2025-06-01T00:00:00Z&sort=-updated&limit=50` },
];

const sections: string[] = [];
for (const shape of shapes) {
  const parsed = EventListQuerySchema.parse(Object.fromEntries(new URLSearchParams(shape.query)));
  const { format: _format, limit, cursor, sort, count: _count, ...filters } = parsed;
  const { text, values } = eventPageSql({ filters, sort, cursor, limit: limit ?? 50 });
  const plan = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)).rows.map(
    (row) => row['QUERY PLAN'],
  );
  const p = new SqlParams();
  const where = eventConditions(filters, p);
  const countPlan = (
    await pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM events e WHERE ${where.join(' AND ')}`,
      p.values,
    )
  ).rows.map((row) => row['QUERY PLAN']);
  const time = (lines: string[]) =>
    lines.find((line) => line.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '?';
  console.error(`${shape.name}: page ${time(plan)}, count ${time(countPlan)}`);
  sections.push(
    `## ${shape.name}`,
    '',
    `\`GET /v1/events?${shape.query.length > 160 ? `${shape.query.slice(0, 160)}...` : shape.query}\`: page ${time(plan)}; with count=true the count takes ${time(countPlan)}.`,
    '',
    '```',
    ...plan,
    '```',
    '',
  );
}
await pool.end();

const counts = `${new Date().toISOString().slice(0, 10)}`;
writeFileSync(
  args.out,
  [
    '# Query plans of the event list',
    '',
    `EXPLAIN (ANALYZE, BUFFERS) of the page query the service runs (src/modules/events/repository.ts, eventPageSql), measured ${counts}`,
    'on the synthetic data set, warm cache. Regenerate with `node --import tsx bench/explain.ts --database-url <url>`.',
    '',
    ...sections,
  ].join('\n'),
);

// The benchmark's baseline: the least a server can do to answer the same list
// requests — one hand-written SQL query over `pg`, and Fastify's own response
// serialiser (fast-json-stringify, compiled from the JSON Schema of EventPage).
// No validation library, no ORM, no content negotiation. Run by bench/run.ts.
//
//   node --import tsx bench/baseline-server.ts <database-url> <port>
import Fastify from 'fastify';
import pg from 'pg';
import { z } from 'zod';
import { SESSION_OPTIONS } from '../src/db/client.js';
import { EventPageSchema } from '../src/modules/events/schemas.js';
// The one rule the event JSON derives that is not plain columns: shared, so both count the same reporters.
import { INDEPENDENT_REPORTERS } from '../src/modules/events/evidence.js';

const [databaseUrl, port = '3100'] = process.argv.slice(2);
if (!databaseUrl) throw new Error('usage: baseline-server.ts <database-url> [port]');

// The same session settings as the service (UTC, no parallel workers), so both meet the same planner.
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, options: SESSION_OPTIONS });
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const actor = `json_build_object('id', a.id, 'name', a.name, 'kind', a.kind, 'country', a.country)`;
const figures = (
  owner: string,
) => `COALESCE((SELECT json_agg(json_build_object('measure', f.measure, 'low', f.low, 'best', f.best,
  'high', f.high, 'qualifier', f.qualifier, 'text', f.text, 'unit', f.unit,
  'subject', (SELECT ${actor} FROM actors a WHERE a.id = f.subject_id)) ORDER BY f.position) FROM figures f WHERE f.${owner}), '[]'::json)`;

const SELECT = `SELECT e.id, to_char(e.occurred_start, 'YYYY-MM-DD') AS k, json_build_object(
  'id', e.id, 'type', e.type, 'title', e.title, 'description', e.description, 'status', e.status, 'status_source', e.status_source,
  'report_count', (SELECT count(*) FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL),
  'independent_reporter_count', ${INDEPENDENT_REPORTERS},
  'occurred', json_build_object('start', e.occurred_start, 'end', e.occurred_end, 'precision', e.occurred_precision),
  'location', json_build_object('name', e.location_name, 'admin1', e.admin1, 'admin2', e.admin2, 'admin3', e.admin3,
    'country', e.country, 'lat', e.lat, 'lon', e.lon, 'precision', e.location_precision),
  'participants', COALESCE((SELECT json_agg(json_build_object('actor', ${actor}, 'role', p.role) ORDER BY p.position)
    FROM participants p JOIN actors a ON a.id = p.actor_id WHERE p.event_id = e.id), '[]'::json),
  'figures', ${figures('event_id = e.id')},
  'reports', COALESCE((SELECT json_agg(json_build_object('id', r.id, 'event_id', r.event_id,
      'reporter', (SELECT ${actor} FROM actors a WHERE a.id = r.reporter_id), 'reporter_role', r.reporter_role,
      'via', COALESCE((SELECT json_agg(${actor} ORDER BY v.position) FROM report_via v JOIN actors a ON a.id = v.actor_id
        WHERE v.report_id = r.id), '[]'::json),
      'document', (SELECT json_build_object('id', d.id, 'url', d.url, 'title', d.title, 'publisher', d.publisher,
        'published_at', ${iso('d.published_at')}) FROM documents d WHERE d.id = r.document_id),
      'stated_at', CASE WHEN r.stated_at_precision = 'date' THEN to_char(r.stated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
        ELSE ${iso('r.stated_at')} END,
      'stance', r.stance, 'quote', r.quote, 'reliability', r.reliability, 'credibility', r.credibility,
      'figures', ${figures('report_id = r.id')}, 'version', r.version, 'created_at', ${iso('r.created_at')},
      'updated_at', ${iso('r.updated_at')}, 'created_by', r.created_by) ORDER BY r.id)
    FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL), '[]'::json),
  'tags', e.tags,
  'external_ids', COALESCE((SELECT json_object_agg(x.source, x.external_id) FROM event_external_ids x WHERE x.event_id = e.id), '{}'::json),
  'relations', COALESCE((SELECT json_agg(json_build_object('event_id', x.related_event_id, 'relation', x.relation)
    ORDER BY x.created_at, x.related_event_id) FROM event_relations x WHERE x.event_id = e.id), '[]'::json),
  'version', e.version, 'created_at', ${iso('e.created_at')}, 'updated_at', ${iso('e.updated_at')},
  'created_by', e.created_by, 'updated_by', e.updated_by, 'deleted_at', ${iso('e.deleted_at')}) AS event
FROM events e`;

type Query = Record<string, string | undefined>;

/** The WHERE clause for the query shapes the benchmark sends, written by hand. */
function where(query: Query, values: unknown[]): string {
  const add = (value: unknown) => `$${values.push(value)}`;
  const conditions = ['e.deleted_at IS NULL'];
  if (query.type) conditions.push(`e.type = ANY(${add(query.type.split(','))}::text[])`);
  if (query.occurred_from)
    conditions.push(
      `daterange(e.occurred_start, e.occurred_end, '[]') && daterange(${add(query.occurred_from)}::date, ${add(query.occurred_to ?? null)}::date, '[]')`,
    );
  if (query.occurred_to) conditions.push(`e.occurred_start <= ${add(query.occurred_to)}::date`);
  if (query.occurred_from) conditions.push(`e.occurred_end >= ${add(query.occurred_from)}::date`);
  if (query.reporter)
    conditions.push(
      `EXISTS (SELECT 1 FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL AND r.reporter_id = ${add(query.reporter)}::uuid)`,
    );
  if (query.bbox) {
    const [minLon, minLat, maxLon, maxLat] = query.bbox.split(',').map(Number);
    conditions.push(
      `point(e.lon, e.lat) <@ box(point(${add(minLon)}, ${add(minLat)}), point(${add(maxLon)}, ${add(maxLat)}))`,
    );
  }
  if (query.q) conditions.push(`e.search @@ websearch_to_tsquery('english', ${add(query.q)})`);
  if (query.cursor) {
    const [, key, id] = JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8')) as [string, string, string];
    conditions.push(`(e.occurred_start, e.id) < (${add(key)}::date, ${add(id)}::uuid)`);
  }
  return conditions.join(' AND ');
}

const app = Fastify({ logger: false });
app.get(
  '/v1/events',
  { schema: { response: { 200: z.toJSONSchema(EventPageSchema, { target: 'draft-7', io: 'output' }) } } },
  async (request) => {
    const query = request.query as Query;
    const limit = Number(query.limit ?? 50);
    const values: unknown[] = [];
    const sql = `${SELECT} WHERE ${where(query, values)} ORDER BY e.occurred_start DESC, e.id DESC LIMIT ${limit + 1}`;
    const rows = (await pool.query<{ id: string; k: string; event: unknown }>(sql, values)).rows;
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      data: rows.slice(0, limit).map((row) => row.event),
      next_cursor: last ? Buffer.from(JSON.stringify(['-occurred', last.k, last.id])).toString('base64url') : null,
    };
  },
);

await app.listen({ port: Number(port), host: '127.0.0.1' });
console.log(`baseline listening on ${port}`);

// The Event wire format built by PostgreSQL in one expression (with its live
// reports). refreshEvent stores it in events.rendered after every write, and reads
// fall back to it for an event not rendered yet; one expression instead of the ORM's
// query per relation, which cost about half the throughput (PRISMA-OFFLINE.md).
// Must produce exactly EventSchema; the tests parse every event they read.
import { ACTOR_SUMMARY_JSON, figuresJson, isoTimestamp } from '../../../db/sql.js';
import { REPORT_JSON } from '../../reports/json-sql.js';
import { INDEPENDENT_REPORTERS, REPORT_COUNT } from '../evidence.js';

/** JSON of the event row aliased `e`. */
export const EVENT_JSON = `json_build_object(
  'id', e.id,
  'type', e.type,
  'title', e.title,
  'description', e.description,
  'status', e.status,
  'status_source', e.status_source,
  'report_count', ${REPORT_COUNT},
  'independent_reporter_count', ${INDEPENDENT_REPORTERS},
  'occurred', json_build_object('start', e.occurred_start, 'end', e.occurred_end, 'precision', e.occurred_precision),
  'location', json_build_object('name', e.location_name, 'admin1', e.admin1, 'admin2', e.admin2, 'country', e.country,
                                'lat', e.lat, 'lon', e.lon, 'precision', e.location_precision),
  'participants', COALESCE((
    SELECT json_agg(json_build_object('actor', ${ACTOR_SUMMARY_JSON}, 'role', p.role) ORDER BY p.position)
    FROM participants p JOIN actors a ON a.id = p.actor_id WHERE p.event_id = e.id
  ), '[]'::json),
  'figures', ${figuresJson('event_id = e.id', true)},
  'reports', COALESCE((
    SELECT json_agg(${REPORT_JSON} ORDER BY r.id) FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL
  ), '[]'::json),
  'tags', to_json(e.tags),
  'external_ids', COALESCE((
    SELECT json_object_agg(x.source, x.external_id ORDER BY x.source) FROM event_external_ids x WHERE x.event_id = e.id
  ), '{}'::json),
  'relations', COALESCE((
    SELECT json_agg(json_build_object('event_id', x.related_event_id, 'relation', x.relation) ORDER BY x.created_at, x.related_event_id)
    FROM event_relations x WHERE x.event_id = e.id
  ), '[]'::json),
  'version', e.version,
  'created_at', ${isoTimestamp('e.created_at')},
  'updated_at', ${isoTimestamp('e.updated_at')},
  'created_by', e.created_by,
  'updated_by', e.updated_by,
  'deleted_at', ${isoTimestamp('e.deleted_at')}
)`;

/**
 * The members of EVENT_JSON that are columns of the event row `e`, by path, with the same expressions: a sparse
 * fieldset (fields.ts) reads these from the row, which costs PostgreSQL a fifth of parsing the stored text as jsonb.
 * tests/events/fields.test.ts compares every one of them with the whole event.
 */
export const EVENT_ROW_MEMBERS: Record<string, string> = {
  id: 'e.id',
  type: 'e.type',
  title: 'e.title',
  description: 'e.description',
  status: 'e.status',
  status_source: 'e.status_source',
  'occurred.start': 'e.occurred_start',
  'occurred.end': 'e.occurred_end',
  'occurred.precision': 'e.occurred_precision',
  'location.name': 'e.location_name',
  'location.admin1': 'e.admin1',
  'location.admin2': 'e.admin2',
  'location.country': 'e.country',
  'location.lat': 'e.lat',
  'location.lon': 'e.lon',
  'location.precision': 'e.location_precision',
  tags: 'to_json(e.tags)',
  version: 'e.version',
  created_at: isoTimestamp('e.created_at'),
  updated_at: isoTimestamp('e.updated_at'),
  created_by: 'e.created_by',
  updated_by: 'e.updated_by',
  deleted_at: isoTimestamp('e.deleted_at'),
};

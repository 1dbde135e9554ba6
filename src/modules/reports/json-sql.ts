// The Report wire format built by PostgreSQL in one expression, so a page of
// reports (or of events with their reports) is one query rather than the
// ORM's query per relation. Must produce exactly ReportSchema; the tests parse it.
import { ACTOR_SUMMARY_JSON, figuresJson, isoTimestamp } from '../../db/sql.js';

/** JSON of the report row aliased `r`. */
export const REPORT_JSON = `json_build_object(
  'id', r.id,
  'event_id', r.event_id,
  'reporter', (SELECT ${ACTOR_SUMMARY_JSON} FROM actors a WHERE a.id = r.reporter_id),
  'reporter_role', r.reporter_role,
  'via', COALESCE((
    SELECT json_agg(${ACTOR_SUMMARY_JSON} ORDER BY v.position)
    FROM report_via v JOIN actors a ON a.id = v.actor_id WHERE v.report_id = r.id
  ), '[]'::json),
  'document', (
    SELECT json_build_object('id', d.id, 'url', d.url, 'title', d.title, 'publisher', d.publisher,
                             'published_at', ${isoTimestamp('d.published_at')})
    FROM documents d WHERE d.id = r.document_id
  ),
  'stated_at', CASE WHEN r.stated_at_precision = 'date'
                    THEN to_char(r.stated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                    ELSE ${isoTimestamp('r.stated_at')} END,
  'stance', r.stance,
  'quote', r.quote,
  'reliability', r.reliability,
  'credibility', r.credibility,
  'figures', ${figuresJson('report_id = r.id')},
  'version', r.version,
  'created_at', ${isoTimestamp('r.created_at')},
  'updated_at', ${isoTimestamp('r.updated_at')},
  'created_by', r.created_by
)`;

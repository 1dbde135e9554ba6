// What an event's live reports add up to: how many there are, and how many unrelated
// reporters assert it. An event whose status comes from the evidence (not set by an
// editor) is `corroborated` from two unrelated reporters on, `reported` below that.

/**
 * The number of unrelated reporters asserting the event `e`: its live `asserts` reports
 * counted by the origin of their claim, the farthest actor of their via chain, or the
 * reporter itself when it cites no one. Two outlets quoting the same agency count once.
 */
export const INDEPENDENT_REPORTERS = `(
  SELECT count(DISTINCT COALESCE(
    (SELECT v.actor_id FROM report_via v WHERE v.report_id = r.id ORDER BY v.position DESC LIMIT 1),
    r.reporter_id))::int
  FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL AND r.stance = 'asserts'
)`;

/** The number of live reports of the event `e`, whatever their stance. */
export const REPORT_COUNT = `(SELECT count(*)::int FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL)`;

/** The status the evidence gives the event `e`. */
export const DERIVED_STATUS = `(CASE WHEN ${INDEPENDENT_REPORTERS} >= 2 THEN 'corroborated' ELSE 'reported' END)::event_status`;

/**
 * The reporters of the event `e`'s live reports, and the actors their via chains cite, each
 * set sorted: stored in events.reporter_ids and events.via_ids, so the reporter and via filters
 * test the events row itself (src/modules/events/filters.ts).
 */
export const REPORTER_IDS = `ARRAY(SELECT DISTINCT r.reporter_id FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL ORDER BY 1)`;
export const VIA_IDS = `ARRAY(
  SELECT DISTINCT v.actor_id FROM reports r JOIN report_via v ON v.report_id = r.id
  WHERE r.event_id = e.id AND r.deleted_at IS NULL ORDER BY 1)`;

// What an event's live reports add up to: how many there are, how many unrelated
// reporters assert it, and the figures they claim. An event whose status comes from the
// evidence (not set by an editor) is `corroborated` from two unrelated reporters on,
// `reported` below that; its figure for a measure no editor set is derived from the claims.

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

/**
 * The figures the evidence gives the event `e` (rows of measure, low, best, high, unit,
 * subject_id): one for each measure that no editor's figure of `e` names and that its live
 * `asserts` reports give a number for. low is the smallest low and high the largest high the
 * reports give (null when none gives one); best is the median of their bests, the lower middle
 * one of an even count (percentile_disc), so it is always a value some report gave. Where the
 * reports contradict each other (one's low above another's best or high) a bound widens to take
 * the best and the other bound in, so low <= best <= high holds. unit and subject are kept when
 * every figure counted agrees on them, null otherwise. Figures with only a wording count for nothing.
 */
export const EVIDENCE_FIGURES = `(
  SELECT c.measure,
         CASE WHEN c.low IS NOT NULL THEN LEAST(c.low, c.best, c.high) END AS low,
         c.best,
         CASE WHEN c.high IS NOT NULL THEN GREATEST(c.high, c.best, c.low) END AS high,
         c.unit, c.subject_id
  FROM (
    SELECT rf.measure, min(rf.low) AS low, percentile_disc(0.5) WITHIN GROUP (ORDER BY rf.best) AS best, max(rf.high) AS high,
           CASE WHEN count(rf.unit) = count(*) AND count(DISTINCT rf.unit) = 1 THEN min(rf.unit) END AS unit,
           CASE WHEN count(rf.subject_id) = count(*) AND count(DISTINCT rf.subject_id) = 1 THEN (array_agg(rf.subject_id))[1] END AS subject_id
    FROM reports r JOIN figures rf ON rf.report_id = r.id
    WHERE r.event_id = e.id AND r.deleted_at IS NULL AND r.stance = 'asserts'
      AND num_nonnulls(rf.low, rf.best, rf.high) > 0
      AND NOT EXISTS (SELECT 1 FROM figures ef WHERE ef.event_id = e.id AND NOT ef.derived AND ef.measure = rf.measure)
    GROUP BY rf.measure
  ) c
)`;

/** The event `e`'s figures derived from the evidence, as stored (figures.derived), in a comparable form. */
export const STORED_EVIDENCE_FIGURES = `(
  SELECT jsonb_agg(jsonb_build_array(f.measure, f.low, f.best, f.high, f.unit, f.subject_id) ORDER BY f.measure)
  FROM figures f WHERE f.event_id = e.id AND f.derived)`;

/** The same for the figures the evidence gives now (EVIDENCE_FIGURES). */
export const FRESH_EVIDENCE_FIGURES = `(
  SELECT jsonb_agg(jsonb_build_array(d.measure, d.low, d.best, d.high, d.unit, d.subject_id) ORDER BY d.measure)
  FROM ${EVIDENCE_FIGURES} d)`;

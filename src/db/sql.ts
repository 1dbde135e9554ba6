// Small helpers for the hand-written SQL of the read paths: numbered parameters
// collected as the query is built, and the JSON shapes shared by several queries.

/** Collects values and hands out their `$n` placeholders, so fragments can be composed in any order. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

/** A timestamptz as the API writes it: UTC ISO 8601 with milliseconds and Z, like Date.toISOString(). */
export function isoTimestamp(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** An actor row (alias `a`) as the short form embedded in events and reports. */
export const ACTOR_SUMMARY_JSON = `json_build_object('id', a.id, 'name', a.name, 'kind', a.kind, 'country', a.country)`;

/**
 * The figures owned by `owner` (`event_id = ...` or `report_id = ...`), in the order written;
 * an event's (withSource) say whether an editor set them or the evidence gave them.
 */
export function figuresJson(ownerCondition: string, withSource = false): string {
  const source = withSource ? `, 'source', CASE WHEN f.derived THEN 'evidence' ELSE 'editor' END` : '';
  return `COALESCE((
    SELECT json_agg(json_build_object(
      'measure', f.measure, 'low', f.low, 'best', f.best, 'high', f.high, 'qualifier', f.qualifier,
      'text', f.text, 'unit', f.unit,
      'subject', (SELECT ${ACTOR_SUMMARY_JSON} FROM actors a WHERE a.id = f.subject_id)${source}
    ) ORDER BY f.position)
    FROM figures f WHERE f.${ownerCondition}
  ), '[]'::json)`;
}

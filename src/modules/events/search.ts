// Full-text search of events: one stored vector per event (events.search) over its
// title, description and the quotes of its live reports, so `q` is a single indexed
// condition that the planner can also check row by row while walking a sort index.
import type { SqlParams } from '../../db/sql.js';

/** The text-search configuration of the `q` filter and of events.search (they must agree). */
export const SEARCH_CONFIG = 'english';

/**
 * The search vector of the event row aliased `e`, given the text of its live reports'
 * quotes: title (weight A), description (B), quotes (C), so relevance ranks title matches
 * first. The backfill in the query_indexes migration writes the same expression.
 */
export function eventSearchVector(quotes: string): string {
  return `setweight(to_tsvector('${SEARCH_CONFIG}', e.title), 'A')
  || setweight(to_tsvector('${SEARCH_CONFIG}', coalesce(e.description, '')), 'B')
  || setweight(to_tsvector('${SEARCH_CONFIG}', coalesce(${quotes}, '')), 'C')`;
}

/** The quotes of the live reports of event `e`, in report order, as one text. */
const LIVE_QUOTES = `(SELECT string_agg(r.quote, ' ' ORDER BY r.id) FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL)`;

/** The search vector of event `e`, as stored in events.search by refreshEvent. */
export const EVENT_SEARCH_VECTOR = eventSearchVector(LIVE_QUOTES);

/** The tsquery of a `q` value, as a placeholder expression. */
export function searchQuery(q: string, p: SqlParams): string {
  return `websearch_to_tsquery('${SEARCH_CONFIG}', ${p.add(q)})`;
}

// Full-text search of events: one stored vector per event (events.search) over its
// title, description and the quotes of its live reports, so `q` is a single indexed
// condition that the planner can also check row by row while walking a sort index.
import type { SqlParams } from '../../../db/sql.js';

/** The text-search configuration of the `q` filter and of events.search (they must agree). */
export const SEARCH_CONFIG = 'english';

/**
 * The search vector of the event row aliased `e`: its title (weight A), description (B)
 * and the quotes of its live reports (C), so relevance ranks title matches first. Stored
 * in events.search by refreshEvent; the backfill in the query_indexes migration writes
 * the same expression.
 */
export const EVENT_SEARCH_VECTOR = `setweight(to_tsvector('${SEARCH_CONFIG}', e.title), 'A')
  || setweight(to_tsvector('${SEARCH_CONFIG}', coalesce(e.description, '')), 'B')
  || setweight(to_tsvector('${SEARCH_CONFIG}', coalesce((
       SELECT string_agg(r.quote, ' ' ORDER BY r.id) FROM reports r WHERE r.event_id = e.id AND r.deleted_at IS NULL), '')), 'C')`;

/**
 * Dashes separated only by spaces or punctuation (not by a word or a quote): websearch_to_tsquery
 * reads each as one more NOT around the next word, and 32 of them overflow its parser's stack
 * ("tsquery stack too small", a 500 for any caller).
 */
const NEGATION_RUN = /-[^\p{L}\p{N}"-]*(?:-[^\p{L}\p{N}"-]*)+/gu;

/**
 * `q` as websearch_to_tsquery can always parse it: a run of negations reads as one. PostgreSQL's
 * own parser is kept (quotes, `or`, `-`) rather than a home-made one; the 500-character limit of
 * the filter keeps the number of terms far below its other limits.
 */
export function searchText(q: string): string {
  return q.replace(NEGATION_RUN, '-');
}

/** The tsquery of a `q` value, as a placeholder expression. */
export function searchQuery(q: string, p: SqlParams): string {
  return `websearch_to_tsquery('${SEARCH_CONFIG}', ${p.add(searchText(q))})`;
}

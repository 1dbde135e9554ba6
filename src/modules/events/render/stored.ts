// The event's two stored renderings, its JSON (rendered) and its CSV record (rendered_csv): how
// they are written (refresh.ts runs these after every write) and how a read takes them, built on
// the spot for an event not rendered yet.
import { csvRecordOf } from './csv.js';
import { EVENT_JSON } from './json.js';

/** The event `e` as served: its rendered JSON, or, while it has none yet, built on the spot. */
export const RENDERED_EVENT = `COALESCE(e.rendered, (${EVENT_JSON})::text)`;

/** The event `e` as a record of the CSV export: stored with its JSON, or, while it has none yet, made on the spot. */
export const RENDERED_CSV = `COALESCE(e.rendered_csv, ${csvRecordOf(`(${RENDERED_EVENT})`)})`;

/** The columns of the event's two renderings, in the order renderings() gives their values. */
export const RENDERED_COLUMNS = ['rendered', 'rendered_csv'];

/** The values of rendered and rendered_csv, from the event's JSON built as `json`. */
export const renderings = (json: string) => [`${json}::text`, csvRecordOf(json)];

/**
 * Sets the rendered JSON of the event `e` and its CSV record, which the SQL function
 * event_csv_record (csv.ts) makes from that JSON: one rendering, two forms.
 * OFFSET 0 keeps the rendering a subquery of its own: flattened, the planner would put the
 * JSON expression in both places and build it twice.
 */
export const RENDER = `(${RENDERED_COLUMNS.join(', ')}) = (SELECT ${renderings('j').join(', ')} FROM (SELECT ${EVENT_JSON} AS j OFFSET 0) rendering)`;

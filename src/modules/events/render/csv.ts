// The event as a record of the CSV export (one row per event, reports, figures and actors
// flattened into readable columns), and the cell rules (RFC 4180, formula guard) the ACLED CSV shares.

const NEEDS_QUOTES = /[",\r\n]/;

/**
 * The first characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection): =, +,
 * -, @, tab, CR, and their fullwidth forms, which some spreadsheets read alike. csv_field in the
 * migrations holds the same set.
 */
export const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * RFC 4180: quote a field holding a comma, quote, CR or LF; double its quotes. Text that a spreadsheet
 * would run as a formula gets a leading single quote (so `=HYPERLINK(...)` shows as text); numbers are
 * written as they are, so a negative one stays a number.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A cell as csvField wrote it, read back: without the single quote that kept it from running as a formula. */
export function csvText(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}

/**
 * The first part of event_csv_record: the loops that join the event's lists (participants, figures, reports,
 * documents, tags, external ids) into the texts of their cells. PL/pgSQL rather than SQL: with a subquery per
 * list cell, an SQL function cost about 370 us an event against about 40 us for these loops.
 */
const CSV_RECORD_LISTS = `DECLARE
  sep constant text := '; ';
  occurred jsonb := event -> 'occurred';
  place jsonb := event -> 'location';
  reports jsonb := event -> 'reports';
  item jsonb;
  report jsonb;
  reporter text;
  chain text;
  participants text;
  figures text;
  reporters text;
  via text;
  claimed text;
  documents text[] := '{}';
  tags text;
  external_ids text;
  source text;
BEGIN
  FOR i IN 0 .. jsonb_array_length(event -> 'participants') - 1 LOOP
    item := event -> 'participants' -> i;
    participants := concat_ws(sep, participants, (item ->> 'role') || ': ' || (item -> 'actor' ->> 'name'));
  END LOOP;
  FOR i IN 0 .. jsonb_array_length(event -> 'figures') - 1 LOOP
    figures := concat_ws(sep, figures, csv_figure_text(event -> 'figures' -> i));
  END LOOP;
  FOR i IN 0 .. jsonb_array_length(reports) - 1 LOOP
    report := reports -> i;
    reporter := report -> 'reporter' ->> 'name';
    reporters := concat_ws(sep, reporters,
      reporter || ' (' || (report ->> 'reporter_role') || ', ' || (report ->> 'stance') || ', '
        || coalesce(report ->> 'reliability', '-') || coalesce(report ->> 'credibility', '-')
        || CASE WHEN coalesce(report ->> 'stated_at', '') = '' THEN '' ELSE ', ' || (report ->> 'stated_at') END || ')');
    IF jsonb_array_length(report -> 'via') > 0 THEN
      chain := reporter;
      FOR j IN 0 .. jsonb_array_length(report -> 'via') - 1 LOOP
        chain := chain || ' < ' || (report -> 'via' -> j ->> 'name');
      END LOOP;
      via := concat_ws(sep, via, chain);
    END IF;
    FOR j IN 0 .. jsonb_array_length(report -> 'figures') - 1 LOOP
      claimed := concat_ws(sep, claimed, reporter || ': ' || csv_figure_text(report -> 'figures' -> j));
    END LOOP;
    IF jsonb_typeof(report -> 'document') = 'object' AND NOT (report -> 'document' ->> 'url') = ANY (documents) THEN
      documents := documents || (report -> 'document' ->> 'url');
    END IF;
  END LOOP;
  FOR i IN 0 .. jsonb_array_length(event -> 'tags') - 1 LOOP
    tags := concat_ws(sep, tags, event -> 'tags' ->> i);
  END LOOP;
  FOR source IN SELECT jsonb_object_keys(event -> 'external_ids') ORDER BY 1 LOOP
    external_ids := concat_ws(sep, external_ids, source || ':' || (event -> 'external_ids' ->> source));
  END LOOP;
`;

/**
 * The columns of the CSV export in order, each with the SQL of its cell in event_csv_record, which reads the
 * event's JSON (`event`, its `occurred` and `place`) and the lists CSV_RECORD_LISTS joined: the header and the
 * function are both made from this list.
 */
const CSV_CELLS = [
  ['id', "csv_field(event ->> 'id')"],
  ['type', "csv_field(event ->> 'type')"],
  ['status', "csv_field(event ->> 'status')"],
  ['title', "csv_field(event ->> 'title')"],
  ['description', "csv_field(event ->> 'description')"],
  ['occurred_start', "csv_field(occurred ->> 'start')"],
  ['occurred_end', "csv_field(occurred ->> 'end')"],
  ['occurred_precision', "csv_field(occurred ->> 'precision')"],
  ['location_name', "csv_field(place ->> 'name')"],
  ['admin1', "csv_field(place ->> 'admin1')"],
  ['admin2', "csv_field(place ->> 'admin2')"],
  ['admin3', "csv_field(place ->> 'admin3')"],
  ['country', "csv_field(place ->> 'country')"],
  ['lat', "csv_number(place -> 'lat')"],
  ['lon', "csv_number(place -> 'lon')"],
  ['location_precision', "csv_field(place ->> 'precision')"],
  ['participants', 'csv_field(participants)'],
  ['figures', 'csv_field(figures)'],
  ['report_count', 'jsonb_array_length(reports)::text'],
  ['reporters', 'csv_field(reporters)'],
  ['via', 'csv_field(via)'],
  ['reported_figures', 'csv_field(claimed)'],
  ['documents', 'csv_field(array_to_string(documents, sep))'],
  ['tags', 'csv_field(tags)'],
  ['external_ids', 'csv_field(external_ids)'],
  ['version', "csv_number(event -> 'version')"],
  ['created_at', "csv_field(event ->> 'created_at')"],
  ['updated_at', "csv_field(event ->> 'updated_at')"],
] as const;

/** The columns of the CSV export, in the order event_csv_record writes them. */
export const CSV_COLUMNS = CSV_CELLS.map(([column]) => column);

/** The header of the CSV export. */
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

/**
 * The body of the PL/pgSQL function event_csv_record(event jsonb): the event's CSV record, CRLF-terminated,
 * made from its rendered JSON. The function itself is defined by the migrations, which also rewrite the stored
 * records when it changes; tests/events/csv-record.test.ts fails, printing EVENT_CSV_RECORD_FUNCTION for a new
 * migration, when the database's function is not this one.
 */
export const EVENT_CSV_RECORD_BODY = `
${CSV_RECORD_LISTS}  RETURN concat_ws(',',
${CSV_CELLS.map(([, cell]) => `    ${cell}`).join(',\n')}
  ) || E'\\r\\n';
END
`;

/** The statement that makes event_csv_record this list's, for a migration that changes the columns. */
export const EVENT_CSV_RECORD_FUNCTION = `CREATE OR REPLACE FUNCTION event_csv_record(event jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$${EVENT_CSV_RECORD_BODY}$$;`;

/** The CSV record of the event whose JSON (text or json) is `json`, as event_csv_record makes it. */
export const csvRecordOf = (json: string) => `event_csv_record(${json}::jsonb)`;

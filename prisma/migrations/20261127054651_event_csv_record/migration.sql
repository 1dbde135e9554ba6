-- AlterTable
ALTER TABLE "events" ADD COLUMN     "rendered_csv" TEXT;

-- Hand-written: the CSV export's record of an event, made from its rendered JSON whenever that
-- is written (src/modules/events/refresh.ts), so an export streams stored text instead of parsing
-- and formatting every event as it goes. PL/pgSQL rather than SQL functions: with a subquery per
-- list cell, an SQL function cost about 370 us an event against about 40 us for the loops below
-- (20,000 events of the synthetic data set, the same records byte for byte).

-- RFC 4180: a field holding a comma, quote, CR or LF is quoted, its quotes doubled. NULL is empty.
CREATE FUNCTION csv_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN value IS NULL THEN ''
    WHEN value ~ E'[",\r\n]' THEN '"' || replace(value, '"', '""') || '"'
    ELSE value
  END
$$;

-- A JSON number as JavaScript's String(number) writes it (the format of the export's first
-- version): plain decimals, except the exponent form below 1e-6 (1e-7, 1.5e-7).
CREATE FUNCTION csv_number(value jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN value IS NULL OR jsonb_typeof(value) <> 'number' THEN ''
    WHEN abs(value::numeric) < 1e-6 AND value::numeric <> 0
      THEN regexp_replace(value::numeric::float8::text, 'e([+-])0*(\d)', 'e\1\2')
    ELSE (value::numeric)::text
  END
$$;

-- One figure: 'killed: 3', 'wounded: low 2, best 4', 'equipment (tanks): not stated "many"'.
CREATE FUNCTION csv_figure_text(figure jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  low text := figure ->> 'low';
  best text := figure ->> 'best';
  high text := figure ->> 'high';
  numbers text;
BEGIN
  IF low IS NOT NULL AND low = best AND best = high THEN
    numbers := best;
  ELSE
    numbers := nullif(concat_ws(', ', 'low ' || low, 'best ' || best, 'high ' || high), '');
  END IF;
  RETURN CASE WHEN coalesce(figure ->> 'unit', '') = '' THEN figure ->> 'measure'
              ELSE (figure ->> 'measure') || ' (' || (figure ->> 'unit') || ')' END
    || ': ' || coalesce(numbers, 'not stated')
    || CASE WHEN coalesce(figure ->> 'text', '') = '' THEN '' ELSE ' "' || (figure ->> 'text') || '"' END;
END
$$;

-- The record, CRLF-terminated, in the order of CSV_COLUMNS (src/modules/events/export.ts); the
-- items of a list cell are separated by '; ', documents listed once in the order first cited.
CREATE FUNCTION event_csv_record(event jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
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
  RETURN concat_ws(',',
    csv_field(event ->> 'id'),
    csv_field(event ->> 'type'),
    csv_field(event ->> 'status'),
    csv_field(event ->> 'title'),
    csv_field(event ->> 'description'),
    csv_field(occurred ->> 'start'),
    csv_field(occurred ->> 'end'),
    csv_field(occurred ->> 'precision'),
    csv_field(place ->> 'name'),
    csv_field(place ->> 'admin1'),
    csv_field(place ->> 'admin2'),
    csv_field(place ->> 'country'),
    csv_number(place -> 'lat'),
    csv_number(place -> 'lon'),
    csv_field(place ->> 'precision'),
    csv_field(participants),
    csv_field(figures),
    jsonb_array_length(reports)::text,
    csv_field(reporters),
    csv_field(via),
    csv_field(claimed),
    csv_field(array_to_string(documents, sep)),
    csv_field(tags),
    csv_field(external_ids),
    csv_number(event -> 'version'),
    csv_field(event ->> 'created_at'),
    csv_field(event ->> 'updated_at')
  ) || E'\r\n';
END
$$;

-- Hand-written: rows up to 4,080 bytes (half a page) are kept whole, and only beyond that is the
-- rendered JSON compressed. With the default (about 2 KB) an event's row, JSON compressed and CSV
-- record added, no longer fitted: its JSON went out of line into the TOAST table, one more
-- insert for every write and one more lookup for every row a page or an export reads.
ALTER TABLE "events" SET (toast_tuple_target = 4080);

-- Hand-written: the records of the events rendered so far (the others get theirs when rendered).
-- Every row is rewritten: on 1,000,000 events this takes minutes.
UPDATE "events" SET "rendered_csv" = event_csv_record("rendered"::jsonb) WHERE "rendered" IS NOT NULL;

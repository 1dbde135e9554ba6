-- AlterTable
ALTER TABLE "events" ADD COLUMN     "admin3" TEXT;

-- AlterTable
ALTER TABLE "event_stats" ADD COLUMN     "admin3" TEXT;

-- Hand-written: event_csv_record writes the admin3 column after admin2 (EVENT_CSV_RECORD_FUNCTION of
-- src/modules/events/render/csv.ts as of this migration). The new columns are empty, so no event_stats
-- row changes; the stored renderings of existing events lack location.admin3 and its CSV cell: emptied,
-- so the service renders them again as it starts (renderMissingEvents) and reads build them on the spot
-- meanwhile.
CREATE OR REPLACE FUNCTION event_csv_record(event jsonb) RETURNS text
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
    csv_field(place ->> 'admin3'),
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

UPDATE "events" SET "rendered" = NULL, "rendered_csv" = NULL WHERE "rendered" IS NOT NULL;

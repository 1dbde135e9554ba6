-- Hand-written (no change to schema.prisma): CSV injection. A text cell of the CSV export that starts
-- with =, +, -, @, a tab or a CR, or their fullwidth forms (U+FF1D, U+FF0B, U+FF0D, U+FF20), would run
-- as a formula in a spreadsheet (OWASP's CSV-injection advice): it gets a leading single quote, as
-- csvField in src/modules/events/export.ts does for the ACLED-CSV export. Numbers are written by
-- csv_number and the report count as plain text, so negative coordinates stay numbers.
CREATE OR REPLACE FUNCTION csv_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN value IS NULL THEN ''
    WHEN guarded ~ E'[",\r\n]' THEN '"' || replace(guarded, '"', '""') || '"'
    ELSE guarded
  END
  FROM (SELECT CASE WHEN value ~ E'^[-=+@\t\r\uFF1D\uFF0B\uFF0D\uFF20]' THEN '''' || value ELSE value END AS guarded) AS cell
$$;

-- The stored records with such a cell are written again (the others do not change). A cell starts
-- a record or follows a comma, quoted or not; the test may match inside a quoted cell too, which
-- only writes a record again as it was.
UPDATE "events" SET "rendered_csv" = event_csv_record("rendered"::jsonb)
WHERE "rendered" IS NOT NULL AND "rendered_csv" ~ E'(^|,)"?[-=+@\t\r\uFF1D\uFF0B\uFF0D\uFF20]';

-- AlterTable
ALTER TABLE "figures" ADD COLUMN     "derived" BOOLEAN NOT NULL DEFAULT false;

-- AddCheckConstraint: only an event's figure is derived from its reports.
ALTER TABLE "figures" ADD CONSTRAINT "figures_derived_owner_check" CHECK (NOT "derived" OR "event_id" IS NOT NULL);

-- Hand-written: the figures existing events' reports give for the measures no editor figure
-- names (events/evidence.ts EVIDENCE_FIGURES, events/refresh.ts insertEvidenceFigures, as of
-- this migration), their stats, and the renderings of every event with a figure, which now say
-- each figure's source: emptied, so the service renders them again as it starts
-- (renderMissingEvents) and reads build them on the spot meanwhile.
INSERT INTO "figures" ("id", "event_id", "position", "measure", "low", "best", "high", "unit", "subject_id", "derived")
SELECT gen_random_uuid(), e."id", 999 + row_number() OVER (PARTITION BY e."id" ORDER BY d."measure"),
       d."measure", d."low", d."best", d."high", d."unit", d."subject_id", true
FROM "events" e CROSS JOIN LATERAL (
  SELECT c."measure",
         CASE WHEN c."low" IS NOT NULL THEN LEAST(c."low", c."best", c."high") END AS "low",
         c."best",
         CASE WHEN c."high" IS NOT NULL THEN GREATEST(c."high", c."best", c."low") END AS "high",
         c."unit", c."subject_id"
  FROM (
    SELECT rf."measure", min(rf."low") AS "low", percentile_disc(0.5) WITHIN GROUP (ORDER BY rf."best") AS "best", max(rf."high") AS "high",
           CASE WHEN count(rf."unit") = count(*) AND count(DISTINCT rf."unit") = 1 THEN min(rf."unit") END AS "unit",
           CASE WHEN count(rf."subject_id") = count(*) AND count(DISTINCT rf."subject_id") = 1 THEN (array_agg(rf."subject_id"))[1] END AS "subject_id"
    FROM "reports" r JOIN "figures" rf ON rf."report_id" = r."id"
    WHERE r."event_id" = e."id" AND r."deleted_at" IS NULL AND r."stance" = 'asserts'
      AND num_nonnulls(rf."low", rf."best", rf."high") > 0
      AND NOT EXISTS (SELECT 1 FROM "figures" ef WHERE ef."event_id" = e."id" AND NOT ef."derived" AND ef."measure" = rf."measure")
    GROUP BY rf."measure"
  ) c
) d;

INSERT INTO "event_figure_stats" ("event_id", "measure", "low", "best", "high")
SELECT f."event_id", f."measure", sum(f."low"), sum(f."best"), sum(f."high")
FROM "figures" f WHERE f."derived"
GROUP BY f."event_id", f."measure";

DELETE FROM "daily_figure_stats";
INSERT INTO "daily_figure_stats" ("day", "type", "measure", "events", "low", "low_n", "best", "best_n", "high", "high_n")
SELECT s."occurred_start", s."type", g."measure", count(*), sum(g."low"), count(g."low"), sum(g."best"), count(g."best"), sum(g."high"), count(g."high")
FROM "event_stats" s JOIN "event_figure_stats" g ON g."event_id" = s."event_id"
WHERE s."deleted_at" IS NULL
GROUP BY s."occurred_start", s."type", g."measure";

UPDATE "events" e SET "rendered" = NULL, "rendered_csv" = NULL
WHERE e."rendered" IS NOT NULL AND EXISTS (SELECT 1 FROM "figures" f WHERE f."event_id" = e."id");

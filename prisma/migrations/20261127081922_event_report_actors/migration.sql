-- AlterTable
ALTER TABLE "events" ADD COLUMN     "reporter_ids" UUID[] DEFAULT ARRAY[]::UUID[],
ADD COLUMN     "via_ids" UUID[] DEFAULT ARRAY[]::UUID[];

-- Hand-written: the sets of the events already stored, as src/modules/events/evidence.ts derives
-- them (REPORTER_IDS, VIA_IDS); the writers keep them current from here on.
UPDATE "events" e SET
  "reporter_ids" = ARRAY(SELECT DISTINCT r."reporter_id" FROM "reports" r
                         WHERE r."event_id" = e."id" AND r."deleted_at" IS NULL ORDER BY 1),
  "via_ids" = ARRAY(SELECT DISTINCT v."actor_id" FROM "reports" r JOIN "report_via" v ON v."report_id" = r."id"
                    WHERE r."event_id" = e."id" AND r."deleted_at" IS NULL ORDER BY 1);

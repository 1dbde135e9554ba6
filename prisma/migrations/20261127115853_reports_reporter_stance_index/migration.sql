-- DropIndex
DROP INDEX "reports_reporter_id_idx";

-- CreateIndex
-- The reporter's index also carries the stance, so "this reporter's denials" reads only those
-- reports: on 1M events, a page of the most prolific reporter's denies/disputes (27,559 reports,
-- 1,486 of them) read 25,482 buffers in 1.19 s cold and 223 ms warm, then 4,221 in 215 ms cold
-- and 12 ms warm. A lookup by reporter alone uses the same index.
CREATE INDEX "reports_reporter_id_stance_idx" ON "reports"("reporter_id", "stance");

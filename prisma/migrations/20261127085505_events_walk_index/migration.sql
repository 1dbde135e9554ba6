-- DropIndex
DROP INDEX "events_occurred_start_id_idx";

-- Hand-written: the same key, carrying the columns that the filters test while a list walks
-- it in date order (liveness, the overlap rule's end date, status, position, the reporter and
-- via sets). The walk then reads the index alone and skips the wide event rows, whose rendered
-- JSON fills most of a page each: on 1M events, a page of one reporter's events read 2,264
-- buffers in 4.9 ms before, 47 in 0.7 ms with it; a bbox page 2,088 buffers, then 43.
CREATE INDEX "events_occurred_start_id_idx" ON "events" ("occurred_start" DESC, "id" DESC)
  INCLUDE ("deleted_at", "occurred_end", "status", "lat", "lon", "reporter_ids", "via_ids");

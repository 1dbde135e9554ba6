-- AlterTable
ALTER TABLE "events" ADD COLUMN     "search" tsvector;

-- CreateIndex
CREATE INDEX "events_country_occurred_start_id_idx" ON "events"("country", "occurred_start" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "events_search_idx" ON "events" USING GIN ("search");

-- CreateIndex
CREATE INDEX "events_lat_lon_idx" ON "events"("lat", "lon");

-- CreateIndex
CREATE INDEX "reports_stated_at_idx" ON "reports"("stated_at");

-- =============================================================================
-- Hand-written: what Prisma cannot model. scripts/check-migrations.ts lists it by name.
-- No semicolon except at the end of a statement (see the init migration).
-- =============================================================================

-- The longest occurred interval, read by max() through this index, bounds how far
-- below occurred_from a window query must scan for long events that reach into it.
CREATE INDEX "events_occurred_span_idx" ON "events" ((occurred_end - occurred_start));

-- Fill the search vector of events created before this migration: the same expression
-- as EVENT_SEARCH_VECTOR in src/modules/events/search.ts (title A, description B, quotes C).
UPDATE "events" e SET "search" =
       setweight(to_tsvector('english', e.title), 'A')
    || setweight(to_tsvector('english', coalesce(e.description, '')), 'B')
    || setweight(to_tsvector('english', coalesce((
         SELECT string_agg(r.quote, ' ' ORDER BY r.id) FROM "reports" r WHERE r.event_id = e.id AND r.deleted_at IS NULL), '')), 'C');

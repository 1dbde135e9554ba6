-- CreateIndex
CREATE INDEX "events_country_occurred_start_id_idx" ON "events"("country", "occurred_start" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "reports_stated_at_idx" ON "reports"("stated_at");

-- =============================================================================
-- Hand-written: indexes Prisma cannot model (expression, GIN and GiST), for the
-- filters of GET /v1/events. scripts/check-migrations.ts lists each by name.
-- The indexed expressions must stay exactly those of src/modules/events/filters.ts.
-- No semicolon except at the end of a statement (see the init migration).
-- =============================================================================

-- Full-text search (q) over an event's title and description, and over report quotes
CREATE INDEX "events_search_idx" ON "events" USING gin (to_tsvector('english', (title || ' ' || coalesce(description, ''))));
CREATE INDEX "reports_search_idx" ON "reports" USING gin (to_tsvector('english', coalesce(quote, '')));

-- occurred_from/occurred_to: overlap of the occurred interval with the window
CREATE INDEX "events_occurred_range_idx" ON "events" USING gist (daterange(occurred_start, occurred_end, '[]'));

-- bbox and near: the event's position as a point (lon, lat)
CREATE INDEX "events_position_idx" ON "events" USING gist (point(lon, lat));

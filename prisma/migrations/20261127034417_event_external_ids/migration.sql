-- CreateTable
CREATE TABLE "event_external_ids" (
    "source" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "event_id" UUID NOT NULL,

    CONSTRAINT "event_external_ids_pkey" PRIMARY KEY ("source","external_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "event_external_ids_event_id_source_key" ON "event_external_ids"("event_id", "source");

-- AddForeignKey
ALTER TABLE "event_external_ids" ADD CONSTRAINT "event_external_ids_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: what the API accepts as a source name and an identifier
ALTER TABLE "event_external_ids"
    ADD CONSTRAINT "event_external_ids_source_format_check" CHECK ("source" ~ '^[a-z][a-z0-9_]*$'),
    ADD CONSTRAINT "event_external_ids_external_id_not_blank_check" CHECK (btrim("external_id") <> '');

-- Hand-written: the served JSON gains external_ids, so every event is rendered again
-- (the service does it in the background, reads build it meanwhile)
UPDATE "events" SET "rendered" = NULL WHERE "rendered" IS NOT NULL;

-- Hand-written: the states kept in past revisions gain the field with the value it had then (no event had
-- external ids), so they still read as Events and the next revision does not list it as changed
UPDATE "revisions" SET "state" = "state" || '{"external_ids": {}}'::jsonb
WHERE "resource" = 'event' AND "state" -> 'external_ids' IS NULL;

-- CreateEnum
CREATE TYPE "status_source" AS ENUM ('evidence', 'editor');

-- AlterTable
ALTER TABLE "events" ADD COLUMN     "status_source" "status_source" NOT NULL DEFAULT 'evidence';

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "key" TEXT NOT NULL,
    "principal" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("principal","key")
);

-- CreateIndex
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys"("created_at");

-- Hand-written: events whose stored status is not one the evidence could derive were set by an editor
UPDATE "events" SET "status_source" = 'editor' WHERE "status" NOT IN ('reported', 'corroborated');

-- Hand-written: the served JSON gains report_count, independent_sources and status_source,
-- so every event is rendered again (the service does it in the background, reads build it meanwhile)
UPDATE "events" SET "rendered" = NULL WHERE "rendered" IS NOT NULL;

-- Hand-written: finds the events still to render without scanning the table
CREATE INDEX "events_unrendered_idx" ON "events" ("id") WHERE "rendered" IS NULL;

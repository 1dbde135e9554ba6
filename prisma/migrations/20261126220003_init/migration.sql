-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "event_status" AS ENUM ('reported', 'corroborated', 'confirmed', 'contested', 'discounted', 'retracted');

-- CreateEnum
CREATE TYPE "date_precision" AS ENUM ('day', 'week', 'month', 'year', 'range');

-- CreateEnum
CREATE TYPE "location_precision" AS ENUM ('exact', 'near', 'admin2', 'admin1', 'country', 'water', 'unknown');

-- CreateEnum
CREATE TYPE "actor_kind" AS ENUM ('state', 'military', 'unit', 'agency', 'person', 'media', 'group', 'other');

-- CreateEnum
CREATE TYPE "participant_role" AS ENUM ('perpetrator', 'target', 'subject', 'victim', 'supporter', 'sender', 'recipient', 'other');

-- CreateEnum
CREATE TYPE "reporter_role" AS ENUM ('party', 'third_party', 'independent', 'unknown');

-- CreateEnum
CREATE TYPE "stance" AS ENUM ('asserts', 'denies', 'disputes', 'unclear');

-- CreateEnum
CREATE TYPE "stated_at_precision" AS ENUM ('date', 'date_time');

-- CreateEnum
CREATE TYPE "figure_measure" AS ENUM ('killed', 'wounded', 'casualties', 'captured', 'missing', 'personnel', 'equipment', 'other');

-- CreateEnum
CREATE TYPE "figure_qualifier" AS ENUM ('exact', 'approximately', 'at_least', 'more_than', 'at_most', 'fewer_than', 'range');

-- CreateEnum
CREATE TYPE "relation_kind" AS ENUM ('follows', 'precedes', 'same_subject', 'part_of', 'contradicts', 'duplicate_of');

-- CreateEnum
CREATE TYPE "resource_kind" AS ENUM ('event', 'report', 'actor', 'document');

-- CreateEnum
CREATE TYPE "revision_action" AS ENUM ('created', 'updated', 'deleted');

-- CreateTable
CREATE TABLE "event_types" (
    "code" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "acled_event_type" TEXT,
    "acled_sub_event_type" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_types_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "actors" (
    "id" UUID NOT NULL,
    "kind" "actor_kind" NOT NULL,
    "name" TEXT NOT NULL,
    "normalized_name" TEXT NOT NULL,
    "country" CHAR(3),
    "aliases" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "external_ids" JSONB NOT NULL DEFAULT '{}',
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT 'anonymous',
    "updated_by" TEXT NOT NULL DEFAULT 'anonymous',

    CONSTRAINT "actors_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "documents" (
    "id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "title" TEXT,
    "publisher" TEXT,
    "published_at" TIMESTAMPTZ(3),
    "language" TEXT,
    "archive_url" TEXT,
    "content_hash" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT 'anonymous',
    "updated_by" TEXT NOT NULL DEFAULT 'anonymous',

    CONSTRAINT "documents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "status" "event_status" NOT NULL DEFAULT 'reported',
    "occurred_start" DATE NOT NULL,
    "occurred_end" DATE NOT NULL,
    "occurred_precision" "date_precision" NOT NULL,
    "location_name" TEXT,
    "admin1" TEXT,
    "admin2" TEXT,
    "country" CHAR(3),
    "lat" DOUBLE PRECISION,
    "lon" DOUBLE PRECISION,
    "location_precision" "location_precision" NOT NULL DEFAULT 'unknown',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT 'anonymous',
    "updated_by" TEXT NOT NULL DEFAULT 'anonymous',
    "deleted_at" TIMESTAMPTZ(3),
    "deleted_by" TEXT,
    "delete_reason" TEXT,
    "merged_into" UUID,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reports" (
    "id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "reporter_id" UUID NOT NULL,
    "reporter_role" "reporter_role" NOT NULL DEFAULT 'unknown',
    "document_id" UUID,
    "stated_at" TIMESTAMPTZ(3),
    "stated_at_precision" "stated_at_precision",
    "stance" "stance" NOT NULL DEFAULT 'asserts',
    "quote" TEXT,
    "reliability" CHAR(1),
    "credibility" SMALLINT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT 'anonymous',
    "updated_by" TEXT NOT NULL DEFAULT 'anonymous',
    "deleted_at" TIMESTAMPTZ(3),
    "deleted_by" TEXT,
    "delete_reason" TEXT,

    CONSTRAINT "reports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "report_via" (
    "report_id" UUID NOT NULL,
    "position" SMALLINT NOT NULL,
    "actor_id" UUID NOT NULL,

    CONSTRAINT "report_via_pkey" PRIMARY KEY ("report_id","position")
);

-- CreateTable
CREATE TABLE "figures" (
    "id" UUID NOT NULL,
    "event_id" UUID,
    "report_id" UUID,
    "position" SMALLINT NOT NULL,
    "measure" "figure_measure" NOT NULL,
    "low" INTEGER,
    "best" INTEGER,
    "high" INTEGER,
    "qualifier" "figure_qualifier",
    "text" TEXT,
    "unit" TEXT,
    "subject_id" UUID,

    CONSTRAINT "figures_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "participants" (
    "event_id" UUID NOT NULL,
    "actor_id" UUID NOT NULL,
    "role" "participant_role" NOT NULL,
    "position" SMALLINT NOT NULL,

    CONSTRAINT "participants_pkey" PRIMARY KEY ("event_id","actor_id","role")
);

-- CreateTable
CREATE TABLE "event_relations" (
    "event_id" UUID NOT NULL,
    "related_event_id" UUID NOT NULL,
    "relation" "relation_kind" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT 'anonymous',

    CONSTRAINT "event_relations_pkey" PRIMARY KEY ("event_id","related_event_id","relation")
);

-- CreateTable
CREATE TABLE "revisions" (
    "id" BIGSERIAL NOT NULL,
    "resource" "resource_kind" NOT NULL,
    "resource_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "action" "revision_action" NOT NULL,
    "author" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "state" JSONB NOT NULL,
    "changed_fields" TEXT[] DEFAULT ARRAY[]::TEXT[],

    CONSTRAINT "revisions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "actors_normalized_name_idx" ON "actors"("normalized_name");

-- CreateIndex
CREATE UNIQUE INDEX "actors_kind_normalized_name_key" ON "actors"("kind", "normalized_name");

-- CreateIndex
CREATE UNIQUE INDEX "documents_url_key" ON "documents"("url");

-- CreateIndex
CREATE INDEX "events_occurred_start_id_idx" ON "events"("occurred_start" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "events_type_occurred_start_id_idx" ON "events"("type", "occurred_start" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "events_updated_at_id_idx" ON "events"("updated_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "events_created_at_id_idx" ON "events"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "events_tags_idx" ON "events" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "reports_event_id_idx" ON "reports"("event_id");

-- CreateIndex
CREATE INDEX "reports_reporter_id_idx" ON "reports"("reporter_id");

-- CreateIndex
CREATE INDEX "reports_document_id_idx" ON "reports"("document_id");

-- CreateIndex
CREATE INDEX "report_via_actor_id_idx" ON "report_via"("actor_id");

-- CreateIndex
CREATE INDEX "figures_event_id_idx" ON "figures"("event_id");

-- CreateIndex
CREATE INDEX "figures_report_id_idx" ON "figures"("report_id");

-- CreateIndex
CREATE INDEX "participants_actor_id_role_idx" ON "participants"("actor_id", "role");

-- CreateIndex
CREATE INDEX "event_relations_related_event_id_idx" ON "event_relations"("related_event_id");

-- CreateIndex
CREATE INDEX "revisions_at_idx" ON "revisions"("at");

-- CreateIndex
CREATE UNIQUE INDEX "revisions_resource_resource_id_version_key" ON "revisions"("resource", "resource_id", "version");

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_type_fkey" FOREIGN KEY ("type") REFERENCES "event_types"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_merged_into_fkey" FOREIGN KEY ("merged_into") REFERENCES "events"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reports" ADD CONSTRAINT "reports_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reports" ADD CONSTRAINT "reports_reporter_id_fkey" FOREIGN KEY ("reporter_id") REFERENCES "actors"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reports" ADD CONSTRAINT "reports_document_id_fkey" FOREIGN KEY ("document_id") REFERENCES "documents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "report_via" ADD CONSTRAINT "report_via_report_id_fkey" FOREIGN KEY ("report_id") REFERENCES "reports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "report_via" ADD CONSTRAINT "report_via_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "actors"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "figures" ADD CONSTRAINT "figures_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "figures" ADD CONSTRAINT "figures_report_id_fkey" FOREIGN KEY ("report_id") REFERENCES "reports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "figures" ADD CONSTRAINT "figures_subject_id_fkey" FOREIGN KEY ("subject_id") REFERENCES "actors"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "participants" ADD CONSTRAINT "participants_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "participants" ADD CONSTRAINT "participants_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "actors"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event_relations" ADD CONSTRAINT "event_relations_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event_relations" ADD CONSTRAINT "event_relations_related_event_id_fkey" FOREIGN KEY ("related_event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- =============================================================================
-- Hand-written below this line: rules Prisma's schema language cannot express,
-- and the seeded event-type vocabulary. scripts/check-migrations.ts lists every
-- check constraint by name: add new ones there too.
-- No semicolon except at the end of a statement, even in comments or strings:
-- @prisma/adapter-pg splits scripts at every semicolon when Prisma's wasm engine applies them.
-- =============================================================================

-- AddCheckConstraint: events
ALTER TABLE "events"
    ADD CONSTRAINT "events_occurred_order_check" CHECK ("occurred_start" <= "occurred_end"),
    ADD CONSTRAINT "events_country_format_check" CHECK ("country" ~ '^[A-Z]{3}$'),
    -- BETWEEN also rejects NaN and infinities, which PostgreSQL sorts above every number.
    ADD CONSTRAINT "events_lat_range_check" CHECK ("lat" BETWEEN -90 AND 90),
    ADD CONSTRAINT "events_lon_range_check" CHECK ("lon" BETWEEN -180 AND 180),
    ADD CONSTRAINT "events_coordinates_pair_check" CHECK (("lat" IS NULL) = ("lon" IS NULL)),
    ADD CONSTRAINT "events_title_not_blank_check" CHECK (btrim("title") <> ''),
    ADD CONSTRAINT "events_version_positive_check" CHECK ("version" >= 1),
    ADD CONSTRAINT "events_tags_not_null_check" CHECK ("tags" IS NOT NULL AND array_position("tags", NULL) IS NULL);

-- AddCheckConstraint: actors
ALTER TABLE "actors"
    ADD CONSTRAINT "actors_country_format_check" CHECK ("country" ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT "actors_name_not_blank_check" CHECK (btrim("name") <> ''),
    ADD CONSTRAINT "actors_version_positive_check" CHECK ("version" >= 1),
    ADD CONSTRAINT "actors_aliases_not_null_check" CHECK ("aliases" IS NOT NULL AND array_position("aliases", NULL) IS NULL);

-- AddCheckConstraint: documents
ALTER TABLE "documents"
    ADD CONSTRAINT "documents_version_positive_check" CHECK ("version" >= 1);

-- AddCheckConstraint: reports (Admiralty grading: reliability A-F, credibility 1-6)
ALTER TABLE "reports"
    ADD CONSTRAINT "reports_reliability_grade_check" CHECK ("reliability" ~ '^[A-F]$'),
    ADD CONSTRAINT "reports_credibility_range_check" CHECK ("credibility" BETWEEN 1 AND 6),
    ADD CONSTRAINT "reports_stated_at_pair_check" CHECK (("stated_at" IS NULL) = ("stated_at_precision" IS NULL)),
    ADD CONSTRAINT "reports_version_positive_check" CHECK ("version" >= 1);

-- AddCheckConstraint: figures (a NULL bound passes, so the order rules apply where present)
ALTER TABLE "figures"
    ADD CONSTRAINT "figures_owner_check" CHECK (num_nonnulls("event_id", "report_id") = 1),
    ADD CONSTRAINT "figures_low_nonnegative_check" CHECK ("low" >= 0),
    ADD CONSTRAINT "figures_best_nonnegative_check" CHECK ("best" >= 0),
    ADD CONSTRAINT "figures_high_nonnegative_check" CHECK ("high" >= 0),
    ADD CONSTRAINT "figures_low_best_order_check" CHECK ("low" <= "best"),
    ADD CONSTRAINT "figures_best_high_order_check" CHECK ("best" <= "high"),
    ADD CONSTRAINT "figures_low_high_order_check" CHECK ("low" <= "high"),
    ADD CONSTRAINT "figures_position_nonnegative_check" CHECK ("position" >= 0);

-- AddCheckConstraint: report_via
ALTER TABLE "report_via"
    ADD CONSTRAINT "report_via_position_nonnegative_check" CHECK ("position" >= 0);

-- AddCheckConstraint: participants
ALTER TABLE "participants"
    ADD CONSTRAINT "participants_position_nonnegative_check" CHECK ("position" >= 0);

-- AddCheckConstraint: event_relations
ALTER TABLE "event_relations"
    ADD CONSTRAINT "event_relations_not_self_check" CHECK ("event_id" <> "related_event_id");

-- AddCheckConstraint: revisions
ALTER TABLE "revisions"
    ADD CONSTRAINT "revisions_version_positive_check" CHECK ("version" >= 1),
    ADD CONSTRAINT "revisions_changed_fields_not_null_check" CHECK ("changed_fields" IS NOT NULL);

-- SeedData: the event-type vocabulary. ACLED columns are NULL where no ACLED
-- category corresponds cleanly, and the ACLED export must then skip or flag the event.
INSERT INTO "event_types" ("code", "label", "description", "acled_event_type", "acled_sub_event_type") VALUES
    ('capture', 'Capture', 'A person is taken prisoner or detained by an armed party.', NULL, NULL),
    -- ACLED codes deaths by the violence that caused them, and a death in custody has no such category.
    ('death', 'Death', 'A death outside battle, such as in custody or after capture.', NULL, NULL),
    ('deployment', 'Deployment', 'Troops, units or equipment are sent to or stationed in a place.', 'Strategic developments', 'Other'),
    ('casualty_claim', 'Casualty claim', 'A party''s statement of its own or its enemy''s losses.', NULL, NULL),
    ('battle', 'Battle', 'An armed clash between organised armed parties.', 'Battles', 'Armed clash'),
    ('attack', 'Attack', 'An armed party attacks civilians or people not taking part in hostilities.', 'Violence against civilians', 'Attack'),
    -- ACLED would code a ground-launched missile as Shelling/artillery/missile attack, but the
    -- vocabulary does not tell the launch platform apart, so air/drone strike is the default.
    ('strike', 'Strike', 'An air, drone or missile strike on a target.', 'Explosions/Remote violence', 'Air/drone strike'),
    -- NULL: ACLED has no friendly-fire category, and the mechanism (a clash, a shelling,
    -- an air strike) decides where ACLED would put one, which this type does not record.
    ('friendly_fire', 'Friendly fire', 'A force is hit by fire from its own side or its allies.', NULL, NULL),
    -- NULL: this type records an allegation, not an established act, and exporting it as an
    -- ACLED Attack would present a claim as a coded event.
    ('atrocity_allegation', 'Atrocity allegation', 'An allegation of a grave abuse such as torture, execution or mass killing.', NULL, NULL),
    ('equipment_transfer', 'Equipment transfer', 'Weapons or military equipment are supplied from one party to another.', 'Strategic developments', 'Other'),
    ('prisoner_exchange', 'Prisoner exchange', 'Parties release prisoners to one another under an agreement.', 'Strategic developments', 'Agreement'),
    ('statement', 'Statement', 'A public statement by a party that is itself the event of note.', NULL, NULL),
    ('other', 'Other', 'An event that fits none of the other types.', NULL, NULL);

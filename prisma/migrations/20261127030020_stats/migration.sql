-- CreateTable
CREATE TABLE "event_stats" (
    "event_id" UUID NOT NULL,
    "occurred_start" DATE NOT NULL,
    "occurred_end" DATE NOT NULL,
    "type" TEXT NOT NULL,
    "status" "event_status" NOT NULL,
    "country" CHAR(3),
    "admin1" TEXT,
    "deleted_at" TIMESTAMPTZ(3),
    "reports" INTEGER NOT NULL,

    CONSTRAINT "event_stats_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "event_figure_stats" (
    "event_id" UUID NOT NULL,
    "measure" "figure_measure" NOT NULL,
    "low" BIGINT,
    "best" BIGINT,
    "high" BIGINT,

    CONSTRAINT "event_figure_stats_pkey" PRIMARY KEY ("event_id","measure")
);

-- CreateTable
CREATE TABLE "daily_event_stats" (
    "day" DATE NOT NULL,
    "type" TEXT NOT NULL,
    "events" INTEGER NOT NULL,
    "reports" INTEGER NOT NULL,

    CONSTRAINT "daily_event_stats_pkey" PRIMARY KEY ("day","type")
);

-- CreateTable
CREATE TABLE "daily_figure_stats" (
    "day" DATE NOT NULL,
    "type" TEXT NOT NULL,
    "measure" "figure_measure" NOT NULL,
    "events" INTEGER NOT NULL,
    "low" BIGINT,
    "low_n" INTEGER NOT NULL,
    "best" BIGINT,
    "best_n" INTEGER NOT NULL,
    "high" BIGINT,
    "high_n" INTEGER NOT NULL,

    CONSTRAINT "daily_figure_stats_pkey" PRIMARY KEY ("day","type","measure")
);

-- CreateIndex
CREATE INDEX "event_stats_occurred_start_type_idx" ON "event_stats"("occurred_start", "type");

-- AddForeignKey
ALTER TABLE "event_stats" ADD CONSTRAINT "event_stats_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event_figure_stats" ADD CONSTRAINT "event_figure_stats_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: the stats rows of the events already stored (writers keep them from here on)
INSERT INTO "event_stats" ("event_id", "occurred_start", "occurred_end", "type", "status", "country", "admin1", "deleted_at", "reports")
SELECT e."id", e."occurred_start", e."occurred_end", e."type", e."status", e."country", e."admin1", e."deleted_at",
       (SELECT count(*)::int FROM "reports" r WHERE r."event_id" = e."id" AND r."deleted_at" IS NULL)
FROM "events" e;

INSERT INTO "event_figure_stats" ("event_id", "measure", "low", "best", "high")
SELECT f."event_id", f."measure", sum(f."low"), sum(f."best"), sum(f."high")
FROM "figures" f WHERE f."event_id" IS NOT NULL
GROUP BY f."event_id", f."measure";

INSERT INTO "daily_event_stats" ("day", "type", "events", "reports")
SELECT s."occurred_start", s."type", count(*), sum(s."reports")
FROM "event_stats" s WHERE s."deleted_at" IS NULL
GROUP BY s."occurred_start", s."type";

INSERT INTO "daily_figure_stats" ("day", "type", "measure", "events", "low", "low_n", "best", "best_n", "high", "high_n")
SELECT s."occurred_start", s."type", g."measure", count(*), sum(g."low"), count(g."low"), sum(g."best"), count(g."best"), sum(g."high"), count(g."high")
FROM "event_stats" s JOIN "event_figure_stats" g ON g."event_id" = s."event_id"
WHERE s."deleted_at" IS NULL
GROUP BY s."occurred_start", s."type", g."measure";

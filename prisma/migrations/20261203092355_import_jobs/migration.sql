-- CreateEnum
CREATE TYPE "import_job_status" AS ENUM ('running', 'done', 'failed');

-- CreateTable
CREATE TABLE "import_jobs" (
    "id" UUID NOT NULL,
    "author" TEXT NOT NULL,
    "atomic" BOOLEAN NOT NULL,
    "status" "import_job_status" NOT NULL DEFAULT 'running',
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "lines_read" INTEGER NOT NULL DEFAULT 0,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "rejected" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "errors" JSONB NOT NULL DEFAULT '[]',
    "detail" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "import_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "import_jobs_status_heartbeat_at_idx" ON "import_jobs"("status", "heartbeat_at");

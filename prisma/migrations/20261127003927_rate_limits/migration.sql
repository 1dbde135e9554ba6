-- CreateTable
CREATE TABLE "rate_limits" (
    "key" TEXT NOT NULL,
    "window" BIGINT NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);

-- Hand-written: counts that may be lost in a crash need no write-ahead log
ALTER TABLE "rate_limits" SET UNLOGGED;

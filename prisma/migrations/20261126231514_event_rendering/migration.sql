-- AlterTable
ALTER TABLE "events" ADD COLUMN     "rendered" TEXT;

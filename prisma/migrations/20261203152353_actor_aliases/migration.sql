-- DropIndex
DROP INDEX "actors_kind_normalized_name_key";

-- AlterTable
ALTER TABLE "actors" ADD COLUMN     "merged_into" UUID;

-- CreateTable
CREATE TABLE "actor_names" (
    "kind" "actor_kind" NOT NULL,
    "normalized_name" TEXT NOT NULL,
    "actor_id" UUID NOT NULL,

    CONSTRAINT "actor_names_pkey" PRIMARY KEY ("kind","normalized_name")
);

-- CreateIndex
CREATE INDEX "actor_names_actor_id_idx" ON "actor_names"("actor_id");

-- CreateIndex
CREATE INDEX "actors_kind_normalized_name_idx" ON "actors"("kind", "normalized_name");

-- AddForeignKey
ALTER TABLE "actors" ADD CONSTRAINT "actors_merged_into_fkey" FOREIGN KEY ("merged_into") REFERENCES "actors"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "actor_names" ADD CONSTRAINT "actor_names_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "actors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: the names and aliases of the existing actors. Names first (they were unique per
-- kind already), then aliases normalised as normaliseName does it (src/modules/actors/repository.ts),
-- the oldest actor's first. An alias that names another actor of its kind already stays in that
-- actor's aliases, where `q` finds it, but finds no actor; a PATCH keeping it is refused (409),
-- naming the actor that owns it.
INSERT INTO "actor_names" ("kind", "normalized_name", "actor_id")
SELECT "kind", "normalized_name", "id" FROM "actors";

INSERT INTO "actor_names" ("kind", "normalized_name", "actor_id")
SELECT a."kind", n."key", a."id"
FROM "actors" a
CROSS JOIN LATERAL unnest(a."aliases") AS alias("text")
CROSS JOIN LATERAL (
  SELECT lower(btrim(regexp_replace(
    translate(normalize(alias."text", NFKC), E'\u2018\u2019\u201B\u2032\u201C\u201D\u201F\u2033', E'''''''''""""'),
    '\s+', ' ', 'g'))) AS "key"
) n
WHERE n."key" <> ''
ORDER BY a."created_at", a."id"
ON CONFLICT DO NOTHING;

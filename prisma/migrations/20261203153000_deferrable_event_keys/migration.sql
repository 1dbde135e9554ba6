-- Hand-written (no change to schema.prisma; Prisma cannot model deferrable keys): the keys of the
-- rows that belong to an event may be checked at the end of the transaction instead of at once.
-- They stay INITIALLY IMMEDIATE, so every write checks them as before, unless it says
-- SET CONSTRAINTS ... DEFERRED: creating events does (src/modules/events/writes.ts), to insert
-- an event's reports, participants, figures and external ids first and then the event row with
-- its derived columns (rendered JSON, CSV record, search vector, reporter and via sets, status),
-- written once instead of inserted and then updated.
ALTER TABLE "reports" ALTER CONSTRAINT "reports_event_id_fkey" DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE "participants" ALTER CONSTRAINT "participants_event_id_fkey" DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE "figures" ALTER CONSTRAINT "figures_event_id_fkey" DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE "event_external_ids" ALTER CONSTRAINT "event_external_ids_event_id_fkey" DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE "event_relations" ALTER CONSTRAINT "event_relations_event_id_fkey" DEFERRABLE INITIALLY IMMEDIATE;

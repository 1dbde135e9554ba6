-- Hand-written (no change to schema.prisma): the live change stream (GET /v1/changes/stream).
-- Every statement that inserts revisions sends NOTIFY changes with the highest seq it wrote.
-- PostgreSQL delivers it only at COMMIT, to every instance LISTENing, in commit order; the
-- instances then read the new revisions from the table once and fan them out to their streams.
-- A trigger rather than code in the writers, so every write path (bulk imports included) is
-- covered. Writers already commit one at a time under the revisions' advisory lock, so the
-- commit-time lock NOTIFY takes on its queue adds no serialisation of its own.
CREATE FUNCTION notify_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  top bigint;
BEGIN
  SELECT max(id) INTO top FROM new_revisions;
  IF top IS NOT NULL THEN
    PERFORM pg_notify('changes', top::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER revisions_notify_changes AFTER INSERT ON "revisions"
REFERENCING NEW TABLE AS new_revisions
FOR EACH STATEMENT EXECUTE FUNCTION notify_changes();

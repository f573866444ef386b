-- SQLite's 0018: the lookup indexes on fields of synced records are now declared on the
-- entities (server/records/entities.py INDEXED) and made by the engine's store
-- (ensure_indexes, run by `doorstep init` / `migrate` after the migrations). Drop those
-- 0004 and 0011 made, so the declarations are their one definition; the same names come
-- back at once.

DROP INDEX IF EXISTS records_live_patient_team;
DROP INDEX IF EXISTS records_carer_link_carer;
DROP INDEX IF EXISTS records_patient_nhs_number;

-- One live patient per NHS number is an invariant, not a lookup index, so it stays: as a
-- constraint checked at COMMIT. The engine's own check (an after_apply hook, run after the
-- version is written inside the mutation's savepoint) answers the device with a field
-- error and rolls the mutation back; an immediate unique index would fail the write
-- before that check could. Under the changelog lock the check alone already holds; the
-- constraint is the backstop if any writer ever bypassed it.
ALTER TABLE records ADD CONSTRAINT records_one_live_patient_per_nhs_number
  EXCLUDE USING btree ((data->>'nhs_number') WITH =)
  WHERE (entity = 'patient' AND NOT deleted AND data->>'nhs_number' IS NOT NULL)
  DEFERRABLE INITIALLY DEFERRED;

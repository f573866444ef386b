-- SQLite's 0018: the lookup indexes on fields of synced records are now declared on the
-- entities (server/records/entities.py INDEXED) and made by the engine's store
-- (ensure_indexes, run by `doorstep init` / `migrate` after the migrations). Drop those
-- 0004 and 0011 made, so the declarations are their one definition; the same names come
-- back at once.
--
-- One live patient per NHS number is an invariant, not a lookup index: it stays, as a
-- unique index under its own name (the declared records_patient_nhs_number serves the
-- lookups of every patient, deleted ones too).

DROP INDEX IF EXISTS records_live_patient_team;
DROP INDEX IF EXISTS records_carer_link_carer;
ALTER INDEX IF EXISTS records_patient_nhs_number RENAME TO records_live_patient_nhs_number_unique;

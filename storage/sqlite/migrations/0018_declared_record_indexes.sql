-- The indexes on fields of synced records are now declared on the entities
-- (server/entities.py INDEXED) and made by the engine's store (ensure_indexes, run by
-- `doorstep init` / `migrate` after the migrations). Drop those 0004 and 0011 made, so
-- the declarations are their one definition; the same names come back at once.

DROP INDEX IF EXISTS records_live_patient_team;
DROP INDEX IF EXISTS records_patient_nhs_number;
DROP INDEX IF EXISTS records_carer_link_carer;

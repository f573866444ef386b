-- The audit log's patient index, filled in batches rather than row by row
-- (storage/sqlite/audit.py). A pull writes one read row per patient it returned; kept by
-- an index on audit_log, each of those rows dirtied a leaf page of its own (every
-- patient's rows sit in their own part of the index), so one pull of 100 patients wrote
-- 100 pages to the WAL and fsynced them: half the CPU of an incremental pull. Filled
-- from the rows after `upto` in (patient_id, id) order, each page is written once per
-- batch. The rows after `upto` are found by id (they are the newest), so a lookup by
-- patient reads them as well and misses nothing.

CREATE TABLE audit_patient_index (
  patient_id TEXT NOT NULL,
  audit_id INTEGER NOT NULL,
  PRIMARY KEY (patient_id, audit_id)
) WITHOUT ROWID;

CREATE TABLE audit_index_mark (
  only INTEGER PRIMARY KEY CHECK (only = 1),
  upto INTEGER NOT NULL  -- every audit_log row with id <= upto and a patient is indexed
);

INSERT INTO audit_patient_index (patient_id, audit_id)
  SELECT patient_id, id FROM audit_log WHERE patient_id IS NOT NULL ORDER BY patient_id, id;
INSERT INTO audit_index_mark (only, upto) SELECT 1, coalesce(max(id), 0) FROM audit_log;
DROP INDEX audit_patient;

-- Like the log, its index only grows.
CREATE TRIGGER audit_patient_index_no_update BEFORE UPDATE ON audit_patient_index
BEGIN SELECT RAISE(ABORT, 'audit_patient_index is append-only'); END;
CREATE TRIGGER audit_patient_index_no_delete BEFORE DELETE ON audit_patient_index
BEGIN SELECT RAISE(ABORT, 'audit_patient_index is append-only'); END;

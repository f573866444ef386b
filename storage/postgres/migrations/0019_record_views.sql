-- What each audience (staff, patient, carer) sees of each record, kept on its row as the
-- wire's JSON text (SQLite's 0019; sync/store: AUDIENCES). NULL views_key: not made yet;
-- pulls redact such rows per actor until `doorstep migrate` fills them.
ALTER TABLE records
  ADD COLUMN views_key text,
  ADD COLUMN view_staff text,
  ADD COLUMN view_patient text,
  ADD COLUMN view_carer text;

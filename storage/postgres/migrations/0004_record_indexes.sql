-- Indexes on fields of synced records that access control and validation look up
-- (SQLite's 0004), and the invariant SQLite's single writer held by luck: one live
-- patient per NHS number.

CREATE INDEX records_patient_team
  ON records ((data->>'team_id')) WHERE entity = 'patient';
CREATE UNIQUE INDEX records_patient_nhs_number
  ON records ((data->>'nhs_number'))
  WHERE entity = 'patient' AND NOT deleted AND data->>'nhs_number' IS NOT NULL;
CREATE INDEX records_carer_link_carer
  ON records ((data->>'carer_user_id')) WHERE entity = 'carer_link';

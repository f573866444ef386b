-- Indexes on fields of synced records that access control and validation look up.
-- (The records table itself is the sync engine's: 0002.)

CREATE INDEX records_patient_team
  ON records (json_extract(data, '$.team_id')) WHERE entity = 'patient';
CREATE INDEX records_patient_nhs_number
  ON records (json_extract(data, '$.nhs_number')) WHERE entity = 'patient';
CREATE INDEX records_carer_link_carer
  ON records (json_extract(data, '$.carer_user_id')) WHERE entity = 'carer_link';

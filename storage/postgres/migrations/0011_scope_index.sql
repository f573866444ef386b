-- The staff scope query as one index seek per team, live patients only (SQLite's 0011).
CREATE INDEX records_live_patient_team
  ON records ((data->>'team_id')) WHERE entity = 'patient' AND NOT deleted;
DROP INDEX records_patient_team;

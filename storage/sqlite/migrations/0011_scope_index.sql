-- The staff scope query ("live patients of these teams") as one index seek per team. The
-- planner did not use 0004's team index for a list of teams and walked every patient
-- row; this one (also used by access.py's rewritten query) holds only live patients, so
-- the cost grows with the teams' caseloads, never with other teams'.

CREATE INDEX records_live_patient_team
  ON records (json_extract(data, '$.team_id')) WHERE entity = 'patient' AND deleted = 0;
DROP INDEX records_patient_team;

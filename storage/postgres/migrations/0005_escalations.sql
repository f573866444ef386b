-- Escalations (SQLite's 0005): notification schedule, scheduler findings, and the scans'
-- indexes. One open escalation per (patient, rule, source) is a unique partial index.

CREATE TABLE escalation_notifications (
  id TEXT PRIMARY KEY,
  escalation_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('opened','severity_raised','renotify')),
  severity TEXT NOT NULL,
  due_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('due','claimed','sent','failed','no_recipients','cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT,
  claimed_at TEXT,
  finished_at TEXT,
  subscriptions INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX escalation_notifications_due ON escalation_notifications(status, due_at);
CREATE INDEX escalation_notifications_escalation
  ON escalation_notifications(escalation_id, status);

CREATE TABLE escalation_findings (
  rule TEXT NOT NULL,
  source_id TEXT NOT NULL,
  marker TEXT NOT NULL,
  escalation_id TEXT NOT NULL,
  found_at TEXT NOT NULL,
  PRIMARY KEY (rule, source_id, marker)
);

CREATE INDEX records_visit_status_end
  ON records ((data->>'status'), (data->>'scheduled_end')) WHERE entity = 'visit';
CREATE INDEX records_goal_status
  ON records ((data->>'status')) WHERE entity = 'goal';
CREATE INDEX records_goal_log_live
  ON records ((data->>'goal_id'), (data->>'date'))
  WHERE entity = 'goal_log' AND NOT deleted
  AND coalesce(data->'entered_in_error', 'false'::jsonb) IN ('false'::jsonb, '0'::jsonb,
    'null'::jsonb);
CREATE INDEX records_escalation_rule
  ON records (patient_id, (data->>'rule')) WHERE entity = 'escalation';
CREATE UNIQUE INDEX records_open_escalation
  ON records (patient_id, (data->>'rule'), (data->>'source_id'))
  WHERE entity = 'escalation' AND NOT deleted AND data->>'status' = 'open';

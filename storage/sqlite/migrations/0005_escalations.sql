-- Escalations (SPEC §5): when to notify, and which scheduler findings were already raised.
-- The escalations themselves are synced records (entity 'escalation' in records).
-- Times are ISO 8601 UTC text with offset, fixed width, so text comparison orders them.

-- One row per notification an escalation needs: the first notice when it opens, a new
-- notice when an occurrence raises its severity, and each re-notification while it is
-- unacknowledged. Rows are written in the same transaction as the escalation, and sent
-- only after that transaction commits (never under the database write lock). A sender
-- owns a row only if its UPDATE moved it from 'due' to 'claimed', so two schedulers (or a
-- web worker and a scheduler) never both send one.
CREATE TABLE escalation_notifications (
  id TEXT PRIMARY KEY,
  escalation_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('opened','severity_raised','renotify')),
  severity TEXT NOT NULL,            -- severity when scheduled (the send uses the current one)
  due_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('due','claimed','sent','failed','no_recipients','cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT,                   -- sender instance, for diagnosis
  claimed_at TEXT,
  finished_at TEXT,
  subscriptions INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX escalation_notifications_due ON escalation_notifications(status, due_at);
CREATE INDEX escalation_notifications_escalation
  ON escalation_notifications(escalation_id, status);

-- Conditions the scheduler found (a visit still scheduled after its end, a goal not
-- logged): one row per rule, source and marker (the visit's scheduled_end, the goal's
-- last log date). The UNIQUE key is the claim that makes each finding raise once, also
-- with two schedulers; a changed marker (visit rescheduled, goal logged again) is a new
-- finding.
CREATE TABLE escalation_findings (
  rule TEXT NOT NULL,
  source_id TEXT NOT NULL,
  marker TEXT NOT NULL,
  escalation_id TEXT NOT NULL,
  found_at TEXT NOT NULL,
  PRIMARY KEY (rule, source_id, marker)
);

-- The scheduler's scans: visits by status and end; active goals, each with its latest
-- live log found by one seek (the partial index holds only live, non-voided logs).
CREATE INDEX records_visit_status_end
  ON records (json_extract(data, '$.status'), json_extract(data, '$.scheduled_end'))
  WHERE entity = 'visit';
CREATE INDEX records_goal_status
  ON records (json_extract(data, '$.status')) WHERE entity = 'goal';
CREATE INDEX records_goal_log_live
  ON records (json_extract(data, '$.goal_id'), json_extract(data, '$.date'))
  WHERE entity = 'goal_log' AND deleted = 0
  AND coalesce(json_extract(data, '$.entered_in_error'), 0) = 0;
-- Finding a patient's open escalation of a rule (deduplication).
CREATE INDEX records_escalation_rule
  ON records (patient_id, json_extract(data, '$.rule')) WHERE entity = 'escalation';

-- Web Push: subscriptions, the delivery log, and reminder occurrences (SPEC §6).
-- Times are ISO 8601 UTC text with offset, fixed width, so text comparison orders them.

-- One browser push subscription per device. The endpoint is a capability URL handed out
-- by the browser's push service: unique, and re-subscribing the same endpoint updates
-- the row (it may move to another user when a shared tablet changes hands).
CREATE TABLE push_subscriptions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL UNIQUE REFERENCES devices(client_id) ON DELETE CASCADE,
  endpoint TEXT NOT NULL UNIQUE,
  p256dh TEXT NOT NULL,          -- browser's P-256 public key, base64url
  auth TEXT NOT NULL,            -- 16-byte auth secret, base64url
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_attempt_at TEXT,
  last_http_status INTEGER,
  last_success_at TEXT
);
CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);

-- One row per notification per subscription. Kept after a subscription is deleted
-- (404/410), so subscription_id is deliberately not a foreign key.
CREATE TABLE push_deliveries (
  id INTEGER PRIMARY KEY,
  notification_type TEXT NOT NULL,   -- reminder | escalation | test
  notification_id TEXT NOT NULL,     -- reminder occurrence id, escalation id, ...
  subscription_id TEXT NOT NULL,
  user_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('delivered','gone','rejected','failed')),
  http_status INTEGER,               -- last answer from the push service; NULL = no answer
  attempts INTEGER NOT NULL,
  error TEXT,                        -- short machine reason, never an identifier
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL
);
CREATE INDEX push_deliveries_notification ON push_deliveries(notification_type, notification_id);
CREATE INDEX push_deliveries_finished ON push_deliveries(finished_at);

-- One row per reminder per local date. The UNIQUE key is the claim: a scheduler owns an
-- occurrence only if its INSERT created the row, so two schedulers never both send it.
CREATE TABLE reminder_occurrences (
  id TEXT PRIMARY KEY,               -- uuid5(reminder id, local date): the payload's id
  reminder_id TEXT NOT NULL,
  local_date TEXT NOT NULL,          -- YYYY-MM-DD in the reminder's time zone
  due_at TEXT NOT NULL,              -- the UTC instant it was due
  status TEXT NOT NULL CHECK (status IN
    ('claimed','sent','failed','no_subscribers','missed','skipped','abandoned')),
  claimed_by TEXT NOT NULL,          -- scheduler instance, for diagnosis
  claimed_at TEXT NOT NULL,
  finished_at TEXT,
  subscriptions INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  UNIQUE (reminder_id, local_date)
);
CREATE INDEX reminder_occurrences_date ON reminder_occurrences(local_date);
CREATE INDEX reminder_occurrences_claimed ON reminder_occurrences(status, claimed_at);

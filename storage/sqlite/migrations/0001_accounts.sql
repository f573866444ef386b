-- Accounts, teams, devices, tokens, login throttling, enrolment invites and the audit log.
-- Times are ISO 8601 UTC text ("2026-11-24T09:00:00.000000+00:00"), which sorts correctly.

CREATE TABLE teams (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('nurse','coordinator','patient','carer','admin')),
  display_name TEXT NOT NULL,
  patient_id TEXT,            -- for role 'patient': the patient record this account is
  active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL
);

CREATE TABLE team_members (
  team_id TEXT NOT NULL REFERENCES teams(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

CREATE TABLE devices (
  client_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT,
  revoked_reason TEXT
);
CREATE INDEX devices_user ON devices(user_id);

-- Opaque random tokens; only their SHA-256 is stored.
CREATE TABLE tokens (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('access','refresh')),
  client_id TEXT NOT NULL REFERENCES devices(client_id),
  user_id TEXT NOT NULL REFERENCES users(id),
  expires_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  -- a rotated refresh token is kept (dead) so its reuse can be detected
  dead_at TEXT,
  dead_reason TEXT              -- rotated | logout | revoked
);
CREATE INDEX tokens_client ON tokens(client_id);

-- One row per failed login; the throttle counts rows in the window, so it holds across
-- every worker process sharing the database.
CREATE TABLE login_failures (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL COLLATE NOCASE,
  address TEXT NOT NULL,
  failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(username, address, failed_at);

CREATE TABLE invites (
  code_hash TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('patient','carer')),
  relationship TEXT,
  consent_basis TEXT,
  created_by TEXT NOT NULL REFERENCES users(id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT,
  used_by TEXT
);

-- Append-only: triggers refuse UPDATE and DELETE.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  user_id TEXT,
  role TEXT,
  client_id TEXT,
  action TEXT NOT NULL,          -- read | create | update | delete | login | ...
  entity TEXT,
  record_id TEXT,
  patient_id TEXT,
  detail TEXT                    -- JSON, never clinical free text
);
CREATE INDEX audit_patient ON audit_log(patient_id, id);
CREATE INDEX audit_user ON audit_log(user_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

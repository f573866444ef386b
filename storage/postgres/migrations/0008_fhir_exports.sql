-- FHIR Bulk Data exports (SQLite's 0008).
CREATE TABLE fhir_exports (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  team_id TEXT,
  types JSONB NOT NULL,
  since TEXT,
  request_url TEXT NOT NULL,
  base_url TEXT NOT NULL,
  canonical_base TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('queued','running','done','failed','cancelled','expired')),
  transaction_time TEXT,
  progress TEXT,
  claimed_by TEXT,
  heartbeat_at TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX fhir_exports_user_status ON fhir_exports (user_id, status);
CREATE INDEX fhir_exports_status_finished ON fhir_exports (status, finished_at);

CREATE TABLE fhir_export_outputs (
  export_id TEXT NOT NULL REFERENCES fhir_exports (id) ON DELETE CASCADE,
  resource_type TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (export_id, resource_type)
);

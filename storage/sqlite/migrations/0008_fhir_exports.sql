-- FHIR Bulk Data exports (SPEC §10, docs/fhir.md): one row per requested export.
-- A worker (a thread of the web process that took the kick-off, or of any process that
-- answers a status poll once the worker's heartbeat is stale) owns a job only if its
-- UPDATE moved it to 'running' under its own claimed_by, so two processes never both
-- run one. Times are ISO 8601 UTC text with offset, fixed width, so text compares.
CREATE TABLE fhir_exports (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,             -- the coordinator who asked; only they may read it
  client_id TEXT NOT NULL,
  team_id TEXT,                      -- Group/{team_id}/$export; NULL = all their teams
  types TEXT NOT NULL,               -- JSON list of FHIR resource types
  since TEXT,                        -- _since as server time text; NULL = everything
  request_url TEXT NOT NULL,
  base_url TEXT NOT NULL,            -- FHIR base URL for references and output links
  canonical_base TEXT NOT NULL,      -- base of Doorstep's code systems and Questionnaire
  status TEXT NOT NULL CHECK (status IN
    ('queued','running','done','failed','cancelled','expired')),
  transaction_time TEXT,             -- set when the snapshot is taken (the next _since)
  progress TEXT,
  claimed_by TEXT,
  heartbeat_at TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX fhir_exports_user_status ON fhir_exports (user_id, status);
CREATE INDEX fhir_exports_status_finished ON fhir_exports (status, finished_at);

-- One NDJSON file per resource type of a finished export, under
-- <INSTANCE>/fhir-exports/<export id>/<type>.ndjson.
CREATE TABLE fhir_export_outputs (
  export_id TEXT NOT NULL REFERENCES fhir_exports (id) ON DELETE CASCADE,
  resource_type TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (export_id, resource_type)
);

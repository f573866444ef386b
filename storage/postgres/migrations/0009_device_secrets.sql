-- Per-device secrets for the PWA's encryption at rest (SQLite's 0009). Every revocation
-- destroys the secret, whatever code path set revoked_at.
CREATE TABLE device_secrets (
  client_id TEXT PRIMARY KEY REFERENCES devices(client_id) ON DELETE CASCADE,
  secret BYTEA NOT NULL,
  created_at TEXT NOT NULL,
  released_at TEXT
);

CREATE FUNCTION destroy_revoked_device_secret() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM device_secrets WHERE client_id = NEW.client_id;
  RETURN NULL;
END $$;

CREATE TRIGGER device_secrets_destroy_on_revoke
  AFTER UPDATE OF revoked_at ON devices
  FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION destroy_revoked_device_secret();

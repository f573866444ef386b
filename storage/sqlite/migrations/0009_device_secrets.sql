-- Per-device secrets for the PWA's encryption at rest (issue 15, docs/security.md).
-- The PWA's data key is wrapped with a key derived from this secret; the server hands it
-- only to the signed-in, unrevoked device it belongs to. Destroying the row is the
-- crypto-wipe: without it the device's encrypted store cannot be opened by an online
-- sign-in, and a PIN unlock needs the device's time-limited cached copy.
CREATE TABLE device_secrets (
  client_id TEXT PRIMARY KEY REFERENCES devices(client_id) ON DELETE CASCADE,
  secret BLOB NOT NULL,              -- 32 random bytes
  created_at TEXT NOT NULL,
  released_at TEXT                   -- last time it was handed to the device
);

-- Every revocation (by a person, or by refresh-token reuse) destroys the secret, whatever
-- code path set revoked_at.
CREATE TRIGGER device_secrets_destroy_on_revoke
AFTER UPDATE OF revoked_at ON devices
WHEN NEW.revoked_at IS NOT NULL
BEGIN
  DELETE FROM device_secrets WHERE client_id = NEW.client_id;
END;

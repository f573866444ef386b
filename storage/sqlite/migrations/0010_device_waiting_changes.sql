-- What each device last said it still has to send (issue 14: unsent work is visible
-- before it can be lost). The app reports after every sync; co-ordinators see it on the
-- Devices screen before they revoke a device (revoking wipes what it has not sent).
ALTER TABLE devices ADD COLUMN waiting_changes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN oldest_waiting_at TEXT;   -- client time of the oldest one
ALTER TABLE devices ADD COLUMN waiting_reported_at TEXT; -- server time of the report

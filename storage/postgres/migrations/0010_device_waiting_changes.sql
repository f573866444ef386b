-- What each device last said it still has to send (SQLite's 0010).
ALTER TABLE devices ADD COLUMN waiting_changes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN oldest_waiting_at TEXT;
ALTER TABLE devices ADD COLUMN waiting_reported_at TEXT;

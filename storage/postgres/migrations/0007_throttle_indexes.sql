-- Login throttle per address and the quarantine cap per user (SQLite's 0007).
CREATE INDEX login_failures_address ON login_failures(address, failed_at);
CREATE INDEX sync_quarantine_user ON sync_quarantine(user_id, at);

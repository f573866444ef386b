-- The login throttle also counts failures per address across usernames, and the
-- quarantine cap sums what one user had quarantined in the last 24 hours: both are
-- index range scans, not table scans an attacker could make long.
CREATE INDEX login_failures_address ON login_failures(address, failed_at);
CREATE INDEX sync_quarantine_user ON sync_quarantine(user_id, at);

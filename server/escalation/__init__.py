"""Escalation rules (change -> findings) and raising them; the scheduler's scans."""

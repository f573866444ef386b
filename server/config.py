"""Configuration: one documented table of defaults, overridden by the environment.

Every key in ``DEFAULTS`` has a one-line comment and a row in docs/configuration.md
(a test keeps the two in step). An environment variable ``DOORSTEP_<KEY>`` overrides a
key; values are parsed as the default's type.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Folder holding the database, VAPID keys and other instance secrets.
    "INSTANCE": "instance",
    # SQLite database file; defaults to <INSTANCE>/doorstep.db when empty.
    "DB": "",
    # Database URL: sqlite:////abs/path.db, or postgresql://… (refused at start until
    # the PostgreSQL backend lands). Empty: the SQLite file DB.
    "DATABASE_URL": "",
    # Minutes an access token is valid.
    "ACCESS_TOKEN_MINUTES": 15,
    # Days a refresh token is valid (each use rotates it).
    "REFRESH_TOKEN_DAYS": 30,
    # Seconds a just-rotated refresh token still answers the same new pair (lost answers).
    "REFRESH_GRACE_SECONDS": 60,
    # Failed logins allowed per username and address within the throttle window.
    "LOGIN_MAX_FAILURES": 5,
    # Failed logins allowed per address (any usernames) within the throttle window.
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 30,
    # Length of the login throttle window, in minutes.
    "LOGIN_WINDOW_MINUTES": 15,
    # argon2id time cost (iterations) for new password hashes.
    "PASSWORD_HASH_TIME_COST": 3,
    # argon2id memory cost in KiB for new password hashes (64 MiB).
    "PASSWORD_HASH_MEMORY_KIB": 65536,
    # Minimum password length for staff accounts (nurse, coordinator, admin), spaces not counted.
    "STAFF_PASSWORD_MIN_LENGTH": 10,
    # Minimum password length for patient and carer accounts, spaces not counted.
    "PUBLIC_PASSWORD_MIN_LENGTH": 8,
    # Days an enrolment invite code stays valid.
    "INVITE_DAYS": 7,
    # Write the access log (address, method, route, status, bytes, seconds) to standard
    # output; `doorstep serve` turns it on unless this is set.
    "ACCESS_LOG": False,
    # Trust X-Forwarded-For from this many proxies in front of the app (0 = none).
    "PROXY_COUNT": 0,
    # JSON object overriding falls stratification thresholds, e.g. {"tug_seconds": 13.5}.
    "FALLS_THRESHOLDS": "",
    # Contact for push services (VAPID "sub"): mailto:… or https://…
    "VAPID_SUBJECT": "mailto:doorstep-admin@example.org",
    # Seconds a push service keeps an undelivered reminder (4 h).
    "PUSH_TTL_REMINDER": 4 * 3600,
    # Seconds a push service keeps an undelivered escalation (24 h).
    "PUSH_TTL_ESCALATION": 24 * 3600,
    # Tries per notification and subscription for 429, 5xx and network errors.
    "PUSH_MAX_TRIES": 5,
    # First back-off wait in seconds (doubles each retry) when no Retry-After is given.
    "PUSH_BACKOFF_SECONDS": 1.0,
    # A Retry-After longer than this ends the round instead of blocking a worker.
    "PUSH_MAX_RETRY_WAIT_SECONDS": 300.0,
    # Seconds to wait for a push service to answer.
    "PUSH_TIMEOUT_SECONDS": 10.0,
    # Concurrent sends during a fan-out.
    "PUSH_POOL_SIZE": 32,
    # Push service hosts subscriptions may point at (comma-separated; ".x" = subdomains).
    "PUSH_ENDPOINT_HOSTS": (
        "fcm.googleapis.com,android.googleapis.com,updates.push.services.mozilla.com,"
        ".notify.windows.com,.push.apple.com"
    ),
    # Allow http://127.0.0.1 push endpoints (test rigs only).
    "PUSH_ALLOW_LOOPBACK_HTTP": False,
    # Days delivery-log rows are kept.
    "PUSH_LOG_RETENTION_DAYS": 90,
    # A reminder occurrence found later than this is recorded as missed, not sent.
    "REMINDER_MISSED_AFTER_MINUTES": 30,
    # How far back the scheduler looks for occurrences it has not yet handled.
    "REMINDER_LOOKBACK_HOURS": 24,
    # Minutes a claimed occurrence stays claimed before it is recorded abandoned (never resent).
    "REMINDER_CLAIM_LEASE_MINUTES": 30,
    # Time zone for reminders that do not name one.
    "REMINDER_DEFAULT_TIMEZONE": "Europe/London",
    # Hours after a visit's scheduled_end that a still-scheduled visit is escalated as missed.
    "ESCALATION_MISSED_VISIT_HOURS": 2,
    # Days the missed-visit scan looks back (older never-updated visits are not escalated).
    "ESCALATION_MISSED_VISIT_LOOKBACK_DAYS": 7,
    # Days an active goal may go without a log before it is escalated.
    "ESCALATION_GOAL_NOT_LOGGED_DAYS": 7,
    # Hours after a visit ended that its arrival at the server counts as a late sync.
    "ESCALATION_LATE_SYNC_HOURS": 24,
    # PAM level at or below which an activation score is escalated.
    "ESCALATION_ACTIVATION_LOW_LEVEL": 1,
    # Fall in PAM level from the previous score that is escalated.
    "ESCALATION_ACTIVATION_DROP_LEVELS": 1,
    # Minutes after notifying that an unacknowledged urgent escalation is notified again.
    "ESCALATION_RENOTIFY_URGENT_MINUTES": 30,
    # Minutes between re-notifications of an unacknowledged emergency escalation.
    "ESCALATION_RENOTIFY_EMERGENCY_MINUTES": 10,
    # How many times an unacknowledged emergency escalation is notified again.
    "ESCALATION_RENOTIFY_EMERGENCY_TIMES": 3,
    # Hours after notifying that an unacknowledged routine escalation is notified again.
    "ESCALATION_RENOTIFY_ROUTINE_HOURS": 24,
    # Tries per escalation notification when no subscription accepts it (one per tick).
    "ESCALATION_SEND_ATTEMPTS": 3,
    # Minutes a claimed notification stays with its sender; then it is sent again.
    "ESCALATION_CLAIM_LEASE_MINUTES": 30,
    # Seconds between scheduler ticks.
    "SCHEDULER_INTERVAL_SECONDS": 30,
    # Quarantined pushes (raw text kept for review) one user may add per 24 hours; then 429.
    "QUARANTINE_MAX_ENTRIES_PER_USER_DAY": 1000,
    # Bytes of quarantined raw text one user may add per 24 hours (20 MiB); then 429.
    "QUARANTINE_MAX_BYTES_PER_USER_DAY": 20 * 1024 * 1024,
    # Folder of the built PWA served at "/"; defaults to pwa/dist in the source tree.
    "PWA_DIST": "",
    # Device lock (docs/security.md), sent to the PWA with its device secret:
    # hours a device may unlock with its PIN alone after its last online check.
    "DEVICE_OFFLINE_UNLOCK_HOURS": 24.0,
    # Minutes without a touch or key press before a staff device locks.
    "STAFF_IDLE_LOCK_MINUTES": 5.0,
    # Minutes without a touch before a patient's or carer's device locks (if they set a PIN).
    "PEOPLE_IDLE_LOCK_MINUTES": 15.0,
    # Seconds the app may be hidden (tablet asleep, other app in front) before it locks.
    "HIDDEN_LOCK_SECONDS": 60.0,
    # Base URL of Doorstep's FHIR code systems and Questionnaire; empty = this server's.
    "FHIR_CANONICAL_BASE": "",
    # UK Core NHS number verification status code sent with every NHS number ("" = none).
    "FHIR_NHS_NUMBER_VERIFICATION": "02",
    # Hours a finished FHIR bulk export's files are kept.
    "FHIR_EXPORT_RETENTION_HOURS": 24,
    # Minutes without progress after which another process may take over an export.
    "FHIR_EXPORT_LEASE_MINUTES": 10,
}

ENV_PREFIX = "DOORSTEP_"


def _parse(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def load(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """DEFAULTS overridden by ``DOORSTEP_*`` environment variables (paths unresolved)."""
    environ = dict(os.environ if environ is None else environ)
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = environ.get(ENV_PREFIX + key)
        if raw is not None:
            try:
                config[key] = _parse(raw, default)
            except ValueError as exc:
                raise SystemExit(f"{ENV_PREFIX}{key}: {exc}") from exc
    return config


def resolve_paths(config: dict[str, Any]) -> dict[str, Any]:
    """Absolute paths; the database defaults to <INSTANCE>/doorstep.db."""
    instance = Path(config["INSTANCE"]).resolve()
    config["INSTANCE"] = str(instance)
    database = Path(config["DB"]).resolve() if config["DB"] else instance / "doorstep.db"
    config["DB"] = str(database)
    if not config["PWA_DIST"]:
        config["PWA_DIST"] = str(Path(__file__).resolve().parents[1] / "pwa" / "dist")
    return config

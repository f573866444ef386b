"""Which devices a user may see and revoke (SPEC §3.1).

Own devices always; a coordinator those of users in their teams; an admin all. Each
device has a secret (its half of the PWA's key wrapping) that only the device itself
may fetch and that revocation destroys.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Mapping
from typing import Any

from server.clock import iso, utcnow
from sync.registry import Actor

_SELECT = (
    "SELECT d.client_id, d.user_id, u.username, d.name, d.created_at, d.last_seen_at,"
    " d.revoked_at, d.waiting_changes, d.oldest_waiting_at, d.waiting_reported_at"
    " FROM devices d JOIN users u ON u.id = d.user_id"
)
_TEAM_USERS = (
    "SELECT m.user_id FROM team_members m WHERE m.team_id IN"
    " (SELECT team_id FROM team_members WHERE user_id = ?)"
)


def manageable(conn: sqlite3.Connection, actor: Actor) -> list[dict[str, Any]]:
    if actor.role == "admin":
        rows = conn.execute(f"{_SELECT} ORDER BY u.username, d.created_at")
    elif actor.role == "coordinator":
        rows = conn.execute(
            f"{_SELECT} WHERE d.user_id = ? OR d.user_id IN ({_TEAM_USERS})"
            " ORDER BY u.username, d.created_at",
            (actor.user_id, actor.user_id),
        )
    else:
        rows = conn.execute(
            f"{_SELECT} WHERE d.user_id = ? ORDER BY d.created_at", (actor.user_id,)
        )
    return [dict(row) for row in rows]


def report_waiting(conn: sqlite3.Connection, client_id: str, waiting: int,
                   oldest_at: str | None, now: str) -> None:
    """Store what the signed-in device says it has not sent yet (its outbox)."""
    conn.execute(
        "UPDATE devices SET waiting_changes = ?, oldest_waiting_at = ?,"
        " waiting_reported_at = ? WHERE client_id = ?",
        (waiting, oldest_at if waiting else None, now, client_id),
    )


def download_size(conn: sqlite3.Connection, patient_ids: frozenset[str]) -> int:
    """About how many records a first sync of these patients brings (live records; a
    role that sees fewer of each patient's records gets fewer): for its progress line."""
    row = conn.execute(
        "SELECT count(*) FROM records WHERE deleted = 0"
        " AND patient_id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(patient_ids)),),
    ).fetchone()
    return int(row[0])


def may_revoke(conn: sqlite3.Connection, actor: Actor, client_id: str) -> bool:
    return any(d["client_id"] == client_id for d in manageable(conn, actor))


# -- the device secret (encryption at rest in the PWA, docs/security.md) ---------------


def release_secret(conn: sqlite3.Connection, actor: Actor, client_id: str) -> bytes | None:
    """The calling device's own secret, made on first request; None for any other device.

    The caller is already a signed-in, unrevoked device (a revoked one answers 401 before
    this runs) and revocation deletes the secret (migration 0009's trigger), so a secret
    is never made again for a revoked client_id. Call inside a write transaction.
    """
    if client_id != actor.client_id:
        return None
    now = iso(utcnow())
    row = conn.execute(
        "SELECT secret FROM device_secrets WHERE client_id = ?", (client_id,)
    ).fetchone()
    if row is None:
        secret = secrets.token_bytes(32)
        conn.execute(
            "INSERT INTO device_secrets (client_id, secret, created_at, released_at)"
            " VALUES (?, ?, ?, ?)",
            (client_id, secret, now, now),
        )
        return secret
    conn.execute(
        "UPDATE device_secrets SET released_at = ? WHERE client_id = ?", (now, client_id)
    )
    return bytes(row["secret"])


def lock_policy(config: Mapping[str, Any], role: str) -> dict[str, float]:
    """How the PWA locks for this role (sent with the secret, so one config rules it)."""
    staff = role in ("nurse", "coordinator", "admin")
    idle = config["STAFF_IDLE_LOCK_MINUTES"] if staff else config["PEOPLE_IDLE_LOCK_MINUTES"]
    return {
        "offline_unlock_seconds": float(config["DEVICE_OFFLINE_UNLOCK_HOURS"]) * 3600,
        "idle_lock_seconds": float(idle) * 60,
        "hidden_lock_seconds": float(config["HIDDEN_LOCK_SECONDS"]),
    }

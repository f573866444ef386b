"""The append-only audit log of every read and write of patient data (SPEC §1, §7).

Rows are never updated or deleted (triggers refuse it). ``detail`` is small JSON of
machine values (fields changed, counts) — never clinical free text or identifiers
beyond the record and patient ids.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from server.clock import iso, utcnow
from sync.registry import Actor


def record(
    conn: sqlite3.Connection,
    actor: Actor | None,
    action: str,
    *,
    entity: str | None = None,
    record_id: str | None = None,
    patient_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, user_id, role, client_id, action, entity, record_id,"
        " patient_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            iso(utcnow()),
            actor.user_id if actor else None,
            actor.role if actor else None,
            actor.client_id if actor else None,
            action,
            entity,
            record_id,
            patient_id,
            json.dumps(detail, sort_keys=True) if detail else None,
        ),
    )


def record_patient_reads(
    conn: sqlite3.Connection,
    actor: Actor,
    patient_ids: Iterable[str],
    *,
    via: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """One 'read' row per patient whose data was returned (not one per record)."""
    now = iso(utcnow())
    payload = json.dumps({"via": via, **(detail or {})}, sort_keys=True)
    conn.executemany(
        "INSERT INTO audit_log (at, user_id, role, client_id, action, patient_id, detail)"
        " VALUES (?, ?, ?, ?, 'read', ?, ?)",
        [
            (now, actor.user_id, actor.role, actor.client_id, pid, payload)
            for pid in sorted(set(patient_ids))
        ],
    )


def entries(
    conn: sqlite3.Connection,
    *,
    patient_id: str | None = None,
    user_id: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first; page with ``before_id``."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("patient_id", patient_id), ("user_id", user_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if before_id is not None:
        clauses.append("id < ?")
        params.append(before_id)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ?", (*params, limit)
    ).fetchall()
    result = []
    for row in rows:
        item = dict(row)
        item["detail"] = json.loads(item["detail"]) if item["detail"] else None
        result.append(item)
    return result

"""The server's door to the sync engine: the app's registry and a store per request.

Views call these helpers rather than building stores themselves, so the storage
backend is chosen in one place (PostgreSQL will plug in here).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from flask import Flask, current_app

from server.clock import utcnow
from server.db import get_db
from server.entities import build_registry
from sync import SYSTEM, Mutation, SqliteStore, apply_mutation
from sync.registry import Actor, Registry


def init_app(app: Flask) -> None:
    raw = app.config["FALLS_THRESHOLDS"]
    overrides = json.loads(raw) if isinstance(raw, str) and raw else (raw or None)
    app.extensions["doorstep.registry"] = build_registry(overrides)


def registry() -> Registry:
    found: Registry = current_app.extensions["doorstep.registry"]
    return found


def store(conn: sqlite3.Connection | None = None) -> SqliteStore:
    return SqliteStore(conn if conn is not None else get_db(), clock=utcnow)


def write_as_system(
    conn: sqlite3.Connection, origin: Actor, entity: str, fields: dict[str, Any],
    record_id: str | None = None, op: str = "create",
) -> str:
    """A server-made change (enrolment's carer link, demo data) inside the caller's tx."""
    record_id = record_id or str(uuid.uuid4())
    apply_mutation(
        store(conn), registry(), SYSTEM,
        Mutation(entity=entity, id=record_id, op=op, fields=fields, base_version=None),
        origin=origin,
    )
    return record_id


def create_carer_link(
    conn: sqlite3.Connection, origin: Actor, *, patient_id: str, carer_user_id: str,
    relationship: str, consent_basis: str,
) -> str:
    return write_as_system(conn, origin, "carer_link", {
        "patient_id": patient_id, "carer_user_id": carer_user_id,
        "relationship": relationship, "consent_basis": consent_basis, "active": True,
    })

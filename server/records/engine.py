"""The server's door to the sync engine: the app's registry, and server-made changes.

Views take the engine's store from ``database.sync_store()`` (pull, push: the engine
opens its own units of work) or ``uow.store`` inside a unit of work they opened.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask, current_app

from server.records.entities import build_registry
from storage import UnitOfWork
from sync import SYSTEM, Mutation, apply_mutation
from sync.registry import Actor, Registry


def init_app(app: Flask) -> None:
    raw = app.config["FALLS_THRESHOLDS"]
    overrides = json.loads(raw) if isinstance(raw, str) and raw else (raw or None)
    app.extensions["doorstep.registry"] = build_registry(overrides)


def registry() -> Registry:
    found: Registry = current_app.extensions["doorstep.registry"]
    return found


def write_as_system(
    uow: UnitOfWork, origin: Actor, entity: str, fields: dict[str, Any],
    record_id: str | None = None, op: str = "create",
) -> str:
    """A server-made change (enrolment's carer link, demo data) in the caller's unit."""
    record_id = record_id or str(uuid.uuid4())
    apply_mutation(
        uow.store, registry(), SYSTEM,
        Mutation(entity=entity, id=record_id, op=op, fields=fields, base_version=None),
        origin=origin,
    )
    return record_id


def create_carer_link(
    uow: UnitOfWork, origin: Actor, *, patient_id: str, carer_user_id: str,
    relationship: str, consent_basis: str,
) -> str:
    return write_as_system(uow, origin, "carer_link", {
        "patient_id": patient_id, "carer_user_id": carer_user_id,
        "relationship": relationship, "consent_basis": consent_basis, "active": True,
    })

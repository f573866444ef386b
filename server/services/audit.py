"""The append-only audit log of every read and write of patient data (SPEC §1, §7).

Rows are never updated or deleted (storage/audit.py). ``detail`` is small JSON of
machine values (fields changed, counts) — never clinical free text or identifiers
beyond the record and patient ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app

from server import database
from server.clock import iso, utcnow
from server.services.audit_group import GroupCommit
from storage import UnitOfWork
from storage.audit import AuditEntry
from sync.registry import Actor


def _entry(actor: Actor | None, action: str, at: str, **about: Any) -> AuditEntry:
    return AuditEntry(at=at, action=action, user_id=actor.user_id if actor else None,
                      role=actor.role if actor else None,
                      client_id=actor.client_id if actor else None, **about)


def record(
    uow: UnitOfWork,
    actor: Actor | None,
    action: str,
    *,
    entity: str | None = None,
    record_id: str | None = None,
    patient_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    uow.audit.append([_entry(actor, action, iso(utcnow()), entity=entity,
                                      record_id=record_id, patient_id=patient_id,
                                      detail=detail)])


def _patient_reads(
    actor: Actor, patient_ids: Iterable[str], via: str, detail: dict[str, Any] | None
) -> tuple[AuditEntry, list[str]]:
    """One 'read' row per patient whose data was returned (not one per record): the row
    they share, and the patients in order."""
    entry = _entry(actor, "read", iso(utcnow()), detail={"via": via, **(detail or {})})
    return entry, sorted(set(patient_ids))


def record_patient_reads(
    uow: UnitOfWork,
    actor: Actor,
    patient_ids: Iterable[str],
    *,
    via: str,
    detail: dict[str, Any] | None = None,
) -> None:
    uow.audit.append_each_patient(*_patient_reads(actor, patient_ids, via, detail))


def record_pull_reads(actor: Actor, patient_ids: Iterable[str], *, records: int) -> None:
    """A pull's read rows, committed before it answers, in one transaction with those of
    the pulls running beside it in this process (server/services/audit_group.py)."""
    entry, ids = _patient_reads(actor, patient_ids, "pull", {"records": records})
    group: GroupCommit = current_app.extensions["doorstep.audit_group"]
    group.commit(lambda uow: uow.audit.append_each_patient(entry, ids))


def init_app(app: Flask) -> None:
    app.extensions["doorstep.audit_group"] = GroupCommit(database.storage(app).write)


def entries(
    uow: UnitOfWork,
    *,
    patient_id: str | None = None,
    user_id: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first; page with ``before_id``."""
    return uow.audit.entries(patient_id=patient_id, user_id=user_id,
                                      before_id=before_id, limit=limit)

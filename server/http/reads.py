"""Shared helpers for read-only REST resources (SPEC §3.5): scoped, redacted, paged,
audited with one row per patient returned."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marshmallow import Schema, fields, validate

from server import database
from server.records import engine as records
from server.services import audit, auth
from sync import list_records


def page_query() -> type[Schema]:
    """Query schema for paging by id: ``after`` (from ``next_after``) and ``limit``."""

    class PageQuery(Schema):
        after = fields.String()
        limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))

    return PageQuery


def audit_reads(patient_ids: Iterable[str], via: str) -> None:
    ids = set(patient_ids)
    if not ids:
        return
    with database.write() as uow:
        audit.record_patient_reads(uow, auth.current_actor(), ids, via=via)


def list_entity(
    entity: str,
    query: dict[str, Any],
    *,
    filters: tuple[str, ...] = (),
    patient_ids: Iterable[str] | None = None,
) -> dict[str, Any]:
    """One page of an entity's records the caller may see, as wire records.

    With ``patient_ids`` (a per-patient resource, already scope-checked) those patients
    are audited even when the page is empty: an empty list still tells about them.
    """
    where = {name: query[name] for name in filters if name in query}
    with database.read() as uow:
        page = list_records(
            uow.store, records.registry(), auth.current_actor(), entity,
            patient_ids=patient_ids if patient_ids is None else list(patient_ids),
            where=where, after=query.get("after"), limit=query.get("limit", 100),
        )
    audit_reads(set(page.patient_ids) | set(patient_ids or ()), via=f"rest:{entity}")
    return {"items": [item.to_wire() for item in page.items], "next_after": page.next_after}


def all_of_patient(entity: str, patient_id: str) -> list[dict[str, Any]]:
    """Every record of one entity for one patient (the caller audits)."""
    items: list[dict[str, Any]] = []
    after = None
    with database.read() as uow:
        while True:
            page = list_records(uow.store, records.registry(), auth.current_actor(), entity,
                                patient_ids=[patient_id], after=after, limit=500)
            items.extend(item.to_wire() for item in page.items)
            if page.next_after is None:
                return items
            after = page.next_after

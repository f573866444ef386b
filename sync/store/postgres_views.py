"""The PostgreSQL store's audience views: the columns a pull reads for one audience, and
the rows a refresh remakes (sync/store/__init__.py: stored views; sync/views.py).

A mixin for :class:`sync.store.postgres.PostgresStore`, which provides the queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sync.store import AUDIENCES, AudienceViews, StoredRecord

ROW = "entity, id, version, deleted::int, updated_at, patient_id, data::text, seq"


def row_columns(audience: str | None) -> tuple[str, tuple[Any, ...]]:
    """The ChangedRow columns (with one audience's view) and the key's parameters."""
    if audience is None:
        return ROW, ()
    if audience not in AUDIENCES:
        raise ValueError(f"not an audience: {audience!r}")
    # A row whose current view is stored does not need its data (the pull splices).
    return (
        "entity, id, version, deleted::int, updated_at, patient_id,"
        f" CASE WHEN views_key = %s AND view_{audience} IS NOT NULL THEN '' ELSE data::text"
        f" END, seq, coalesce(views_key = %s, false), view_{audience}",
        ("key", "key"),
    )


def with_key(params: tuple[Any, ...], views_key: str | None) -> tuple[Any, ...]:
    return tuple(views_key for _ in params)


def view_values(views: AudienceViews | None) -> dict[str, str | None]:
    """The view columns of one version, as named parameters."""
    if views is None:
        return {"views_key": None, **{f"view_{a}": None for a in AUDIENCES}}
    return {"views_key": views.key, **{f"view_{a}": views.texts.get(a) for a in AUDIENCES}}


class PostgresViews:
    """``records_without_views`` and ``set_views`` over the store's queries."""

    def _rows(self, sql: str, params: Sequence[Any] = (), *, lock: bool = True) -> list[Any]:
        raise NotImplementedError

    def _exec(self, sql: str, params: Any = (), *, lock: bool = True) -> None:
        raise NotImplementedError

    def get_record(self, entity: str, record_id: str) -> StoredRecord | None:
        raise NotImplementedError

    def records_without_views(self, views_key: str, limit: int) -> list[StoredRecord]:
        rows = self._rows(
            "SELECT entity, id FROM records WHERE views_key IS DISTINCT FROM %s LIMIT %s",
            (views_key, limit),
        )
        found = [self.get_record(entity, record_id) for entity, record_id in rows]
        return [record for record in found if record is not None]

    def set_views(self, entity: str, record_id: str, views: AudienceViews | None) -> None:
        self._exec(
            "UPDATE records SET views_key = %(views_key)s, view_staff = %(view_staff)s,"
            " view_patient = %(view_patient)s, view_carer = %(view_carer)s"
            " WHERE entity = %(entity)s AND id = %(id)s",
            {**view_values(views), "entity": entity, "id": record_id},
        )

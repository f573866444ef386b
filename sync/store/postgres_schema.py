"""The PostgreSQL store's schema work: the record-field indexes the registry declares.

``Registry.indexes()`` is the one definition of the indexes on fields of synced records
(migration 0018 dropped the ones earlier migrations made); each becomes an expression
index on the JSONB ``data`` (``data->>'field'``), partial on its entity, and on live
records only when it says so. ``CREATE INDEX IF NOT EXISTS`` makes it idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sync.store import RecordIndex

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def index_statement(index: RecordIndex) -> str:
    """The ``CREATE INDEX IF NOT EXISTS`` for one declared record-field index."""
    for part in (index.name, index.entity, index.field):
        if not _NAME.match(part):
            raise ValueError(f"not a plain name: {part!r}")
    live = " AND NOT deleted" if index.live_only else ""
    return (
        f"CREATE INDEX IF NOT EXISTS {index.name} ON records"
        f" ((data->>'{index.field}')) WHERE entity = '{index.entity}'{live}"
    )


def ensure_indexes(conn: Any, indexes: Iterable[RecordIndex]) -> None:
    """Create the declared indexes that do not exist yet (inside the caller's transaction)."""
    for index in indexes:
        conn.execute(index_statement(index))

"""The sync engine's tables: records, changelog, devices' sync state, quarantine, cursors.

The schema itself is defined once, in sync/store/sqlite.py (``create_schema``), because
all of the engine's SQL lives behind its store; this migration only runs it.
"""

from __future__ import annotations

import sqlite3

from sync.store.sqlite import create_schema


def migrate(conn: sqlite3.Connection) -> None:
    create_schema(conn)

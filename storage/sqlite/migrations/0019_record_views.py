"""What each audience (staff, patient, carer) sees of each record, kept on its row.

Adds ``records.views_key`` and ``records.view_<audience>`` (sync/store: the columns are
defined once, by ``add_views``). Existing rows start with no views (NULL key): pulls
decode and redact them as before, and ``doorstep migrate``/``init`` fills them right
after the migrations, with the server's redaction rules (``database.migrate`` →
``sync.refresh_views``), which a migration cannot import.
"""

from __future__ import annotations

import sqlite3

from sync.store.sqlite_schema import add_views


def migrate(conn: sqlite3.Connection) -> None:
    add_views(conn)

"""Sessions on SQLite: tables ``tokens`` and ``login_failures``. The statements are
storage/sessions_sql.py's, the same on both backends."""

from __future__ import annotations

from storage.sessions_sql import SessionsSql
from storage.sqlite.statements import SqliteStatements


class SqliteSessions(SessionsSql, SqliteStatements):
    pass

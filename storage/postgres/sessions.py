"""Sessions on PostgreSQL: tables ``tokens`` and ``login_failures`` (migrations 0001, 0006;
throttle usernames under the case-insensitive ``nocase`` collation). The statements are
storage/sessions_sql.py's, the same on both backends."""

from __future__ import annotations

from storage.postgres.statements import PostgresStatements
from storage.sessions_sql import SessionsSql


class PostgresSessions(SessionsSql, PostgresStatements):
    pass

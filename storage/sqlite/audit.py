"""The audit log on SQLite: table ``audit_log`` (migration 0001, append-only triggers).
The statements are storage/audit_sql.py's, the same on both backends."""

from __future__ import annotations

from storage.audit_sql import AuditSql
from storage.sqlite.statements import SqliteStatements


class SqliteAudit(AuditSql, SqliteStatements):
    pass

"""The audit log on PostgreSQL: table ``audit_log`` (migration 0001; a trigger refuses
UPDATE, DELETE and TRUNCATE). ``detail`` is JSONB; ids come from an identity column, so
they increase in append order within one unit of work. The statements are
storage/audit_sql.py's, the same on both backends."""

from __future__ import annotations

from storage.audit_sql import AuditSql
from storage.postgres.statements import PostgresStatements


class PostgresAudit(AuditSql, PostgresStatements):
    pass

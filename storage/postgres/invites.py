"""Invites on PostgreSQL: table ``invites`` (migration 0001). The statements are
storage/invites_sql.py's, the same on both backends."""

from __future__ import annotations

from storage.invites_sql import InvitesSql
from storage.postgres.statements import PostgresStatements


class PostgresInvites(InvitesSql, PostgresStatements):
    pass

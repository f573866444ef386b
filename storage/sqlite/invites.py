"""Invites on SQLite: table ``invites``. The statements are storage/invites_sql.py's, the
same on both backends."""

from __future__ import annotations

from storage.invites_sql import InvitesSql
from storage.sqlite.statements import SqliteStatements


class SqliteInvites(InvitesSql, SqliteStatements):
    pass

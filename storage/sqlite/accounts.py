"""Accounts on SQLite: tables ``teams``, ``users`` and ``team_members``. The statements
are storage/accounts_sql.py's, the same on both backends."""

from __future__ import annotations

from storage.accounts_sql import AccountsSql
from storage.sqlite.statements import SqliteStatements


class SqliteAccounts(AccountsSql, SqliteStatements):
    pass

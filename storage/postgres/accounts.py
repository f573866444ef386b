"""Accounts on PostgreSQL: tables ``teams``, ``users`` and ``team_members`` (migration
0001; usernames under the case-insensitive ``nocase`` collation, as SQLite's NOCASE). The
statements are storage/accounts_sql.py's, the same on both backends."""

from __future__ import annotations

from storage.accounts_sql import AccountsSql
from storage.postgres.statements import PostgresStatements


class PostgresAccounts(AccountsSql, PostgresStatements):
    # SQLite's binary order of names and ids; its NOCASE orders by ASCII lower case
    # (usernames are ASCII).
    TEAM_ORDER = 'name COLLATE "C"'
    USER_ORDER = 'lower(username) COLLATE "C"'
    TEAM_ID_ORDER = 'team_id COLLATE "C"'

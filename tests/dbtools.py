"""Raw SQLite access for tests that look under the storage boundary (what a row holds,
what a plan uses) or set up states no API can reach. Production code never does this:
everything it reads or writes goes through ``storage``."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g

from storage.sqlite.connection import connect as _sqlite_connect

__all__ = ["connect", "get_db", "init_app", "read_transaction", "write_transaction"]


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)


def connect(location: Any) -> Any:
    """A SQLite connection to a path, or a :class:`PostgresConnection` to a URL."""
    if is_postgres_url(location):
        return PostgresConnection(str(location))
    return _sqlite_connect(location)


def get_db() -> Any:
    """A connection to the current app's database, closed when the app context ends."""
    if "test_db" not in g:
        g.test_db = connect(current_app.config.get("DATABASE_URL")
                            or Path(current_app.config["DB"]))
    return g.test_db


def _close(_: BaseException | None = None) -> None:
    conn = g.pop("test_db", None)
    if conn is not None:
        conn.close()


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


# -- the same reads on PostgreSQL --------------------------------------------------------
# A test's row-reading SQL is SQLite's; on an app over PostgreSQL the few SQLite spellings
# the HTTP tests use are translated (``?`` placeholders, ``json_extract(col, '$.f')``),
# JSONB comes back as text and BYTEA as UTF-8 text, and rows answer by index and by
# name, as sqlite3.Row does. Integers are sent as untyped literals, so a comparison with
# a text (``data->>'f' = ?``) or an integer column both work.

_JSON_EXTRACT = re.compile(r"json_extract\((\w+),\s*'\$\.(\w+)'\)")
# LIKE cannot use a nondeterministic collation (usernames are case-insensitive).
_LIKE = re.compile(r"(\w+) LIKE ")


class _Row(tuple):  # type: ignore[type-arg]
    names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> tuple[str, ...]:
        return self.names


def _row_factory(cursor: Any) -> Any:
    names = tuple(column.name for column in cursor.description or ())

    def make(values: Any) -> _Row:
        row = _Row(values)
        row.names = names
        return row

    return make


class PostgresConnection:
    """sqlite3.Connection's ``execute`` / ``close`` over a PostgreSQL test database."""

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg.types.string import ByteaLoader, TextLoader

        class _Utf8Bytes(ByteaLoader):
            def load(self, data: Any) -> str:  # type: ignore[override]
                return bytes(super().load(bytes(data))).decode("utf-8", "surrogatepass")

        self._conn = psycopg.connect(url, autocommit=True, row_factory=_row_factory)
        self._conn.adapters.register_loader("jsonb", TextLoader)
        self._conn.adapters.register_loader("bytea", _Utf8Bytes)

    def execute(self, sql: str, params: Any = ()) -> Any:
        sql = _JSON_EXTRACT.sub(r"(\1->>'\2')", sql)
        sql = _LIKE.sub(r'\1 COLLATE "C" LIKE ', sql).replace("%", "%%").replace("?", "%s")
        values = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v
                  for v in params]
        return self._conn.execute(sql, values)

    def close(self) -> None:
        self._conn.close()


def is_postgres_url(location: Any) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))

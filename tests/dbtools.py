"""Raw SQLite access for tests that look under the storage boundary (what a row holds,
what a plan uses) or set up states no API can reach. Production code never does this:
everything it reads or writes goes through ``storage``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g

from storage.sqlite.connection import connect

__all__ = ["connect", "get_db", "init_app", "read_transaction", "write_transaction"]


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)


def get_db() -> sqlite3.Connection:
    """A connection to the current app's database, closed when the app context ends."""
    if "test_db" not in g:
        g.test_db = connect(Path(current_app.config["DB"]))
    conn: sqlite3.Connection = g.test_db
    return conn


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

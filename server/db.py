"""Database connections: one per request, SQLite configured for safety.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed clinical edit survives a
power cut) and foreign keys on. Writes that read before they write take the lock up front
with ``BEGIN IMMEDIATE`` so two workers never interleave a read-modify-write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g

from sync.store import sqlite as sqlite_store


def connect(path: str | Path) -> sqlite3.Connection:
    """Open a connection with Doorstep's pragmas; transactions are managed explicitly.

    One definition for the server and the sync store, so they can never disagree.
    """
    return sqlite_store.connect(path)


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
    """A consistent snapshot for several reads (WAL readers never block writers)."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def get_db() -> sqlite3.Connection:
    """The request's connection, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    conn: sqlite3.Connection = g.db
    return conn


def close_db(_: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)

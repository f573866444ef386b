"""TRANSITION (issue 11): the old per-app-context connection, for the server modules not
yet moved to units of work (``database.write()`` / ``read()``). The lead deletes this
module once nothing imports it.

``get_db()`` lends a per-thread persistent connection for the app context, kept by the
storage's own mechanism (storage/sqlite/connection.py ``ThreadConnections``: one per
thread, process and path; a replaced file reopened; a nested context gets its own);
teardown gives it back, rolling back whatever is still open. Do not mix in one flow:
code holding ``write_transaction(get_db())`` that calls ``database.write()`` waits for
itself (two connections, one writer).
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g

from storage.sqlite.connection import ThreadConnections
from storage.sqlite.connection import connect as _connect


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection with Doorstep's pragmas (storage/sqlite/connection.py defines them)."""
    return _connect(path)


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


def _connections(app: Flask) -> ThreadConnections:
    connections: ThreadConnections = app.extensions["doorstep.db"]
    return connections


def get_db() -> sqlite3.Connection:
    """The app context's connection: this thread's persistent one, lent until teardown."""
    if "db" not in g:
        g.db_path = str(current_app.config["DATABASE"])
        g.db = _connections(current_app).lend(g.db_path)
    conn: sqlite3.Connection = g.db.conn
    return conn


def release_db(_: BaseException | None = None) -> None:
    lent = g.pop("db", None)
    if lent is not None:
        _connections(current_app).give_back(g.pop("db_path"), lent)


def init_app(app: Flask) -> None:
    connections = app.extensions["doorstep.db"] = ThreadConnections()
    weakref.finalize(app, connections.close_all)
    app.teardown_appcontext(release_db)

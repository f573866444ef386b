"""The only code that knows a database. Imports neither Flask nor ``server``.

``open_storage(url)`` gives a :class:`Storage`; everything the server reads or writes goes
through one unit of work at a time::

    with storage.write() as uow:          # one transaction; BEGIN IMMEDIATE on SQLite
        uow.accounts.create_team("District North")
        uow.on_commit(lambda: send_notices(...))   # runs only after COMMIT succeeded
    with storage.read() as uow:           # one consistent snapshot
        uow.records.patients_of_teams(team_ids)

A unit of work holds one repository per aggregate (``uow.accounts``, ``uow.sessions``,
``uow.devices``, ``uow.invites``, ``uow.audit``, ``uow.push_subscriptions``,
``uow.notifications``, ``uow.fhir_exports``), typed queries over synced records
(``uow.records``) and the sync engine's store bound to the same transaction
(``uow.store``). Each backend keeps its own migrations (``storage/sqlite/migrations``,
``storage/postgres/migrations``); ``Storage.migrate()`` applies them and is called only
by ``doorstep init`` / ``migrate`` and test setup, never as a side effect of building
the app.

Invariants:
- a unit of work is one transaction: it commits when its block ends normally and rolls
  back on any exception; ``on_commit`` callbacks run after a successful commit, in order,
  outside the transaction, and never after a rollback;
- units of work do not nest on one thread's connection: opening one inside another
  gets a separate connection (and, for writes on SQLite, waits for the first to end);
- the engine's store (``Storage.sync_store()``) opens its own units of work when the
  engine asks for a transaction, so rules run by the engine (escalation hooks) reach the
  same unit of work through ``store.unit``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from storage.base import (
    BackupFailed,
    RestoreFailed,
    Storage,
    StorageError,
    UnitOfWork,
    UnsupportedDatabase,
)

__all__ = [
    "BackupFailed",
    "RestoreFailed",
    "Storage",
    "StorageError",
    "UnitOfWork",
    "UnsupportedDatabase",
    "open_storage",
]

Clock = Callable[[], datetime]


def open_storage(url: str, *, clock: Clock | None = None) -> Storage:
    """The storage at ``url``: ``sqlite:////abs/path.db``, a plain file path, or
    ``postgresql://user@host/db`` (libpq URL; see storage/postgres for pool options)."""
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        from storage.postgres import PostgresStorage

        return PostgresStorage(url, clock=clock)
    if scheme == "sqlite":
        # SQLAlchemy's spelling: sqlite:///relative.db, sqlite:////absolute/path.db
        if not url.lower().startswith("sqlite:///"):
            raise UnsupportedDatabase("A SQLite URL is sqlite:///relative.db or sqlite:////abs.db.")
        path = url[len("sqlite:///"):]
    elif scheme == "":
        path = url
    else:
        raise UnsupportedDatabase(
            f"Unknown database URL scheme {scheme!r}: use postgresql://, sqlite:/// or a"
            " file path."
        )
    from storage.sqlite import SqliteStorage

    return SqliteStorage(path, clock=clock)

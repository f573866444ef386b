"""The app's storage: opened once per app from its configuration, used per request.

Views and services take units of work from here (``with database.write() as uow``);
the storage package behind it is the only code that knows SQL. Building the app never
changes the schema: ``doorstep init`` / ``doorstep migrate`` do (:func:`migrate`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, current_app

from server.clock import utcnow
from storage import Storage, UnitOfWork, open_storage
from sync.store import Store
from sync.views import refresh_views


def database_url(config: dict[str, object]) -> str:
    """``DATABASE_URL`` when set, else the SQLite file ``DB``."""
    return str(config.get("DATABASE_URL") or config["DB"])


def describe(config: dict[str, object]) -> str:
    """The database the app uses, for messages: the SQLite path, or the PostgreSQL URL
    without its password (and without Doorstep's pool options)."""
    url = database_url(config)
    if "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def is_postgres(config: dict[str, object]) -> bool:
    return database_url(config).startswith(("postgresql://", "postgres://"))


def init_app(app: Flask) -> None:
    app.extensions["doorstep.storage"] = open_storage(database_url(app.config), clock=utcnow)


def storage(app: Flask | None = None) -> Storage:
    found: Storage = (app or current_app).extensions["doorstep.storage"]
    return found


def migrate(app: Flask | None = None) -> list[int]:
    """Apply the storage's pending migrations, then create the record-field indexes the
    entities declare (``Registry.indexes()``); both are idempotent, so ``doorstep init``
    and ``doorstep migrate`` run them every time; then makes the stored audience views
    of rows that lack current ones (``sync.views.refresh_views``). Returns the migration
    ids applied."""
    from server.records.entities import build_registry

    found = storage(app)
    applied = found.migrate()
    registry = build_registry()
    found.sync_store().ensure_indexes(registry.indexes())
    refresh_views(found.sync_store(), registry)  # rows without current stored views
    return applied


def write() -> AbstractContextManager[UnitOfWork]:
    """A read-write unit of work on the app's storage."""
    return storage().write()


def read() -> AbstractContextManager[UnitOfWork]:
    """A read-only snapshot on the app's storage."""
    return storage().read()


def sync_store() -> Store:
    """The engine's store; each transaction it runs is a unit of work of its own."""
    return storage().sync_store()

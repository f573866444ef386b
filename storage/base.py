"""What every backend provides: :class:`Storage` and its :class:`UnitOfWork`.

Repository interfaces live one per aggregate in this package (``storage/accounts.py``
…); a backend implements each in its own folder (``storage/sqlite/accounts.py``). The
contract suite (``storage/contract``) tests them through these interfaces only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from storage.accounts import Accounts
    from storage.audit import Audit
    from storage.care_records import CareRecordQueries
    from storage.devices import Devices
    from storage.fhir_exports import FhirExports
    from storage.invites import Invites
    from storage.notifications import Notifications
    from storage.push_subscriptions import PushSubscriptions
    from storage.records import RecordQueries
    from storage.sessions import Sessions
    from sync.store import Store


class StorageError(Exception):
    """The database refused or could not do what was asked."""


class UnsupportedDatabase(StorageError):
    """The configured database URL names a backend this release cannot use."""


class BackupFailed(StorageError):
    """The backup could not be taken or failed its check; no backup file was left."""


class RestoreFailed(StorageError):
    """The backup cannot be restored: it fails its checks."""


class UnitOfWork:
    """One transaction and the repositories bound to it (a backend subclasses this)."""

    accounts: Accounts
    sessions: Sessions
    devices: Devices
    invites: Invites
    audit: Audit
    push_subscriptions: PushSubscriptions
    notifications: Notifications
    fhir_exports: FhirExports
    records: RecordQueries
    care_records: CareRecordQueries
    store: Store
    read_only: bool

    def __init__(self) -> None:
        self._after_commit: list[Callable[[], object]] = []

    def on_commit(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once this unit of work has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def run_after_commit(self) -> None:
        """Called by the backend after COMMIT: each callback once, in registration order."""
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def discard_after_commit(self) -> None:
        """Called by the backend after ROLLBACK: the side effects never happen."""
        self._after_commit = []


class Storage(Protocol):
    """A database: units of work, the engine's store, schema migrations."""

    url: str

    def write(self) -> AbstractContextManager[UnitOfWork]:
        """A read-write transaction; on SQLite it takes the write lock up front."""
        ...

    def read(self) -> AbstractContextManager[UnitOfWork]:
        """A read-only, consistent snapshot."""
        ...

    def sync_store(self) -> Store:
        """The engine's store; it opens a unit of work for each transaction it runs."""
        ...

    def migrate(self) -> list[int]:
        """Apply pending migrations; returns the ids applied (``doorstep init``/``migrate``)."""
        ...

    def pending_migrations(self) -> list[int]:
        """Migrations not applied yet (``serve`` refuses to start while there are any)."""
        ...

    def backup(self, target: Path) -> int:
        """A consistent online backup to ``target`` while writers keep writing; returns
        its size in the backend's units (SQLite: pages). Raises :class:`BackupFailed`."""
        ...

    def restore(self, backup_path: Path) -> None:
        """Replace the database with a backup (``serve`` and ``scheduler`` stopped): the
        replaced database is kept beside it, migrations newer than the backup are applied,
        security state (accounts, devices, sessions, invites, throttle, push subscriptions,
        newer audit rows) is carried over, and the engine's epoch rotates and version and
        seq floors rise so no version repeats. Raises :class:`RestoreFailed`."""
        ...

    def close(self) -> None:
        """Close this process's connections."""
        ...


class BoundTransactions:
    """The transactions of a store bound to one open unit of work (``uow.store``): that
    one, no other — reads join it, a write inside it is refused."""

    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    def current(self) -> UnitOfWork:
        return self.unit

    @contextmanager
    def write(self) -> Iterator[Any]:
        raise RuntimeError("write_transaction() cannot nest in an open unit of work")
        yield  # pragma: no cover

    @contextmanager
    def read(self) -> Iterator[Any]:
        yield self.unit


class EngineTransactions:
    """The engine's transactions on a storage (``Storage.sync_store()``): each one a unit
    of work of its own, so rules the engine runs (hooks) reach it as ``store.unit``.
    Per thread: one store may serve several threads, each in its own transaction."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._local = threading.local()

    def current(self) -> UnitOfWork | None:
        unit: UnitOfWork | None = getattr(self._local, "unit", None)
        return unit

    @contextmanager
    def _open(self, opened: AbstractContextManager[UnitOfWork]) -> Iterator[UnitOfWork]:
        with opened as unit:
            self._local.unit = unit
            try:
                yield unit
            finally:
                self._local.unit = None

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        if self.current() is not None:
            raise RuntimeError("write_transaction() cannot nest in an open transaction")
        with self._open(self.storage.write()) as unit:
            yield unit

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        current = self.current()
        if current is not None:
            yield current
            return
        with self._open(self.storage.read()) as unit:
            yield unit

"""A PostgreSQL unit of work: one transaction on one pooled connection, its repositories.

Repositories are built on first use, each over the unit's connection, from
``storage/postgres/<name>.py`` (class ``Postgres<Name>(conn, clock)``) — the same layout
as the SQLite backend. The engine's store (``uow.store``) is bound to this transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from importlib import import_module
from typing import TYPE_CHECKING, Any, cast

import psycopg

from storage.base import BoundTransactions, UnitOfWork
from sync.store.postgres import PostgresStore

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


def _repository(module: str, cls: str, unit: PostgresUnitOfWork) -> Any:
    return getattr(import_module(f"storage.postgres.{module}"), cls)(unit.conn, unit.clock)


class PostgresUnitOfWork(UnitOfWork):
    """One open transaction on ``conn`` (begun and ended by :class:`PostgresStorage`).

    ``changelog_locked`` is the engine store's note that this transaction holds the
    changelog lock (sync/store/postgres.py).
    """

    def __init__(
        self,
        conn: psycopg.Connection[tuple[Any, ...]],
        clock: Callable[[], datetime],
        *,
        read_only: bool,
    ) -> None:
        super().__init__()
        self.conn = conn
        self.clock = clock
        self.read_only = read_only
        self.changelog_locked = False

    @cached_property
    def store(self) -> PostgresStore:  # type: ignore[override]
        return PostgresStore(transactions=BoundTransactions(self), clock=self.clock)

    @cached_property
    def accounts(self) -> Accounts:  # type: ignore[override]
        return cast("Accounts", _repository("accounts", "PostgresAccounts", self))

    @cached_property
    def sessions(self) -> Sessions:  # type: ignore[override]
        return cast("Sessions", _repository("sessions", "PostgresSessions", self))

    @cached_property
    def devices(self) -> Devices:  # type: ignore[override]
        return cast("Devices", _repository("devices", "PostgresDevices", self))

    @cached_property
    def invites(self) -> Invites:  # type: ignore[override]
        return cast("Invites", _repository("invites", "PostgresInvites", self))

    @cached_property
    def audit(self) -> Audit:  # type: ignore[override]
        return cast("Audit", _repository("audit", "PostgresAudit", self))

    @cached_property
    def push_subscriptions(self) -> PushSubscriptions:  # type: ignore[override]
        return cast(
            "PushSubscriptions",
            _repository("push_subscriptions", "PostgresPushSubscriptions", self),
        )

    @cached_property
    def notifications(self) -> Notifications:  # type: ignore[override]
        return cast("Notifications", _repository("notifications", "PostgresNotifications", self))

    @cached_property
    def fhir_exports(self) -> FhirExports:  # type: ignore[override]
        return cast("FhirExports", _repository("fhir_exports", "PostgresFhirExports", self))

    @cached_property
    def records(self) -> RecordQueries:  # type: ignore[override]
        return cast("RecordQueries", _repository("records", "PostgresRecordQueries", self))

    @cached_property
    def care_records(self) -> CareRecordQueries:  # type: ignore[override]
        return cast(
            "CareRecordQueries",
            _repository("care_records", "PostgresCareRecordQueries", self),
        )

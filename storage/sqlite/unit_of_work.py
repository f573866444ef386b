"""A SQLite unit of work: one transaction on one connection, and its repositories.

Repositories are built on first use (most requests touch two or three of them), each
over the unit's connection, so everything a request does in one unit commits or rolls
back together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from storage.base import BoundTransactions, UnitOfWork
from sync.store.sqlite import SqliteStore

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


class SqliteUnitOfWork(UnitOfWork):
    """One open transaction on ``conn`` (begun and ended by :class:`SqliteStorage`)."""

    def __init__(
        self, conn: sqlite3.Connection, clock: Callable[[], datetime], *, read_only: bool
    ) -> None:
        super().__init__()
        self.conn = conn
        self.clock = clock
        self.read_only = read_only

    @cached_property
    def store(self) -> SqliteStore:  # type: ignore[override]
        return SqliteStore(transactions=BoundTransactions(self), clock=self.clock)

    # Repositories: each module is storage/sqlite/<name>.py.
    @cached_property
    def accounts(self) -> Accounts:  # type: ignore[override]
        from storage.sqlite.accounts import SqliteAccounts

        return SqliteAccounts(self.conn, self.clock)

    @cached_property
    def sessions(self) -> Sessions:  # type: ignore[override]
        from storage.sqlite.sessions import SqliteSessions

        return SqliteSessions(self.conn, self.clock)

    @cached_property
    def devices(self) -> Devices:  # type: ignore[override]
        from storage.sqlite.devices import SqliteDevices

        return SqliteDevices(self.conn, self.clock)

    @cached_property
    def invites(self) -> Invites:  # type: ignore[override]
        from storage.sqlite.invites import SqliteInvites

        return SqliteInvites(self.conn, self.clock)

    @cached_property
    def audit(self) -> Audit:  # type: ignore[override]
        from storage.sqlite.audit import SqliteAudit

        return SqliteAudit(self.conn, self.clock)

    @cached_property
    def push_subscriptions(self) -> PushSubscriptions:  # type: ignore[override]
        from storage.sqlite.push_subscriptions import SqlitePushSubscriptions

        return SqlitePushSubscriptions(self.conn, self.clock)

    @cached_property
    def notifications(self) -> Notifications:  # type: ignore[override]
        from storage.sqlite.notifications import SqliteNotifications

        return SqliteNotifications(self.conn, self.clock)

    @cached_property
    def fhir_exports(self) -> FhirExports:  # type: ignore[override]
        from storage.sqlite.fhir_exports import SqliteFhirExports

        return SqliteFhirExports(self.conn, self.clock)

    @cached_property
    def records(self) -> RecordQueries:  # type: ignore[override]
        from storage.sqlite.records import SqliteRecordQueries

        return SqliteRecordQueries(self.conn, self.clock)


    @cached_property
    def care_records(self) -> CareRecordQueries:  # type: ignore[override]
        from storage.sqlite.care_records import SqliteCareRecordQueries

        return SqliteCareRecordQueries(self.conn, self.clock)

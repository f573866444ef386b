"""What the notification, push and care-record repositories share on PostgreSQL: one
lock order, so several app processes and schedulers neither race nor deadlock.

SQLite's single writer made every write unit of work serial. Here each of these
repositories, in a write unit of work, takes the changelog lock
(``sync.store.postgres.take_changelog_lock``, the one the engine's store takes before
its first query) before its first statement that writes, and before the reads a write
then depends on (an open escalation, a scan for findings, a goal's log). So:

- a check and the write it decides are as serial as on SQLite: a second scheduler's
  scan runs after the first one committed and finds its finding recorded; a rule that
  finds no open escalation creates one before anybody else can look (the unique index
  ``records_open_escalation`` of migration 0005 is the backstop, never the arbiter);
- every row lock on these tables is taken under that one lock, so two transactions
  never hold row locks while waiting for the changelog lock the other holds (a claim
  pass that lists notices, then reads records through the engine, then claims);
- claims are still conditional writes whose row count says who won
  (``UPDATE … WHERE status = 'due'``, ``INSERT … ON CONFLICT DO NOTHING``): correct
  on their own, the lock only orders them. ``FOR UPDATE SKIP LOCKED`` would add nothing
  under the lock, and taken before it (the listing precedes the engine's reads) it would
  deadlock with a push cancelling the same escalation's notices.

Read-only units of work never take the lock (their snapshot is fixed at the first query).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg

from sync.store.postgres import take_changelog_lock

if TYPE_CHECKING:
    from storage.postgres.unit_of_work import PostgresUnitOfWork

Connection = psycopg.Connection[tuple[Any, ...]]

# Not deleted and not voided: the predicate of the partial indexes in migration 0005
# (records_goal_log_live), written the same way so the planner can use them.
NOT_VOIDED = ("coalesce({0}.data->'entered_in_error', 'false'::jsonb)"
              " IN ('false'::jsonb, '0'::jsonb, 'null'::jsonb)")
# SQLite's ``json_extract(data, '$.x') = 1`` holds for JSON true and for 1.
TRUTHY = "{0} IN ('true'::jsonb, '1'::jsonb)"


class SerialRepository:
    """A repository over one unit of work's connection (see the module docstring)."""

    def __init__(self, conn: Connection, clock: Callable[[], datetime],
                 unit: PostgresUnitOfWork) -> None:
        self.conn = conn
        self.clock = clock
        self.unit = unit

    def _serial(self) -> None:
        """Take the changelog lock if this is a write unit of work (once per unit)."""
        take_changelog_lock(self.unit)

    def _write(self, sql: str, params: Any = ()) -> int:
        """One writing statement, under the lock; returns its row count."""
        self._serial()
        return self.conn.execute(sql, params).rowcount

    def _write_many(self, sql: str, rows: list[Any]) -> None:
        if not rows:
            return
        self._serial()
        with self.conn.cursor() as cursor:
            cursor.executemany(sql, rows)

"""The SQLite store's per-device state: mutation numbering, stored push results, the
quarantine of refused input, and the patient sets pull cursors name.

- ``sync_clients.last_mutation_id`` only grows; it is written in the push's transaction,
  together with that push's results (``sync_results``), so a replayed batch is answered
  from what was stored, never applied twice;
- ``sync_scope_sets`` is content-addressed (``ref`` = hash of user and patient ids):
  saving a stored set writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, timedelta
from typing import Any

import sqlite_utils

from sync.store import QuarantineEntry
from sync.store.sqlite_base import SqliteRows, dump


class DeviceState(SqliteRows):
    """Mixin for SqliteStore: ``sync_clients``, ``sync_results``, ``sync_quarantine``,
    ``sync_scope_sets``."""

    def last_mutation_id(self, client_id: str) -> int:
        row = self._row(
            "SELECT last_mutation_id FROM sync_clients WHERE client_id = ?", (client_id,)
        )
        return int(row[0]) if row else 0

    def set_last_mutation_id(self, client_id: str, user_id: str, last: int) -> None:
        self._conn.execute(
            "INSERT INTO sync_clients (client_id, user_id, last_mutation_id, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET"
            " last_mutation_id = excluded.last_mutation_id, updated_at = excluded.updated_at",
            (client_id, user_id, last, self.now()),
        )

    def stored_results(self, client_id: str, mutation_ids: Collection[int]) -> dict[int, str]:
        if not mutation_ids:
            return {}
        rows = self._rows(
            "SELECT mutation_id, result FROM sync_results WHERE client_id = ?"
            " AND mutation_id IN (SELECT value FROM json_each(?))",
            (client_id, dump(sorted(mutation_ids))),
        )
        return {row[0]: row[1] for row in rows}

    def store_results(self, client_id: str, results: Sequence[tuple[int, str]]) -> None:
        self._conn.executemany(
            "INSERT INTO sync_results (client_id, mutation_id, result) VALUES (?, ?, ?)",
            [(client_id, mutation_id, result) for mutation_id, result in results],
        )

    # -- quarantine -----------------------------------------------------------------

    def quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        now = self.now()
        self._conn.executemany(
            "INSERT INTO sync_quarantine (at, reason, client_id, user_id, mutation_id, entity,"
            " record_id, errors, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    now,
                    e.reason,
                    e.client_id,
                    e.user_id,
                    e.mutation_id,
                    e.entity,
                    e.record_id,
                    dump(dict(e.errors)),
                    e.raw,
                )
                for e in entries
            ],
        )

    def quarantined(self, client_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Quarantined mutations and batches, oldest first (for operators and tests)."""
        db = sqlite_utils.Database(self._conn, recursive_triggers=False, execute_plugins=False)
        where, params = ("client_id = ?", [client_id]) if client_id is not None else (None, None)
        for row in db.table("sync_quarantine").rows_where(where, params, order_by="id"):
            row["errors"] = json.loads(row["errors"])
            yield row

    def quarantine_usage(self, user_id: str, within: timedelta) -> tuple[int, int]:
        """Entries and bytes of raw text ``user_id`` had quarantined within ``within``."""
        since = (self.clock() - within).astimezone(UTC).isoformat(timespec="microseconds")
        row = self._row(
            "SELECT count(*), coalesce(sum(length(CAST(raw AS BLOB))), 0) FROM sync_quarantine"
            " WHERE user_id = ? AND at > ?",
            (user_id, since),
        )
        assert row is not None
        return int(row[0]), int(row[1])

    # -- the patient sets pull cursors name -----------------------------------------

    def load_scope_set(self, ref: str) -> tuple[str, list[str]] | None:
        row = self._row("SELECT user_id, patient_ids FROM sync_scope_sets WHERE ref = ?", (ref,))
        return (row[0], json.loads(row[1])) if row else None

    def has_scope_set(self, ref: str) -> bool:
        return self._row("SELECT 1 FROM sync_scope_sets WHERE ref = ?", (ref,)) is not None

    def save_scope_set(self, ref: str, user_id: str, patient_ids: Sequence[str]) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO sync_scope_sets (ref, user_id, patient_ids, created_at)"
            " VALUES (?, ?, ?, ?)",
            (ref, user_id, dump(list(patient_ids)), self.now()),
        )

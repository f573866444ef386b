"""The PostgreSQL store's bookkeeping: quarantine, stored scope sets, the database epoch
and restore marks (``sync_quarantine``, ``sync_scope_sets``, ``sync_meta``).

A mixin for :class:`sync.store.postgres.PostgresStore`, which provides the connection and
the query helpers; the meaning of each mark is in sqlite_restore.py. None of these
queries takes the changelog lock: none of them orders or numbers changes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, timedelta
from typing import Any

from sync.store import QuarantineEntry
from sync.store.postgres_transactions import StoreParts


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class PostgresBookkeeping(StoreParts):
    """Quarantine, scope sets, epoch and restore marks over ``self.conn``."""

    def quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        now = self.now()
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO sync_quarantine (at, reason, client_id, user_id, mutation_id,"
                " entity, record_id, errors, raw) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        now, e.reason, e.client_id, e.user_id, e.mutation_id, e.entity,
                        e.record_id, _dump(dict(e.errors)),
                        e.raw.encode("utf-8", "surrogatepass"),
                    )
                    for e in entries
                ],
            )

    def quarantined(self, client_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Quarantined mutations and batches, oldest first (for operators and tests)."""
        columns = (
            "id", "at", "reason", "client_id", "user_id", "mutation_id", "entity",
            "record_id", "errors", "raw",
        )
        where, params = ("WHERE client_id = %s", [client_id]) if client_id is not None else ("", [])
        rows = self._rows(
            f"SELECT {', '.join(columns)} FROM sync_quarantine {where} ORDER BY id",
            params,
            lock=False,
        )
        for row in rows:
            found = dict(zip(columns, row, strict=True))
            found["errors"] = json.loads(found["errors"])
            found["raw"] = bytes(found["raw"]).decode("utf-8", "surrogatepass")
            yield found

    def quarantine_usage(self, user_id: str, within: timedelta) -> tuple[int, int]:
        """Entries and bytes of raw text ``user_id`` had quarantined within ``within``."""
        since = (self.clock() - within).astimezone(UTC).isoformat(timespec="microseconds")
        row = self._row(
            "SELECT count(*), coalesce(sum(octet_length(raw)), 0) FROM sync_quarantine"
            " WHERE user_id = %s AND at > %s",
            (user_id, since),
            lock=False,
        )
        return int(row[0]), int(row[1])

    # -- pull cursors ---------------------------------------------------------------

    def load_scope_set(self, ref: str) -> tuple[str, list[str]] | None:
        row = self._row(
            "SELECT user_id, patient_ids FROM sync_scope_sets WHERE ref = %s", (ref,), lock=False
        )
        return (row[0], list(row[1])) if row else None

    def has_scope_set(self, ref: str) -> bool:
        found = self._row("SELECT 1 FROM sync_scope_sets WHERE ref = %s", (ref,), lock=False)
        return found is not None

    def save_scope_set(self, ref: str, user_id: str, patient_ids: Sequence[str]) -> None:
        self._exec(
            "INSERT INTO sync_scope_sets (ref, user_id, patient_ids, created_at)"
            " VALUES (%s, %s, %s::jsonb, %s) ON CONFLICT (ref) DO NOTHING",
            (ref, user_id, _dump(list(patient_ids)), self.now()),
            lock=False,
        )

    # -- database epoch and restore marks (see sqlite_restore.py for their meaning) ---

    def _meta(self, key: str) -> str | None:
        row = self._row("SELECT value FROM sync_meta WHERE key = %s", (key,), lock=False)
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._exec(
            "INSERT INTO sync_meta (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def epoch(self) -> str:
        return self._meta("epoch") or ""

    def rotate_epoch(self) -> None:
        """Invalidate every pull cursor (after restoring a backup): clients re-pull."""
        self._set_meta("epoch", secrets.token_hex(8))

    def floors(self) -> tuple[int, int]:
        """(version_floor, seq_floor): 0, 0 unless the database was restored. Read once
        per transaction (a push asks for every mutation; a restore runs offline)."""
        current = self._current()
        cached: tuple[int, int] | None = getattr(current, "sync_floors", None)
        if cached is not None:
            return cached
        rows = dict(
            self._rows(
                "SELECT key, value FROM sync_meta WHERE key IN ('version_floor', 'seq_floor')",
                lock=False,
            )
        )
        found = int(rows.get("version_floor") or 0), int(rows.get("seq_floor") or 0)
        if current is not None:
            current.sync_floors = found
        return found

    def version_floor(self) -> int:
        return self.floors()[0]

    def mark_restored(self, *, version_floor: int, seq_floor: int, at: str) -> None:
        """After a restore from backup: cursors die, versions and seqs continue above the
        floors (the seq sequence is moved past ``seq_floor``), and each device may once
        continue its mutation numbering."""
        self.rotate_epoch()
        current_version, current_seq = self.floors()
        seq_floor = max(seq_floor, current_seq)
        self._set_meta("version_floor", str(max(version_floor, current_version)))
        self._set_meta("seq_floor", str(seq_floor))
        self._set_meta("restored_at", at)
        if self._current() is not None:
            self._current().sync_floors = None
        self._exec(
            "SELECT setval('changelog_seq', greatest(%s, (SELECT coalesce(max(seq), 0)"
            " FROM changelog), 1))",
            (seq_floor,),
        )

    def restored_gap_allowed(self, client_id: str) -> bool:
        """True while this client has not pushed since the database was restored."""
        row = self._row(
            "SELECT m.value, c.updated_at FROM sync_meta m"
            " LEFT JOIN sync_clients c ON c.client_id = %s WHERE m.key = 'restored_at'",
            (client_id,),
            lock=False,
        )
        return row is not None and (row[1] is None or row[1] < row[0])

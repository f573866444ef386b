"""The SQLite store's database epoch and restore marks (``sync_meta``).

After ``doorstep restore`` (storage/sqlite/restore.py) the engine must never hand out a version
or a changelog seq it handed out before the restore, or a device's pre-restore copy
would look up to date:

- ``epoch`` changes, so every pull cursor answers 410 and devices re-pull from scratch;
- ``version_floor``: every version written afterwards is above it (the caller sets it
  to the highest version ever issued, known from the replaced database, or the backup's
  highest plus a safety margin when that database is gone);
- ``seq_floor``: likewise for changelog seqs;
- ``restored_at``: each device may once continue its mutation numbering past what the
  restored database remembers.
"""

from __future__ import annotations

import secrets

from sync.store.sqlite_base import SqliteRows


class RestoreMarks(SqliteRows):
    """Mixin for SqliteStore: epoch, floors and the restore time in ``sync_meta``."""

    _floors: tuple[int, int] | None = None

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM sync_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO sync_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def epoch(self) -> str:
        return self._meta("epoch") or ""

    def rotate_epoch(self) -> None:
        """Invalidate every pull cursor (after restoring a backup): clients re-pull."""
        self._set_meta("epoch", secrets.token_hex(8))

    def floors(self) -> tuple[int, int]:
        """(version_floor, seq_floor): 0, 0 unless the database was restored."""
        if self._floors is None:
            self._floors = (
                int(self._meta("version_floor") or 0),
                int(self._meta("seq_floor") or 0),
            )
        return self._floors

    def version_floor(self) -> int:
        return self.floors()[0]

    def mark_restored(self, *, version_floor: int, seq_floor: int, at: str) -> None:
        """After a restore from backup: cursors die, versions and seqs continue above the
        floors, and each device may once continue its mutation numbering."""
        self.rotate_epoch()
        current_version, current_seq = self.floors()
        self._set_meta("version_floor", str(max(version_floor, current_version)))
        self._set_meta("seq_floor", str(max(seq_floor, current_seq)))
        self._set_meta("restored_at", at)
        self._floors = None

    def restored_gap_allowed(self, client_id: str) -> bool:
        """True while this client has not pushed since the database was restored."""
        row = self._conn.execute(
            "SELECT m.value, c.updated_at FROM sync_meta m"
            " LEFT JOIN sync_clients c ON c.client_id = ? WHERE m.key = 'restored_at'",
            (client_id,),
        ).fetchone()
        return row is not None and (row[1] is None or row[1] < row[0])

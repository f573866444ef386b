"""``doorstep restore`` on SQLite: put a backup back without reviving what was ended since.

The backup is the authority for clinical records; the database it replaces is the
authority for who may sign in and for the sync counters. So a restore:

1. keeps the replaced database as ``<db>.pre-restore`` (also the operator's undo);
2. copies the backup over the live database and applies newer migrations;
3. carries the *security state* over from the replaced database — accounts, teams and
   memberships, devices, sessions (tokens), invite codes, the login throttle and push
   subscriptions — and appends its newer audit rows: revoked devices, logged-out and
   rotated tokens, disabled accounts and used invite codes stay so;
4. raises the sync engine's version and seq floors above anything the replaced
   database ever issued (so no version repeats and no pre-restore base version looks
   up to date), rotates the epoch (every cursor answers 410) and lets each device
   continue its mutation numbering once (sync/store/sqlite_restore.py).

When the replaced database is missing, empty or older than the backup (a restore onto
a new machine), there is nothing newer to carry, and the floors are the backup's
highest numbers plus ``RESTORE_VERSION_MARGIN``: more writes than any record gets
between two backups.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from storage.base import RestoreFailed
from storage.sqlite.audit import index_audit_rows
from storage.sqlite.backup import copy_database
from storage.sqlite.connection import connect
from storage.sqlite.migrations import migrate
from sync.store.sqlite import SqliteStore

# Replaced wholesale from the replaced database, parents before children.
SECURITY_TABLES = (
    "teams", "users", "team_members", "devices", "device_secrets", "tokens", "invites",
    "login_failures", "push_subscriptions",
)
# Above the backup's highest version and seq when the replaced database is unknown.
RESTORE_VERSION_MARGIN = 1_000_000


def restore_database(
    backup_path: Path, live_path: str, clock: Callable[[], datetime]
) -> None:
    """Replace the live database with a checked backup (serve and scheduler stopped).

    The backup is written into the live file through SQLite's backup API, so connections
    other threads hold see it as any write. Raises :class:`RestoreFailed` (nothing
    changed) when the backup fails its integrity check.
    """
    source = sqlite3.connect(backup_path)
    try:
        (result,) = source.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise RestoreFailed(f"The backup fails its integrity check: {result}")
        previous = _keep_replaced(live_path)
        live = connect(live_path)
        try:
            source.backup(live)
            migrate(live)
            _carry_over(live, previous, clock)
        finally:
            live.close()
    finally:
        source.close()


def _keep_replaced(live_path: str) -> Path | None:
    """A consistent copy of the database about to be replaced, if it holds anything."""
    path = Path(live_path)
    if not path.exists():
        return None
    kept = path.with_name(path.name + ".pre-restore")
    live = connect(live_path)
    try:
        copy_database(live, kept)
    finally:
        live.close()
    return kept


def _high_water(conn: sqlite3.Connection, schema: str) -> tuple[int, int]:
    """The highest (version, seq) a database issued, its restore floors included."""
    def one(sql: str) -> int:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    version = one(f"SELECT max(version) FROM {schema}.records")
    seq = one(f"SELECT max(seq) FROM {schema}.changelog")
    floors = dict(conn.execute(f"SELECT key, value FROM {schema}.sync_meta").fetchall())
    return (max(version, int(floors.get("version_floor", 0))),
            max(seq, int(floors.get("seq_floor", 0))))


def _tables(conn: sqlite3.Connection, schema: str) -> set[str]:
    rows = conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")
    return {row[0] for row in rows}


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA {schema}.table_info({table})")]


def _carry_over(
    live: sqlite3.Connection, previous: Path | None, clock: Callable[[], datetime]
) -> None:
    restored_version, restored_seq = _high_water(live, "main")
    attached = previous is not None
    if attached:
        live.execute("ATTACH DATABASE ? AS previous", (str(previous),))
    try:
        successor = attached and {"records", "changelog", "sync_meta", "users"} <= _tables(
            live, "previous")
        if successor:
            version, seq = _high_water(live, "previous")
            # A replaced database older than the backup (or a fresh one) knows nothing newer.
            successor = seq >= restored_seq
        if not successor:
            version = restored_version + RESTORE_VERSION_MARGIN
            seq = restored_seq + RESTORE_VERSION_MARGIN
        # Foreign keys are checked once, after every table is in place.
        live.execute("PRAGMA foreign_keys = OFF")
        live.execute("BEGIN IMMEDIATE")
        try:
            if successor:
                _copy_security_state(live)
            problems = live.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RestoreFailed(f"Restored data fails its foreign keys: {problems[:3]}")
            store = SqliteStore(live, clock=clock)
            store.mark_restored(
                version_floor=max(version, restored_version),
                seq_floor=max(seq, restored_seq),
                at=store.now(),
            )
        except BaseException:
            live.execute("ROLLBACK")
            raise
        live.execute("COMMIT")
        live.execute("PRAGMA foreign_keys = ON")
    finally:
        if attached:
            live.execute("DETACH DATABASE previous")


def _copy_security_state(live: sqlite3.Connection) -> None:
    present = _tables(live, "previous")
    for table in reversed(SECURITY_TABLES):
        if table in present:
            live.execute(f"DELETE FROM main.{table}")
    for table in SECURITY_TABLES:
        if table not in present:
            continue
        wanted = set(_columns(live, "previous", table))
        columns = ", ".join(c for c in _columns(live, "main", table) if c in wanted)
        live.execute(
            f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM previous.{table}"
        )
    # The audit log is append-only: the backup's rows stay, the newer ones follow.
    columns = ", ".join(_columns(live, "main", "audit_log"))
    live.execute(
        f"INSERT INTO main.audit_log ({columns}) SELECT {columns} FROM previous.audit_log"
        " WHERE id > (SELECT coalesce(max(id), 0) FROM main.audit_log)"
    )
    # Index them now rather than in the next pull's write: a restore from a week-old
    # backup may carry many.
    index_audit_rows(live)

"""``doorstep backup`` on SQLite: the online backup API, a consistent snapshot taken while
writers keep writing, checked before it takes the final name."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.base import BackupFailed
from storage.sqlite.connection import connect


def backup_database(source_path: str, target: Path) -> int:
    """Copy the database at ``source_path`` to ``target``; returns the copy's page count.

    The copy is written as ``<target>.partial`` and renamed only after its integrity
    check passed, so a half-written or damaged file never stands under the final name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = connect(source_path)
    dest = sqlite3.connect(partial)
    try:
        source.backup(dest)
        (result,) = dest.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise BackupFailed(f"Backup failed its integrity check: {result}")
        (pages,) = dest.execute("PRAGMA page_count").fetchone()
    finally:
        dest.close()
        source.close()
    partial.replace(target)
    return int(pages)


def copy_database(source: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of an open database at ``target`` (replacing what is there)."""
    target.unlink(missing_ok=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()

"""PostgreSQL schema changes, only through ordered migrations (``NNNN_name.sql``).

Numbers follow SQLite's migrations (storage/sqlite/migrations): PostgreSQL's 0005 makes
the same change as SQLite's 0005, in PostgreSQL's terms. Each migration runs as one
script in its own transaction, after ``pg_advisory_xact_lock(MIGRATION_LOCK)``: two
processes starting at once queue on the lock, and the second finds the migration
recorded in ``schema_migrations`` and skips it — each is applied exactly once. DDL is
transactional in PostgreSQL, so a failed migration leaves nothing behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

HERE = Path(__file__).parent
NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# pg_advisory_xact_lock keys Doorstep uses (one 64-bit key space per database).
MIGRATION_LOCK = 0x446F_6F72_0001  # "Door" 1


def available() -> list[tuple[int, Path]]:
    found = sorted(
        (int(match.group(1)), path)
        for path in HERE.iterdir()
        if (match := NAME.match(path.name))
    )
    ids = [number for number, _ in found]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"duplicate migration numbers in {HERE}")
    return found


def _applied(conn: psycopg.Connection[tuple[object, ...]]) -> set[int]:
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return set()
    return {int(str(row[0])) for row in conn.execute("SELECT id FROM schema_migrations")}


def pending(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    """Ids of the migrations this database has not applied yet."""
    done = _applied(conn)
    return [number for number, _ in available() if number not in done]


def migrate(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    """Apply every pending migration, each in its own transaction; returns the ids applied.

    ``conn`` must be in autocommit mode (each migration opens its own transaction).
    """
    applied = []
    for number, path in available():
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            if number in _applied(conn):
                continue
            conn.execute(path.read_text())
            conn.execute(
                "INSERT INTO schema_migrations (id, name) VALUES (%s, %s)", (number, path.stem)
            )
            applied.append(number)
    return applied

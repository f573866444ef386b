"""Schema changes, only through ordered migrations.

Each migration is a file in this folder named ``NNNN_name.sql`` (run as one script) or
``NNNN_name.py`` (exposing ``migrate(conn)``). Applied ids are recorded in
``schema_migrations``; each migration runs in its own ``BEGIN IMMEDIATE`` transaction,
so two processes starting at once apply it exactly once.
"""

from __future__ import annotations

import importlib
import re
import sqlite3
from pathlib import Path

HERE = Path(__file__).parent
NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.(sql|py)$")


def available() -> list[tuple[int, Path]]:
    found = []
    for path in HERE.iterdir():
        match = NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    found.sort()
    ids = [number for number, _ in found]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"duplicate migration numbers in {HERE}")
    return found


def _ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL"
        " DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    )


def pending(conn: sqlite3.Connection) -> list[int]:
    """Ids of the migrations this database has not applied yet."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    done = {row[0] for row in conn.execute("SELECT id FROM schema_migrations")} if exists else set()
    return [number for number, _ in available() if number not in done]


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply every pending migration; returns the ids applied."""
    _ensure_table(conn)
    applied = []
    for number, path in available():
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = conn.execute(
                "SELECT 1 FROM schema_migrations WHERE id = ?", (number,)
            ).fetchone()
            if not done:
                _run(conn, path)
                conn.execute(
                    "INSERT INTO schema_migrations (id, name) VALUES (?, ?)", (number, path.stem)
                )
                applied.append(number)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return applied


def _run(conn: sqlite3.Connection, path: Path) -> None:
    if path.suffix == ".sql":
        # executescript would COMMIT our transaction; run statements one by one instead.
        for statement in _statements(path.read_text()):
            conn.execute(statement)
    else:
        module = importlib.import_module(f"{__name__}.{path.stem}")
        module.migrate(conn)


def _statements(script: str) -> list[str]:
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise RuntimeError("incomplete SQL statement at end of migration")
    return statements

"""The SQLite store's schema: Doorstep's connection pragmas, the engine's tables, and the
indexes the registry declares on record fields.

Invariants:
- ``connect()`` is the one definition of Doorstep's pragmas (WAL, ``synchronous=FULL``,
  foreign keys, busy timeout, memory-mapped reads), used by storage/sqlite too;
- ``changelog`` is append-only (triggers refuse UPDATE and DELETE);
- ``records.seq`` is unique and indexed, so "records changed since S" is an index range;
- ``ensure_indexes`` is idempotent (``CREATE INDEX IF NOT EXISTS``): run on every
  ``doorstep init`` / ``migrate``, it creates only what a declaration added.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import sqlite_utils

from sync.store import AUDIENCES, RecordIndex

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Reads of the database file through a memory map rather than a read() per page. A
# record's row carries its data and a view per audience (~1.5 kB), so a snapshot page of
# 500 reads ~200 table pages, mostly outside the 2 MB page cache each connection has:
# mapped, those reads are memory copies from the OS's cache, shared by every connection
# and worker (a larger page cache per connection would hold a copy each). Measured on a
# 10,000-record snapshot: its queries 35 → 22 ms. Writes still go through the WAL as
# before (SQLite maps the file read-only); pages still in the WAL are read from it.
MMAP_BYTES = 1 << 30


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection with Doorstep's pragmas; transactions are managed explicitly."""
    path = str(path)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the engine's tables; called by migration 0002 inside its transaction."""
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    db.table("records").create(
        {
            "entity": str,
            "id": str,
            "version": int,
            "deleted": int,
            "updated_at": str,
            "patient_id": str,
            "data": str,
            "seq": int,
            "meta": str,
        },
        pk=("entity", "id"),
        not_null={"entity", "id", "version", "deleted", "updated_at", "patient_id", "data"}
        | {"seq", "meta"},
        defaults={"deleted": 0, "meta": "{}"},
    )
    db.table("records").create_index(["seq"], index_name="records_seq", unique=True)
    # Covering index for "changes of these patients since S": seeks per patient, then
    # a top-N sort on seq without touching the table rows.
    db.table("records").create_index(
        ["patient_id", "seq", "deleted"], index_name="records_patient_seq"
    )
    db.table("changelog").create(
        {
            "seq": int,
            "entity": str,
            "id": str,
            "version": int,
            "deleted": int,
            "patient_id": str,
            "data": str,
            "client_id": str,
            "author_id": str,
            "mutation_id": int,
            "changed": str,
            "at": str,
        },
        pk="seq",
        not_null={"entity", "id", "version", "deleted", "patient_id", "data"}
        | {"client_id", "author_id", "changed", "at"},
    )
    db.table("changelog").create_index(
        ["entity", "id", "version"], index_name="changelog_record", unique=True
    )
    for action in ("UPDATE", "DELETE"):
        conn.execute(
            f"CREATE TRIGGER changelog_no_{action.lower()} BEFORE {action} ON changelog"
            " BEGIN SELECT RAISE(ABORT, 'changelog is append-only'); END"
        )
    db.table("sync_clients").create(
        {"client_id": str, "user_id": str, "last_mutation_id": int, "updated_at": str},
        pk="client_id",
        not_null={"user_id", "last_mutation_id", "updated_at"},
    )
    conn.execute(
        "CREATE TABLE sync_results (client_id TEXT NOT NULL, mutation_id INTEGER NOT NULL,"
        " result TEXT NOT NULL, PRIMARY KEY (client_id, mutation_id)) WITHOUT ROWID"
    )
    db.table("sync_quarantine").create(
        {
            "id": int,
            "at": str,
            "reason": str,
            "client_id": str,
            "user_id": str,
            "mutation_id": int,
            "entity": str,
            "record_id": str,
            "errors": str,
            "raw": str,
        },
        pk="id",
        not_null={"at", "reason", "errors", "raw"},
    )
    db.table("sync_quarantine").create_index(
        ["client_id", "id"], index_name="sync_quarantine_client"
    )
    db.table("sync_scope_sets").create(
        {"ref": str, "user_id": str, "patient_ids": str, "created_at": str},
        pk="ref",
        not_null={"user_id", "patient_ids", "created_at"},
    )
    db.table("sync_meta").create({"key": str, "value": str}, pk="key", not_null={"value"})
    conn.execute("INSERT INTO sync_meta (key, value) VALUES ('epoch', ?)", (secrets.token_hex(8),))


def add_views(conn: sqlite3.Connection) -> None:
    """Give ``records`` its stored audience views (migration 0019; NULL until made)."""
    for column in ("views_key", *(f"view_{audience}" for audience in AUDIENCES)):
        conn.execute(f"ALTER TABLE records ADD COLUMN {column} TEXT")


def index_statement(index: RecordIndex) -> str:
    """The ``CREATE INDEX IF NOT EXISTS`` for one declared record-field index."""
    for part in (index.name, index.entity, index.field):
        if not _NAME.match(part):
            raise ValueError(f"not a plain name: {part!r}")
    live = " AND deleted = 0" if index.live_only else ""
    return (
        f"CREATE INDEX IF NOT EXISTS {index.name} ON records"
        f" (json_extract(data, '$.{index.field}')) WHERE entity = '{index.entity}'{live}"
    )


def ensure_indexes(conn: sqlite3.Connection, indexes: Iterable[RecordIndex]) -> None:
    """Create the declared indexes that do not exist yet (inside the caller's transaction)."""
    for index in indexes:
        conn.execute(index_statement(index))

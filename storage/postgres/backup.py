"""``doorstep backup`` / ``restore`` on PostgreSQL: ``pg_dump`` and ``pg_restore``, and the
same device guarantees as SQLite's restore (storage/sqlite/restore.py explains them).

Backup: ``pg_dump --format=custom`` (a consistent snapshot while writers keep writing)
into ``<target>.partial``, checked by ``pg_restore --list`` before it takes the final name.

Restore (``serve`` and ``scheduler`` stopped), inside the one database:

1. the replaced schema ``public`` is renamed ``doorstep_pre_restore`` (the operator's undo,
   and where the carry-over reads from; an older one is dropped first);
2. the backup is restored into a new ``public`` in one transaction, then newer migrations
   run; if ``pg_restore`` fails the replaced schema is put back as it was;
3. in one transaction: the security state (accounts, teams, memberships, devices and
   their secrets, sessions, invites, the login throttle, push subscriptions) is replaced
   by the replaced database's and its newer audit rows appended; the engine's epoch
   rotates and its version and seq floors rise above anything either database issued.

The binaries are looked up in ``$DOORSTEP_PG_BIN``, ``/usr/lib/postgresql/15/bin``, then
``$PATH``; the password (if the URL has one) goes to them as ``PGPASSWORD``, never on
the command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from storage.base import BackupFailed, RestoreFailed
from storage.postgres import migrations
from sync.store.postgres import PostgresStore

Connection = psycopg.Connection[tuple[Any, ...]]
KEPT_SCHEMA = "doorstep_pre_restore"
BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin",)
# Replaced wholesale from the replaced database, parents before children.
SECURITY_TABLES = (
    "teams", "users", "team_members", "devices", "device_secrets", "tokens", "invites",
    "login_failures", "push_subscriptions",
)
# Above the backup's highest version and seq when the replaced database is unknown.
RESTORE_VERSION_MARGIN = 1_000_000


def find_binary(name: str) -> str | None:
    folders = [os.environ.get("DOORSTEP_PG_BIN", ""), *BIN_CANDIDATES]
    for folder in filter(None, folders):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def _run(name: str, args: list[str], conninfo: str | None, error: type[Exception]) -> str:
    """Run a PostgreSQL client program; its stdout, or ``error`` with what went wrong."""
    binary = find_binary(name)
    if binary is None:
        raise error(
            f"{name} not found (looked in $DOORSTEP_PG_BIN, /usr/lib/postgresql/15/bin and"
            f" $PATH): install the PostgreSQL 15 client (apt-get install -y"
            f" postgresql-client-15), or run {name} yourself: "
            + ("pg_dump --format=custom --exclude-schema=doorstep_pre_restore"
               " --file=BACKUP \"$DOORSTEP_DATABASE_URL\"" if name == "pg_dump" else
               "see docs/operations.md, \"Backup and restore on PostgreSQL\"")
        )
    env = dict(os.environ)
    argv = [binary, *args]
    if conninfo is not None:
        params = conninfo_to_dict(conninfo)
        password = params.pop("password", None)
        if password:
            env["PGPASSWORD"] = str(password)
        argv.append("--dbname=" + make_conninfo("", **params))
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise error(f"{name} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def backup_database(conninfo: str, target: Path) -> int:
    """A custom-format dump of the database at ``target``; returns its size in bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _run("pg_dump", ["--format=custom", f"--exclude-schema={KEPT_SCHEMA}",
                         f"--file={partial}"], conninfo, BackupFailed)
        listing = _run("pg_restore", ["--list", str(partial)], None, BackupFailed)
        if "TABLE DATA public records" not in listing:
            raise BackupFailed("Backup failed its check: it holds no records table.")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return target.stat().st_size


def restore_database(
    backup_path: Path, conninfo: str, clock: Callable[[], datetime]
) -> None:
    """Replace the live database's schema with the backup's and carry the security state
    and the sync counters over. Raises :class:`RestoreFailed` (nothing changed) when the
    backup cannot be read or restored."""
    listing = _run("pg_restore", ["--list", str(backup_path)], None, RestoreFailed)
    if "TABLE DATA public records" not in listing:
        raise RestoreFailed(f"{backup_path} is not a Doorstep PostgreSQL backup.")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        had_schema = _set_aside(conn)
        try:
            _run("pg_restore", ["--no-owner", "--no-privileges", "--single-transaction",
                                "--exit-on-error", str(backup_path)], conninfo, RestoreFailed)
        except BaseException:
            _put_back(conn, had_schema)
            raise
        migrations.migrate(conn)
        _carry_over(conn, had_schema, clock)


def _set_aside(conn: Connection) -> bool:
    """Rename ``public`` to the kept schema and make an empty ``public``; True if the
    replaced database had a Doorstep schema to carry state from."""
    with conn.transaction():
        conn.execute(f"DROP SCHEMA IF EXISTS {KEPT_SCHEMA} CASCADE")
        found = conn.execute("SELECT to_regclass('public.records') IS NOT NULL").fetchone()
        conn.execute(f"ALTER SCHEMA public RENAME TO {KEPT_SCHEMA}")
        conn.execute("CREATE SCHEMA public")
    return bool(found and found[0])


def _put_back(conn: Connection, had_schema: bool) -> None:
    with conn.transaction():
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute(f"ALTER SCHEMA {KEPT_SCHEMA} RENAME TO public")


def _one(conn: Connection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _high_water(conn: Connection, schema: str) -> tuple[int, int]:
    """The highest (version, seq) a database issued, its restore floors included."""
    version = _one(conn, f"SELECT max(version) FROM {schema}.records")
    seq = _one(conn, f"SELECT max(seq) FROM {schema}.changelog")
    rows = conn.execute(f"SELECT key, value FROM {schema}.sync_meta").fetchall()
    floors: dict[str, str] = dict(rows)
    return (max(version, int(floors.get("version_floor", 0))),
            max(seq, int(floors.get("seq_floor", 0))))


def _tables(conn: Connection, schema: str) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
    )
    return {str(row[0]) for row in rows}


def _columns(conn: Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
        " AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    )
    return [str(row[0]) for row in rows]


def _carry_over(conn: Connection, had_schema: bool, clock: Callable[[], datetime]) -> None:
    store = PostgresStore(conn, clock)
    with store.write_transaction():
        restored_version, restored_seq = _high_water(conn, "public")
        successor = had_schema and {"records", "changelog", "sync_meta", "users"} <= _tables(
            conn, KEPT_SCHEMA)
        if successor:
            version, seq = _high_water(conn, KEPT_SCHEMA)
            # A replaced database older than the backup (or a fresh one) knows nothing newer.
            successor = seq >= restored_seq
        if successor:
            _copy_security_state(conn)
        else:
            version = restored_version + RESTORE_VERSION_MARGIN
            seq = restored_seq + RESTORE_VERSION_MARGIN
        store.mark_restored(
            version_floor=max(version, restored_version),
            seq_floor=max(seq, restored_seq),
            at=store.now(),
        )


def _copy_security_state(conn: Connection) -> None:
    present = _tables(conn, KEPT_SCHEMA)
    for table in reversed(SECURITY_TABLES):
        conn.execute(f"DELETE FROM public.{table}")
    for table in SECURITY_TABLES:
        if table not in present:
            continue
        wanted = set(_columns(conn, KEPT_SCHEMA, table))
        columns = ", ".join(c for c in _columns(conn, "public", table) if c in wanted)
        conn.execute(
            f"INSERT INTO public.{table} ({columns}) SELECT {columns} FROM {KEPT_SCHEMA}.{table}"
        )
    # The audit log is append-only: the backup's rows stay, the newer ones follow.
    columns = ", ".join(_columns(conn, "public", "audit_log"))
    conn.execute(
        f"INSERT INTO public.audit_log ({columns}) SELECT {columns} FROM {KEPT_SCHEMA}.audit_log"
        " WHERE id > (SELECT coalesce(max(id), 0) FROM public.audit_log)"
    )
    for table in ("login_failures", "audit_log"):  # identities continue above copied ids
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('public.{table}', 'id'),"
            f" (SELECT coalesce(max(id), 0) + 1 FROM public.{table}), false)"
        )

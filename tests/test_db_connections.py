"""The storage's persistent SQLite connections (storage/sqlite/connection.py): requests
reuse the one given back last, whichever thread serves them; no transaction outlives its
request; a restore is seen by the next request; apps, units of work open at once and
forked workers never share one.

Connections are counted by wrapping the standard library's ``sqlite3.connect``; ``db``
below lends the storage's connection for an app context, as a request's units of work do.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sqlite3
import threading
import uuid

import pytest
from conftest import (
    _template_database,
    login,
    make_patient,
    make_team,
    make_user,
    migrated_app,
    test_config,
)
from flask import appcontext_tearing_down, g
from test_sync_http import mutation, push, visit_fields

from server import database
from storage.sqlite.connection import MAX_IDLE
from sync.store.sqlite_schema import MMAP_BYTES


class db:  # noqa: N801 — reads as the module the assertions were written against
    """A storage connection, lent for the current app context."""

    @staticmethod
    def get_db() -> sqlite3.Connection:
        if "lent_connection" not in g:
            lending = database.storage().connection()  # type: ignore[attr-defined]
            g.lent_connection = (lending, lending.__enter__())
        conn: sqlite3.Connection = g.lent_connection[1]
        return conn


def _give_back(sender, exc=None, **_):
    lent = g.pop("lent_connection", None)
    if lent is not None:
        lent[0].__exit__(None, None, None)


appcontext_tearing_down.connect(_give_back)


@pytest.fixture
def opened(monkeypatch):
    """Every sqlite3 connection opened from now on (the third-party call, wrapped)."""
    _template_database()  # made once per process, before counting
    paths: list[str] = []
    real_connect = sqlite3.connect

    def counting_connect(database, *args, **kwargs):
        paths.append(str(database))
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", counting_connect)
    return paths


@pytest.fixture
def nurse(app, client):
    team = make_team(app)
    return login(client, make_user(app, "nurse", teams=(team,)).username), team


def test_requests_on_one_thread_reuse_one_connection(opened, app, nurse):
    session, _ = nurse
    for _ in range(3):
        assert session.get("/api/v1/me").status_code == 200
    assert session.get("/api/v1/sync/pull",
                       query_string={"client_id": session.client_id}).status_code == 200
    # create_app's migration connection (closed), then one kept connection for every
    # request since (making the team, the nurse, her login and the four above).
    assert opened == [app.config["DATABASE"]] * 2


def test_requests_on_other_threads_reuse_the_connection_given_back_last(opened, app, nurse):
    """granian hands each request to whichever thread is free: the next request still
    gets the connection the last one gave back (its page cache current), not a
    connection of its own thread that another connection's commits have made stale."""
    session, _ = nurse
    seen = []

    def request() -> None:
        response = session.get("/api/v1/sync/pull", query_string={"client_id": session.client_id})
        seen.append(response.status_code)

    for _ in range(4):  # one after another, each on a thread of its own
        thread = threading.Thread(target=request)
        thread.start()
        thread.join()
    assert seen == [200] * 4
    assert opened == [app.config["DATABASE"]] * 2


def test_units_of_work_open_at_once_never_share_a_connection(app):
    both_open = threading.Barrier(2)
    seen = []

    def in_thread() -> None:
        with app.app_context():
            seen.append(db.get_db())
            both_open.wait(timeout=10)

    threads = [threading.Thread(target=in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 2 and seen[0] is not seen[1]
    with app.app_context():  # both were given back, the later one on top
        assert db.get_db() in seen


def test_no_transaction_outlives_its_app_context(app):
    with app.app_context():
        conn = db.get_db()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)",
                      (str(uuid.uuid4()), "Left open", "2026-01-01T00:00:00+00:00"))
    # Another connection can take the write lock at once: the teardown rolled back.
    other = sqlite3.connect(app.config["DATABASE"], timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        assert other.execute("SELECT 1 FROM teams WHERE name = 'Left open'").fetchone() is None
    finally:
        other.close()
    with app.app_context():
        assert db.get_db() is conn and not conn.in_transaction


def test_a_nested_app_context_gets_its_own_connection(app):
    with app.app_context():
        outer = db.get_db()
        outer.execute("BEGIN")
        with app.app_context():
            inner = db.get_db()
            assert inner is not outer
            inner.execute("BEGIN")
        assert outer.in_transaction  # the inner teardown did not touch it
        assert not inner.in_transaction  # its own was rolled back as it was given back
    with app.app_context():
        assert db.get_db() is outer  # given back last


def test_idle_connections_beyond_the_limit_are_closed(app):
    with contextlib.ExitStack() as stack:
        lent = []
        for _ in range(MAX_IDLE + 2):
            stack.enter_context(app.app_context())
            lent.append(db.get_db())
    assert len({id(conn) for conn in lent}) == MAX_IDLE + 2
    closed = []
    for conn in lent:
        try:
            conn.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            closed.append(conn)
    # The pool took the first MAX_IDLE given back; the two lent first came back last.
    assert closed == lent[:2]


def test_apps_have_their_own_connections(app, tmp_path, clock):
    other_app = migrated_app(test_config(tmp_path / "other", clock))
    with app.app_context():
        mine = db.get_db()
    with other_app.app_context():
        theirs = db.get_db()
        assert theirs is not mine
        assert theirs.execute("PRAGMA database_list").fetchone()[2] == other_app.config["DB"]


def test_connections_close_when_the_app_is_gone(tmp_path, clock):
    gone = migrated_app(test_config(tmp_path, clock))
    with gone.app_context():
        conn = db.get_db()
    del gone
    gc.collect()
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")


@pytest.mark.parametrize("onto_new_file", [False, True])
def test_a_restore_between_requests_is_seen_by_the_next(app, client, tmp_path, opened,
                                                        onto_new_file):
    team = make_team(app)
    patient = make_patient(app, team)
    session = login(client, make_user(app, "nurse", teams=(team,)).username)
    live = app.config["DATABASE"]
    backup = tmp_path / "backup.db"
    database.storage(app).backup(backup)
    visit = str(uuid.uuid4())
    assert push(session, mutation(1, "visit", visit, **visit_fields(patient))).status_code == 200
    assert session.get(f"/api/v1/patients/{patient}/visits").json["items"][0]["id"] == visit
    if onto_new_file:  # the database lost: the restore writes a new file
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / "instance" / f"doorstep.db{suffix}").unlink(missing_ok=True)
    database.storage(app).restore(backup)
    before = opened.count(live)
    # The visit pushed after the backup is gone, for the very next request.
    assert session.get(f"/api/v1/patients/{patient}/visits").json["items"] == []
    # A restore in place is seen by the kept connection; a new file needs a new one.
    assert opened.count(live) - before == (1 if onto_new_file else 0)


def test_a_forked_worker_opens_its_own_connection(app):
    """A server may fork workers from the process that built the app: never share one."""
    with app.app_context():
        parent = db.get_db()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it got the parent's connection, then leave
        try:
            with app.app_context():
                child = db.get_db()
                ok = child is not parent and child.execute("SELECT 1").fetchone()[0] == 1
            os.write(write, b"own" if ok else b"shared")
        finally:
            os._exit(0)
    os.close(write)
    try:
        answer = os.read(read, 16)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    assert answer == b"own"
    with app.app_context():
        assert db.get_db() is parent


def test_the_connections_pragmas_and_mapped_reads_see_every_commit(app, nurse):
    """Each connection reads the file through a memory map (sync/store/sqlite_schema.py);
    what another connection commits, and a checkpoint then copies from the WAL into the
    mapped file, is what the next pull returns."""
    session, team = nurse
    with app.app_context():
        conn = db.get_db()
        pragmas = {name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                   for name in ("journal_mode", "synchronous", "foreign_keys", "mmap_size")}
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                       "mmap_size": MMAP_BYTES}
    patient = make_patient(app, team)
    body = session.get("/api/v1/sync/pull", query_string={"client_id": session.client_id,
                                                          "limit": 1000}).get_json()
    cursor = body["cursor"]
    notes = []
    for n in range(3):
        created = mutation(n + 1, "visit", str(uuid.uuid4()),
                           **visit_fields(patient, notes=f"Visit {n}"))
        assert push(session, created).get_json()["results"][0]["status"] == "applied"
        notes.append(f"Visit {n}")
        other = sqlite3.connect(app.config["DATABASE"])
        try:  # another process's checkpoint: the pages move from the WAL into the file
            assert other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        finally:
            other.close()
    body = session.get("/api/v1/sync/pull", query_string={
        "client_id": session.client_id, "cursor": cursor}).get_json()
    assert sorted(c["data"]["notes"] for c in body["changes"]) == notes

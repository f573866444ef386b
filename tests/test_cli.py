"""The command line: init, team add, user add (password on stdin), backup of a live
database that is being written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from server import cli, db
from storage.sqlite import migrations


@pytest.fixture
def instance(tmp_path, monkeypatch):
    folder = tmp_path / "instance"
    monkeypatch.setenv("DOORSTEP_INSTANCE", str(folder))
    monkeypatch.setenv("DOORSTEP_PASSWORD_HASH_MEMORY_KIB", "256")
    monkeypatch.setenv("DOORSTEP_PASSWORD_HASH_TIME_COST", "1")
    return folder


def run(*args, input=None):
    result = CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)
    return result


def test_team_and_user_add_with_password_from_stdin(instance):
    assert run("init").exit_code == 0
    assert (instance / "doorstep.db").exists()
    assert run("team", "add", "North").exit_code == 0
    result = run("user", "add", "nina", "--role", "nurse", "--team", "North",
                 input="a long password\n")
    assert result.exit_code == 0, result.output
    conn = db.connect(instance / "doorstep.db")
    row = conn.execute("SELECT role, password_hash FROM users WHERE username='nina'").fetchone()
    assert row["role"] == "nurse" and row["password_hash"].startswith("$argon2id$")


def test_user_add_refuses_short_staff_password_and_unknown_team(instance):
    run("init")
    short = run("user", "add", "nina", "--role", "nurse", input="short\n")
    assert short.exit_code != 0 and "at least 10" in short.output
    unknown = run("user", "add", "nina", "--role", "nurse", "--team", "Nope",
                  input="a long password\n")
    assert unknown.exit_code != 0 and "No team named" in unknown.output


def test_backup_of_a_database_being_written(tmp_path):
    source = tmp_path / "live.db"
    conn = db.connect(source)
    migrations.migrate(conn)
    conn.execute("CREATE TABLE ticks (n INTEGER PRIMARY KEY, payload TEXT)")
    stop = threading.Event()
    written = []

    def writer():
        writer_conn = db.connect(source)
        n = 0
        while not stop.is_set():
            n += 1
            with db.write_transaction(writer_conn):
                # Two rows per transaction: a torn copy would show an odd count.
                writer_conn.execute("INSERT INTO ticks VALUES (?, ?)", (2 * n, "x" * 500))
                writer_conn.execute("INSERT INTO ticks VALUES (?, ?)", (2 * n + 1, "y" * 500))
            written.append(n)
        writer_conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 50:
            pass
        copies = [tmp_path / f"backup{i}.db" for i in range(3)]
        for copy in copies:
            cli.backup_database(str(source), copy)
    finally:
        stop.set()
        thread.join()
    for copy in copies:
        check = sqlite3.connect(copy)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (count,) = check.execute("SELECT count(*) FROM ticks").fetchone()
        assert count % 2 == 0 and count > 0
        assert check.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 1
        check.close()
    assert not list(tmp_path.glob("*.partial"))


def test_backup_command_refuses_to_overwrite(instance, tmp_path):
    run("init")
    target = tmp_path / "copy.db"
    assert run("backup", str(target)).exit_code == 0
    assert run("backup", str(target)).exit_code != 0
    assert run("backup", str(target), "--force").exit_code == 0


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "doorstep"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True,
                            env={**os.environ}, check=True)
    for command in ("init", "serve", "scheduler", "demo", "user", "team", "backup"):
        assert command in result.stdout


def test_restore_makes_devices_re_pull_and_continue_pushing(tmp_path, clock):
    """After a restore, cursors answer 410 and a device's next mutation ids are accepted
    even though the restored database remembers fewer; replays are still not re-applied."""
    import uuid

    from conftest import login, make_patient, make_team, make_user, migrated_app, test_config
    from test_sync_http import mutation, pull_all, push, visit_fields

    from server.restore import restore_database

    app = migrated_app(test_config(tmp_path, clock))
    client = app.test_client()
    team = make_team(app)
    patient = make_patient(app, team)
    nurse = login(client, make_user(app, "nurse", teams=(team,)).username)
    vid = str(uuid.uuid4())
    push(nurse, mutation(1, "visit", vid, **visit_fields(patient)))
    backup = tmp_path / "backup.db"
    cli.backup_database(app.config["DB"], backup)
    push(nurse, mutation(2, "visit", vid, op="update", base=1, notes="after backup"))
    _, _, cursor = pull_all(nurse)

    clock.advance(minutes=5)
    with app.app_context():
        restore_database(backup, app.config["DB"])
    clock.advance(minutes=1)

    stale = nurse.get("/api/v1/sync/pull", query_string={
        "client_id": nurse.client_id, "cursor": cursor})
    assert stale.status_code == 410
    replay = push(nurse, mutation(1, "visit", vid, **visit_fields(patient))).json
    assert replay["results"][0]["status"] == "applied"  # the stored result, not re-applied
    body = push(nurse, mutation(3, "visit", vid, op="update", base=1, notes="later")).json
    assert body["results"][0]["status"] == "applied"
    assert body["last_mutation_id"] == 3
    clock.advance(seconds=1)
    gap = push(nurse, mutation(5, "visit", vid, op="update", base=2, notes="x")).json
    assert gap["results"][0]["status"] == "out_of_order"  # only once, right after restore


def test_restore_needs_confirmation(instance, tmp_path):
    run("init")
    target = tmp_path / "copy.db"
    run("backup", str(target))
    assert run("restore", str(target)).exit_code != 0
    assert run("restore", str(target), "--yes").exit_code == 0

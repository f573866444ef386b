"""The ``doorstep`` commands with ``DOORSTEP_DATABASE_URL=postgresql://…`` (issue 12):
init, migrate, backup and restore as an operator runs them; demo and scheduler once the
PostgreSQL notification repositories are there."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from conftest import make_patient, make_team, make_user, migrated_app, test_config

from server import database

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-c", "from server.cli import main; main()"]
NOTIFY_READY = importlib.util.find_spec("storage.postgres.care_records") is not None


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DOORSTEP_INSTANCE": str(tmp_path / "i"),
            "DOORSTEP_DATABASE_URL": url,
            "DOORSTEP_PASSWORD_HASH_MEMORY_KIB": "256", "DOORSTEP_PASSWORD_HASH_TIME_COST": "1"}


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*COMMAND, *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _one(url: str, sql: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    return None if row is None else row[0]


def test_init_migrate_backup_and_restore_on_postgresql(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    url = empty_postgres_url.replace("postgres@", "postgres:secret@", 1)  # trust auth
    env = _env(tmp_path, url)
    out = _run(env, "init")
    assert "secret" not in out and url.rsplit("/", 1)[1] in out
    assert not list(tmp_path.rglob("*.db"))  # no SQLite file written
    assert "current" in _run(env, "migrate")

    app = migrated_app(test_config(tmp_path / "seed", DATABASE_URL=url))
    team = make_team(app)
    make_patient(app, team)
    backup = tmp_path / "backup.dump"
    assert "bytes" in _run(env, "backup", str(backup))
    make_patient(app, team)  # after the backup: gone after the restore
    late = make_user(app, "nurse", teams=(team,))  # security state: kept
    database.storage(app).close()
    epoch = _one(url, "SELECT value FROM sync_meta WHERE key = 'epoch'")

    out = _run(env, "restore", str(backup), "--yes")
    assert "doorstep_pre_restore" in out and "secret" not in out
    assert _one(url, "SELECT count(*) FROM records WHERE entity = 'patient'") == 1
    assert _one(url, f"SELECT count(*) FROM users WHERE id = '{late.id}'") == 1
    assert _one(url, "SELECT value FROM sync_meta WHERE key = 'epoch'") != epoch


@pytest.mark.skipif(not NOTIFY_READY, reason="needs storage/postgres/care_records.py (h/notify)")
def test_demo_and_scheduler_on_postgresql(empty_postgres_url: str, tmp_path: Path) -> None:
    env = _env(tmp_path, empty_postgres_url)
    _run(env, "init")
    assert "Demo logins" in _run(env, "demo", "--patients", "5")
    scheduler = subprocess.Popen([*COMMAND, "scheduler"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
    time.sleep(3)
    assert scheduler.poll() is None, scheduler.communicate()[0]  # running its jobs
    scheduler.terminate()
    scheduler.communicate(timeout=30)

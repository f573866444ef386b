"""The scheduler process: one tick job, shared by reminders and other due-work jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dbtools as db
import pytest
from push_factories import make_pusher, make_reminder, patient_with_browser, storage_for
from push_service import push_service_fixture  # noqa: F401

from server.clock import iso
from server.jobs import scheduler
from server.notifications import vapid


@pytest.fixture
def app(app):
    """The shared app fixture, plus the VAPID keys `doorstep init` would make."""
    vapid.ensure_vapid_keys(app.config["INSTANCE"])
    yield app
    pusher = app.extensions.pop("doorstep_pusher", None)
    if pusher is not None:
        pusher.close()


@pytest.fixture
def conn(app):
    connection = db.connect(app.config["DATABASE"])
    yield connection
    connection.close()


def due_reminder(conn, push_service, time_of_day="09:00"):
    browser = push_service.subscribe()
    patient_id, user_id, _ = patient_with_browser(conn, browser)
    return make_reminder(conn, patient_id, [user_id], time_of_day=time_of_day,
                         start_date="2026-11-24")


def test_the_tick_job_is_single_coalesced_and_tolerates_lateness(app):
    sched = scheduler.build_scheduler(app)
    [job] = sched.get_jobs()
    assert job.max_instances == 1 and job.coalesce is True
    interval = app.config["SCHEDULER_INTERVAL_SECONDS"]
    assert job.misfire_grace_time == interval
    assert job.trigger.interval == timedelta(seconds=interval)
    assert job.func is scheduler.tick and job.args == (app,)


def test_reminders_and_pruning_are_registered_tick_jobs():
    assert scheduler.run_due_reminders in scheduler.TICK_JOBS
    assert scheduler.prune_push_log in scheduler.TICK_JOBS
    before = tuple(scheduler.TICK_JOBS)
    assert scheduler.TICK_JOBS == before  # registering twice changes nothing


def test_a_tick_sends_due_reminders_on_the_apps_clock(app, conn, clock, push_service):
    due_reminder(conn, push_service, "09:00")
    clock.now = datetime(2026, 11, 24, 9, 0, 12, tzinfo=UTC)

    results = scheduler.tick(app)

    assert results["run_due_reminders"].sent == 1
    [got] = push_service.delivered()
    assert got.payload["type"] == "reminder" and got.problems == []


def test_a_failing_job_does_not_stop_the_others(app, conn, clock, push_service, monkeypatch,
                                                caplog):
    due_reminder(conn, push_service)
    clock.now = datetime(2026, 11, 24, 9, 0, 12, tzinfo=UTC)

    def broken_job(_app, _now):
        raise RuntimeError("escalation engine is broken")

    monkeypatch.setattr(scheduler, "TICK_JOBS", [broken_job, scheduler.run_due_reminders])
    results = scheduler.tick(app)

    assert results["broken_job"] is None and results["run_due_reminders"].sent == 1
    assert "scheduler job broken_job failed" in caplog.text


def test_run_due_reminders_takes_an_app_or_a_connection(app, conn, tmp_path, push_service):
    due_reminder(conn, push_service, "09:00")
    due_reminder(conn, push_service, "09:05")
    by_app = scheduler.run_due_reminders(app, datetime(2026, 11, 24, 9, 0, 5, tzinfo=UTC))
    pusher = make_pusher(tmp_path)
    by_conn = scheduler.run_due_reminders(storage_for(conn),
                                          datetime(2026, 11, 24, 9, 5, 5, tzinfo=UTC),
                                          pusher=pusher)
    pusher.close()
    assert (by_app.sent, by_conn.sent) == (1, 1)
    with pytest.raises(TypeError):
        scheduler.run_due_reminders(conn, datetime.now(UTC))


def test_the_blocking_scheduler_runs_the_tick_at_once_and_stops(app, conn, clock, push_service):
    due_reminder(conn, push_service, "09:00")
    clock.now = datetime(2026, 11, 24, 9, 0, 3, tzinfo=UTC)
    sched = scheduler.build_scheduler(app)
    runner = threading.Thread(target=scheduler.run_scheduler, args=(app,),
                              kwargs={"scheduler": sched})
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while not push_service.delivered() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sched.shutdown(wait=True)
        runner.join(timeout=20)
    assert not runner.is_alive()
    assert len(push_service.delivered()) == 1
    assert "doorstep_pusher" not in app.extensions  # its HTTP session was closed


def test_the_scheduler_refuses_to_start_without_vapid_keys(app):
    vapid.key_path(app.config["INSTANCE"]).unlink()
    with pytest.raises(vapid.VapidKeyMissing):
        scheduler.run_scheduler(app)


def test_old_delivery_log_rows_and_occurrences_are_pruned(app, conn):
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    old, recent = iso(now - timedelta(days=91)), iso(now - timedelta(days=1))
    for n, stamp in enumerate([old, recent]):
        conn.execute(
            "INSERT INTO push_deliveries (notification_type, notification_id, subscription_id,"
            " status, attempts, started_at, finished_at) VALUES ('reminder', ?, 's', "
            "'delivered', 1, ?, ?)", (f"n{n}", stamp, stamp))
        conn.execute(
            "INSERT INTO reminder_occurrences (id, reminder_id, local_date, due_at, status,"
            " claimed_by, claimed_at) VALUES (?, ?, ?, ?, 'sent', 'x', ?)",
            (f"o{n}", f"r{n}", stamp[:10], stamp, stamp))

    assert scheduler.prune_push_log(app, now) == 2
    assert scheduler.prune_push_log(app, now + timedelta(minutes=1)) == 0  # hourly at most
    assert [r[0] for r in conn.execute("SELECT notification_id FROM push_deliveries")] == ["n1"]
    assert [r[0] for r in conn.execute("SELECT id FROM reminder_occurrences")] == ["o1"]


# -- the real processes -----------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _env(tmp_path):
    return {**os.environ, "DOORSTEP_INSTANCE": str(tmp_path / "instance"),
            "PYTHONPATH": str(ROOT)}


def _imported_by_a_web_worker(tmp_path, *prefixes):
    """Runs create_app() in a fresh interpreter; prints the modules it imported."""
    code = ("import sys; from server.app import create_app; create_app();"
            f" print(sorted(m for m in sys.modules if m.startswith({prefixes!r})))")
    return subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)


def test_web_workers_never_start_the_scheduler(tmp_path):
    out = _imported_by_a_web_worker(tmp_path, "apscheduler", "server.jobs.scheduler")
    assert out.stdout.strip() == "[]"


def test_doorstep_scheduler_sends_a_due_reminder_and_stops_on_sigterm(tmp_path, push_service):
    env = _env(tmp_path)
    subprocess.run([sys.executable, "-m", "server.cli", "init"], env=env, cwd=ROOT,
                   check=True, capture_output=True, timeout=60)
    conn = db.connect(tmp_path / "instance" / "doorstep.db")
    london = datetime.now(ZoneInfo("Europe/London"))
    browser = push_service.subscribe()
    patient_id, user_id, _ = patient_with_browser(conn, browser)
    make_reminder(conn, patient_id, [user_id], time_of_day=london.strftime("%H:%M"),
                  start_date=london.date().isoformat())
    conn.close()

    process = subprocess.Popen([sys.executable, "-m", "server.cli", "scheduler"], env=env,
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not push_service.delivered() and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
        output = process.stdout.read().decode() if process.stdout else ""
        if process.stdout:
            process.stdout.close()
    assert process.returncode == 0, output
    [got] = push_service.delivered()
    assert got.payload["type"] == "reminder" and got.problems == []


def test_web_workers_never_import_the_jobs_or_the_scheduler(tmp_path):
    out = _imported_by_a_web_worker(tmp_path, "apscheduler", "server.jobs.scheduler",
                                    "server.jobs", "server.escalation.scans")
    assert out.stdout.strip() == "[]"


def test_the_tick_runs_the_explicit_job_list_in_order(app, clock):
    from server import jobs

    assert scheduler.TICK_JOBS is jobs.TICK_JOBS and isinstance(jobs.TICK_JOBS, tuple)
    names = [job.__name__ for job in jobs.TICK_JOBS]
    assert names == ["run_due_reminders", "prune_push_log", "run_escalation_rules",
                     "send_escalation_notices"]
    assert list(scheduler.tick(app, clock.now)) == names

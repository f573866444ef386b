"""Two schedulers on one database send each occurrence exactly once.

The push service counts decrypted messages per occurrence id: that is what patients'
phones would show. Both threads (separate connections) and separate processes race.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from push_factories import make_db, make_pusher, make_reminder, patient_with_browser
from push_service import push_service_fixture  # noqa: F401

from server.notifications.reminders import run_due
from storage import open_storage

START = datetime(2026, 11, 24, 8, 59, tzinfo=UTC)


def seed(conn, push_service, count):
    """``count`` patients, each with a reminder at 09:00, 09:01 or 09:02."""
    for n in range(count):
        patient_id, user_id, _ = patient_with_browser(conn, push_service.subscribe())
        make_reminder(conn, patient_id, [user_id], time_of_day=f"09:0{n % 3}",
                      start_date="2026-11-24")


def ticks():
    return [START + timedelta(seconds=15 * i) for i in range(16)]  # 08:59 … 09:02:45


def assert_each_sent_once(conn, push_service, count):
    delivered = Counter(r.payload["id"] for r in push_service.delivered())
    assert len(delivered) == count
    assert set(delivered.values()) == {1}
    assert push_service.problems() == []
    rows = conn.execute("SELECT status, count(*) FROM reminder_occurrences GROUP BY status")
    assert dict(rows.fetchall()) == {"sent": count}
    assert conn.execute("SELECT count(*) FROM push_deliveries").fetchone()[0] == count


def test_two_scheduler_threads_send_each_occurrence_once(tmp_path, push_service):
    path = tmp_path / "race.db"
    conn = make_db(path)
    seed(conn, push_service, 60)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def scheduler(name):
        own = open_storage(str(path))
        pusher = make_pusher(tmp_path, pool_size=4)
        try:
            for now in ticks():
                barrier.wait(timeout=30)
                run_due(own, pusher, now, instance=name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()
        finally:
            pusher.close()
            own.close()

    threads = [threading.Thread(target=scheduler, args=(f"s{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert_each_sent_once(conn, push_service, 60)


def _scheduler_process(db_path, instance_path, name, barrier):
    # Runs in a fresh interpreter: its own connection, Pusher and HTTP session.
    from server.notifications import vapid
    from server.notifications import webpush as notify
    from server.notifications.reminders import run_due as run
    from storage import open_storage

    pusher = notify.Pusher(vapid=vapid.load_vapid(instance_path),
                           subject="mailto:doorstep-admin@example.org",
                           sleep=lambda _seconds: None, pool_size=4)
    conn = open_storage(db_path)
    for now in ticks():
        barrier.wait(timeout=60)  # tick together, like two schedulers on one clock
        run(conn, pusher, now, instance=name)
    conn.close()
    pusher.close()


def test_two_scheduler_processes_send_each_occurrence_once(tmp_path, push_service):
    path = tmp_path / "race.db"
    conn = make_db(path)
    make_pusher(tmp_path).close()  # creates the instance's VAPID key
    seed(conn, push_service, 45)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    processes = [
        context.Process(target=_scheduler_process,
                        args=(str(path), str(tmp_path / "instance"), f"p{i}", barrier))
        for i in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0]
    assert_each_sent_once(conn, push_service, 45)

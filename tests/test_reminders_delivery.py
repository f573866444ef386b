"""Reminder occurrences sent through the local push service, on a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from push_factories import (
    make_carer_link,
    make_db,
    make_goal_log,
    make_patient,
    make_pusher,
    make_record,
    make_reminder,
    make_user,
    patient_with_browser,
    run_due,
    subscribe,
    subscription_of,
)
from push_service import push_service_fixture  # noqa: F401

from server.clock import iso
from server.notifications import webpush as notify
from server.notifications.reminders import ReminderSettings, occurrence_id


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def conn(tmp_path):
    connection = make_db(tmp_path / "reminders.db")
    yield connection
    connection.close()


@pytest.fixture
def pusher(tmp_path):
    sender = make_pusher(tmp_path)
    yield sender
    sender.close()


@pytest.fixture
def patient(conn, push_service):
    """A patient whose own account is subscribed on one browser."""
    browser = push_service.subscribe()
    patient_id, user_id, sub_id = patient_with_browser(conn, browser)
    return {"id": patient_id, "user": user_id, "browser": browser, "sub": sub_id}


def occurrences(conn):
    return [dict(r) for r in conn.execute(
        "SELECT * FROM reminder_occurrences ORDER BY due_at, reminder_id")]


def statuses(conn):
    return [r["status"] for r in occurrences(conn)]


# -- sent once, at the right instant ---------------------------------------------------


def test_a_due_reminder_is_sent_once_with_its_own_words_and_nothing_else(
        conn, pusher, push_service, patient):
    reminder_id = make_reminder(conn, patient["id"], [patient["user"]], time_of_day="09:00",
                                title="Stretches", body="Your morning stretches",
                                start_date="2026-11-24")

    assert run_due(conn, pusher, utc(2026, 11, 24, 8, 59, 30)).claimed == 0
    report = run_due(conn, pusher, utc(2026, 11, 24, 9, 0, 10))
    again = run_due(conn, pusher, utc(2026, 11, 24, 9, 0, 40))

    assert (report.sent, report.delivered, again.claimed) == (1, 1, 0)
    [got] = push_service.delivered()
    occ_id = occurrence_id(reminder_id, datetime(2026, 11, 24).date())
    assert got.payload == {"type": "reminder", "title": "Stretches",
                           "body": "Your morning stretches", "url": "/goals", "id": occ_id}
    assert got.ttl == str(4 * 3600) and got.urgency == "normal"
    assert got.topic == notify.topic_for("reminder", reminder_id)
    assert got.problems == []
    [occ] = occurrences(conn)
    assert occ["id"] == occ_id and occ["status"] == "sent"
    assert occ["due_at"] == iso(utc(2026, 11, 24, 9, 0)) and occ["delivered"] == 1
    [delivery] = conn.execute("SELECT * FROM push_deliveries").fetchall()
    assert delivery["notification_type"] == "reminder" and delivery["notification_id"] == occ_id


def tick_through(conn, pusher, start, end, step=timedelta(seconds=30)):
    now = start
    while now <= end:
        run_due(conn, pusher, now)
        now += step


def test_spring_forward_0130_fires_once_at_0230_bst(conn, pusher, push_service, patient):
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="01:30",
                  start_date="2026-03-29")
    tick_through(conn, pusher, utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 3, 0))
    [got] = push_service.delivered()
    [occ] = occurrences(conn)
    assert occ["due_at"] == iso(utc(2026, 3, 29, 1, 30)) and occ["local_date"] == "2026-03-29"
    assert occ["claimed_at"] == iso(utc(2026, 3, 29, 1, 30))  # the first tick at/after due
    assert got.payload["id"] == occ["id"]


def test_autumn_back_0130_fires_once_at_the_first_0130_bst(conn, pusher, push_service, patient):
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="01:30",
                  start_date="2026-10-25")
    tick_through(conn, pusher, utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0))
    assert len(push_service.delivered()) == 1
    [occ] = occurrences(conn)
    assert occ["due_at"] == iso(utc(2026, 10, 25, 0, 30))
    assert occ["claimed_at"] == iso(utc(2026, 10, 25, 0, 30))


@pytest.mark.parametrize(("change_day", "expected_utc"), [
    ("2026-03-29", utc(2026, 3, 29, 1, 30)),
    ("2026-10-25", utc(2026, 10, 25, 0, 30)),
])
def test_days_of_ticking_across_a_clock_change_send_one_a_day(
        conn, pusher, push_service, patient, change_day, expected_utc):
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="01:30",
                  start_date="2026-01-01")
    day = datetime.fromisoformat(change_day).replace(tzinfo=UTC)
    tick_through(conn, pusher, day - timedelta(days=2), day + timedelta(days=2),
                 step=timedelta(minutes=2))
    sent = [o for o in occurrences(conn) if o["status"] == "sent"]
    assert [o["local_date"] for o in sent] == [
        (day + timedelta(days=n)).date().isoformat() for n in (-2, -1, 0, 1)]
    assert sent[2]["due_at"] == iso(expected_utc)
    assert len(sent) == len(push_service.delivered()) == len(push_service.received) == 4
    # The day before ticking began is within the look-back window: recorded, not sent.
    assert statuses(conn).count("missed") == 1


def test_a_week_of_ticks_sends_each_chosen_weekday_once(conn, pusher, push_service, patient):
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="18:15",
                  days_of_week=[2, 4])  # Tuesday, Thursday
    tick_through(conn, pusher, utc(2026, 11, 23, 0, 0), utc(2026, 11, 30, 0, 0),
                 step=timedelta(minutes=5))
    assert [o["local_date"] for o in occurrences(conn)] == ["2026-11-24", "2026-11-26"]
    assert statuses(conn) == ["sent", "sent"]
    assert len(push_service.delivered()) == 2


def test_start_and_end_dates_bound_the_sends(conn, pusher, push_service, patient):
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="10:00",
                  start_date="2026-11-25", end_date="2026-11-26")
    tick_through(conn, pusher, utc(2026, 11, 23, 0, 0), utc(2026, 11, 29, 0, 0),
                 step=timedelta(minutes=10))
    assert [o["local_date"] for o in occurrences(conn)] == ["2026-11-25", "2026-11-26"]


# -- missed ---------------------------------------------------------------------------


@pytest.mark.parametrize(("late", "expected", "sends"), [
    (timedelta(minutes=29), "sent", 1),
    (timedelta(minutes=30), "sent", 1),
    (timedelta(minutes=31), "missed", 0),
    (timedelta(hours=5), "missed", 0),
])
def test_found_more_than_30_minutes_late_is_missed_not_sent(
        conn, pusher, push_service, patient, late, expected, sends):
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="09:00")
    report = run_due(conn, pusher, utc(2026, 11, 24, 9, 0) + late)
    assert statuses(conn) == [expected]
    assert len(push_service.received) == sends
    assert report.missed == (expected == "missed")
    run_due(conn, pusher, utc(2026, 11, 24, 9, 0) + late + timedelta(minutes=1))
    assert len(push_service.received) == sends  # a missed one is never sent later


def test_the_missed_threshold_is_configurable(conn, pusher, push_service, patient):
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="09:00")
    settings = ReminderSettings(missed_after=timedelta(minutes=5))
    run_due(conn, pusher, utc(2026, 11, 24, 9, 6), settings)
    assert statuses(conn) == ["missed"]


# -- skipped when the goal is already done ---------------------------------------------


@pytest.mark.parametrize(("log", "expected"), [
    ({"done": True}, "skipped"),
    ({"done": True, "entered_in_error": True, "void_reason": "wrong patient"}, "sent"),
    ({"done": False}, "sent"),
    ({"done": True, "date": "2026-11-23"}, "sent"),
    ({"done": True, "goal_id": "another-goal"}, "sent"),
    ({"done": True, "deleted": True}, "sent"),
    (None, "sent"),
])
def test_a_goal_already_logged_done_that_day_skips_the_reminder(
        conn, pusher, push_service, patient, log, expected):
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="19:00", goal_id="goal-1")
    if log is not None:
        log = dict(log)
        deleted = log.pop("deleted", False)
        day = log.pop("date", "2026-11-24")
        goal_id = log.pop("goal_id", "goal-1")
        make_record(conn, "goal_log", {"goal_id": goal_id, "patient_id": patient["id"],
                                       "date": day, **log}, deleted=deleted)
    run_due(conn, pusher, utc(2026, 11, 24, 19, 0, 5))
    assert statuses(conn) == [expected]
    assert len(push_service.delivered()) == (expected == "sent")


def test_the_done_day_is_the_reminders_local_date(conn, pusher, push_service, patient):
    # 00:30 London in June is 23:30 UTC the day before: the log for the local date counts.
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="00:30", goal_id="g")
    make_goal_log(conn, patient["id"], "g", "2026-06-09")
    run_due(conn, pusher, utc(2026, 6, 9, 23, 30, 5))
    assert statuses(conn) == ["sent"]
    make_goal_log(conn, patient["id"], "g", "2026-06-11")
    run_due(conn, pusher, utc(2026, 6, 10, 23, 30, 5))
    assert statuses(conn) == ["sent", "skipped"]


# -- never fire -----------------------------------------------------------------------


def test_inactive_deleted_and_orphaned_reminders_never_fire(conn, pusher, push_service, patient):
    make_reminder(conn, patient["id"], [patient["user"]], active=False)
    make_reminder(conn, patient["id"], [patient["user"]], deleted=True)
    gone_patient = make_patient(conn)
    conn.execute("UPDATE records SET deleted = 1 WHERE id = ?", (gone_patient,))
    make_reminder(conn, gone_patient, [patient["user"]])
    make_reminder(conn, patient["id"], [patient["user"]], time_of_day="nine o'clock")
    tick_through(conn, pusher, utc(2026, 11, 24, 8, 50), utc(2026, 11, 24, 9, 10))
    assert occurrences(conn) == [] and push_service.received == []


# -- recipients -----------------------------------------------------------------------


def test_patient_and_linked_carer_both_receive_it(conn, pusher, push_service, patient):
    carer = make_user(conn, "carer")
    carer_browser = push_service.subscribe()
    subscribe(conn, carer, carer_browser)
    make_carer_link(conn, patient["id"], carer)
    make_reminder(conn, patient["id"], [patient["user"], carer])

    report = run_due(conn, pusher, utc(2026, 11, 24, 9, 0, 5))

    assert report.deliveries == 2 and report.delivered == 2 and report.sent == 1
    assert {r.token for r in push_service.delivered()} == {patient["browser"].token,
                                                          carer_browser.token}
    assert len({r.payload["id"] for r in push_service.delivered()}) == 1


@pytest.mark.parametrize("case", ["no_link", "inactive_link", "objection", "nurse",
                                  "other_patient", "disabled"])
def test_recipients_who_may_no_longer_see_the_patient_get_nothing(
        conn, pusher, push_service, case):
    objection = case == "objection"
    patient_id = make_patient(conn, sharing_objection=objection)
    if case in ("no_link", "inactive_link", "objection"):
        user = make_user(conn, "carer")
        if case != "no_link":
            make_carer_link(conn, patient_id, user, active=case != "inactive_link")
    elif case == "nurse":
        user = make_user(conn, "nurse")
    elif case == "other_patient":
        user = make_user(conn, "patient", patient_id=make_patient(conn))
    else:
        user = make_user(conn, "patient", patient_id=patient_id, active=False)
    subscribe(conn, user, push_service.subscribe())
    make_reminder(conn, patient_id, [user])

    run_due(conn, pusher, utc(2026, 11, 24, 9, 0, 5))

    assert push_service.received == []
    assert statuses(conn) == ["no_subscribers"]


def test_every_subscription_gone_marks_the_occurrence_failed(conn, pusher, push_service, patient):
    push_service.unsubscribe(patient["browser"])
    make_reminder(conn, patient["id"], [patient["user"]])
    report = run_due(conn, pusher, utc(2026, 11, 24, 9, 0, 5))
    assert report.failed == 1 and statuses(conn) == ["failed"]
    assert subscription_of(conn, patient["sub"]) is None


# -- crashed sender --------------------------------------------------------------------


def test_a_claim_whose_sender_died_is_abandoned_never_resent(conn, pusher, push_service, patient):
    reminder_id = make_reminder(conn, patient["id"], [patient["user"]])
    due = utc(2026, 11, 24, 9, 0)
    conn.execute(
        "INSERT INTO reminder_occurrences (id, reminder_id, local_date, due_at, status,"
        " claimed_by, claimed_at) VALUES (?,?,?,?,?,?,?)",
        (occurrence_id(reminder_id, due.date()), reminder_id, "2026-11-24", iso(due),
         "claimed", "dead-host:1", iso(due)),
    )
    assert run_due(conn, pusher, due + timedelta(minutes=10)).abandoned == 0
    report = run_due(conn, pusher, due + timedelta(minutes=31))
    assert report.abandoned == 1 and statuses(conn) == ["abandoned"]
    assert push_service.received == []

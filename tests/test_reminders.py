"""When reminder occurrences are due: zones, clock changes, weekdays, start and end dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.notifications.reminders import BadReminder, Reminder, occurrence_id, occurrences_between


def reminder(**overrides):
    data = {"patient_id": "p1", "recipient_ids": ["u1"], "title": "Walk", "body": "Go",
            "time_of_day": "09:00", "days_of_week": [1, 2, 3, 4, 5, 6, 7],
            "timezone": "Europe/London", "start_date": "2026-01-01", "active": True}
    data.update(overrides)
    return Reminder.from_record("r1", data)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def due_in(rem, after, until):
    return [(o.local_date.isoformat(), o.due_at) for o in occurrences_between(rem, after, until)]


# -- clocks change ------------------------------------------------------------------


def test_a_time_skipped_when_clocks_go_forward_fires_after_the_gap():
    # 29 March 2026, London: 01:00 GMT jumps to 02:00 BST; 01:30 never happens.
    rem = reminder(time_of_day="01:30")
    assert rem.due_at(date(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)  # = 02:30 BST
    local = rem.due_at(date(2026, 3, 29)).astimezone(rem.zone)
    assert (local.hour, local.minute, local.tzname()) == (2, 30, "BST")
    assert due_in(rem, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) == [
        ("2026-03-29", utc(2026, 3, 29, 1, 30))]


def test_a_time_that_happens_twice_when_clocks_go_back_fires_once_at_the_first():
    # 25 October 2026, London: 02:00 BST falls back to 01:00 GMT; 01:30 happens twice.
    rem = reminder(time_of_day="01:30")
    assert rem.due_at(date(2026, 10, 25)) == utc(2026, 10, 25, 0, 30)  # 01:30 BST
    assert due_in(rem, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)) == [
        ("2026-10-25", utc(2026, 10, 25, 0, 30))]
    # Nothing at the second 01:30 (GMT, 01:30 UTC).
    assert due_in(rem, utc(2026, 10, 25, 0, 31), utc(2026, 10, 25, 2)) == []


@pytest.mark.parametrize(("day", "time_of_day", "expected_utc"), [
    ("2026-03-28", "09:00", utc(2026, 3, 28, 9, 0)),   # GMT the day before
    ("2026-03-29", "00:59", utc(2026, 3, 29, 0, 59)),  # just before the gap
    ("2026-03-29", "02:00", utc(2026, 3, 29, 1, 0)),   # first minute after it
    ("2026-03-29", "09:00", utc(2026, 3, 29, 8, 0)),   # BST
    ("2026-10-25", "00:59", utc(2026, 10, 24, 23, 59)),
    ("2026-10-25", "02:00", utc(2026, 10, 25, 2, 0)),  # GMT again
    ("2026-10-25", "09:00", utc(2026, 10, 25, 9, 0)),
])
def test_wall_times_around_the_changes(day, time_of_day, expected_utc):
    assert reminder(time_of_day=time_of_day).due_at(date.fromisoformat(day)) == expected_utc


def test_other_zones_use_their_own_rules():
    # New York moved its clocks on 8 March 2026 at 02:00: 02:30 does not exist there.
    rem = reminder(time_of_day="02:30", timezone="America/New_York")
    assert rem.due_at(date(2026, 3, 8)) == utc(2026, 3, 8, 7, 30)  # 03:30 EDT
    assert rem.due_at(date(2026, 3, 9)) == utc(2026, 3, 9, 6, 30)  # 02:30 EDT
    kolkata = reminder(time_of_day="09:00", timezone="Asia/Kolkata")
    assert kolkata.due_at(date(2026, 6, 1)) == utc(2026, 6, 1, 3, 30)


def test_a_missing_timezone_means_london():
    rem = reminder(timezone=None, time_of_day="12:00")
    assert rem.due_at(date(2026, 7, 1)) == utc(2026, 7, 1, 11, 0)


def test_every_day_of_a_week_across_the_spring_change_fires_once():
    rem = reminder(time_of_day="01:30")
    found = due_in(rem, utc(2026, 3, 26, 0), utc(2026, 4, 2, 0))
    assert [d for d, _ in found] == [f"2026-03-{n}" for n in range(26, 32)] + ["2026-04-01"]
    assert len({due for _, due in found}) == 7


# -- which days ---------------------------------------------------------------------


def test_only_on_the_chosen_weekdays():
    rem = reminder(days_of_week=[1, 3, 5])  # Monday, Wednesday, Friday
    found = due_in(rem, utc(2026, 11, 22, 0), utc(2026, 12, 6, 0))  # two weeks from Sunday
    days = [date.fromisoformat(d) for d, _ in found]
    assert [d.isoweekday() for d in days] == [1, 3, 5, 1, 3, 5]
    assert days[0] == date(2026, 11, 23)


def test_sunday_is_seven():
    rem = reminder(days_of_week=[7])
    assert [d for d, _ in due_in(rem, utc(2026, 11, 23), utc(2026, 12, 7))] == [
        "2026-11-29", "2026-12-06"]


def test_start_and_end_dates_are_inclusive_local_dates():
    rem = reminder(start_date="2026-11-24", end_date="2026-11-26")
    assert [d for d, _ in due_in(rem, utc(2026, 11, 20), utc(2026, 11, 30))] == [
        "2026-11-24", "2026-11-25", "2026-11-26"]


def test_dates_are_the_reminders_local_dates():
    # 00:30 in London in summer is 23:30 UTC the day before.
    rem = reminder(time_of_day="00:30", start_date="2026-06-10", end_date="2026-06-10")
    assert due_in(rem, utc(2026, 6, 8), utc(2026, 6, 12)) == [
        ("2026-06-10", utc(2026, 6, 9, 23, 30))]


def test_the_window_is_open_at_the_start_and_closed_at_the_end():
    rem = reminder(time_of_day="09:00")
    due = utc(2026, 11, 24, 9, 0)
    assert due_in(rem, due - timedelta(minutes=1), due) == [("2026-11-24", due)]
    assert due_in(rem, due, due + timedelta(minutes=1)) == []


def test_an_inactive_reminder_has_no_occurrences():
    rem = reminder(active=False)
    assert due_in(rem, utc(2026, 11, 1), utc(2026, 12, 1)) == []


@pytest.mark.parametrize("bad", [
    {"time_of_day": "9am"}, {"time_of_day": "25:00"}, {"timezone": "Mars/Olympus_Mons"},
    {"days_of_week": [0, 8]}, {"start_date": "24/11/2026"}, {"time_of_day": None},
])
def test_unreadable_schedules_are_refused(bad):
    with pytest.raises(BadReminder):
        reminder(**bad)


def test_occurrence_ids_are_stable_and_distinct():
    assert occurrence_id("r1", date(2026, 3, 29)) == occurrence_id("r1", date(2026, 3, 29))
    assert occurrence_id("r1", date(2026, 3, 29)) != occurrence_id("r1", date(2026, 3, 30))
    assert occurrence_id("r1", date(2026, 3, 29)) != occurrence_id("r2", date(2026, 3, 29))

"""Escalation notices by Web Push (SPEC §5, §6), received and decrypted by the local push
service: who gets them, what they say (nothing identifying), re-notification timing on
the controlled clock, send-once claims, retries, and the time from a carer's fall report
to the co-ordinator's notification."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import dbtools as db
import pytest
from conftest import (
    login,
    make_patient,
    make_record,
    make_team,
    make_user,
    migrated_app,
    test_config,
)
from push_factories import make_pusher
from push_service import push_service_fixture  # noqa: F401
from test_escalation_rules import (
    NOW,
    escalations,
    fall,
    falls_assessment,
    make_world,
    notices,
    visit,
    write,
)
from test_sync_http import mutation, push

from server import database
from server.escalation.rules import Settings
from server.jobs import scheduler
from server.notifications import escalation_notices, vapid
from server.notifications import webpush as notify

PATIENT_WORDS = ("Edith", "Crawley", "Mill Lane", "fall", "injur", "welfare", "Tripped")


@pytest.fixture
def app(app):
    """The shared app, with the VAPID keys `doorstep init` would make."""
    vapid.ensure_vapid_keys(app.config["INSTANCE"])
    yield app
    for key in ("doorstep_pusher", "doorstep_escalation_pusher"):
        pusher = app.extensions.pop(key, None)
        if pusher is not None:
            pusher.close()


@pytest.fixture
def pusher(tmp_path):
    """A Pusher with the app's VAPID key whose back-off sleeps are only recorded."""
    sender = make_pusher(tmp_path)
    yield sender
    sender.close()


def subscribe(client, user, push_service):
    """Log the user in on a new device and subscribe its browser; returns the browser."""
    session = login(client, user.username, device=f"phone {uuid.uuid4().hex[:6]}")
    browser = push_service.subscribe()
    answer = session.post("/api/v1/push/subscriptions", json=browser.as_json())
    assert answer.status_code in (200, 201), answer.json
    return browser


@pytest.fixture
def world(app, client, push_service):
    w = make_world(app)
    w["coordinator_browser"] = subscribe(client, w["coordinator"], push_service)
    return w


def send(app, pusher, now, **kw):
    with app.app_context():
        return escalation_notices.send_due(database.storage(app), pusher, now,
                                           Settings.from_config(app.config), **kw)


def all_records(app, entity):
    conn = db.connect(app.config["DATABASE"])
    try:
        rows = conn.execute("SELECT id, data FROM records WHERE entity = ?", (entity,))
        return [{"id": r["id"], **json.loads(r["data"])} for r in rows]
    finally:
        conn.close()


def arrived(push_service, browser):
    """Notifications this browser would show: answered 201 and decrypted."""
    return [r for r in push_service.for_endpoint(browser)
            if r.answered == 201 and r.plaintext is not None]


# -- who and what -----------------------------------------------------------------------


def test_a_new_escalation_reaches_the_coordinators_and_the_care_coordinator_only(
        app, client, push_service, pusher, world):
    nurse_browser = subscribe(client, world["nurse"], push_service)  # the care co-ordinator
    other_nurse = subscribe(client, make_user(app, "nurse", teams=(world["team"],)),
                            push_service)
    second_coordinator = subscribe(
        client, make_user(app, "coordinator", teams=(world["team"],)), push_service)
    other_team = subscribe(client, make_user(app, "coordinator", teams=(make_team(app),)),
                           push_service)
    make_record(app, "self_report", fall(world["patient"], injured=True))
    [esc] = escalations(app)

    report = send(app, pusher, NOW)

    assert report.sent_ids == [esc["id"]] and report.delivered == 3
    for browser in (world["coordinator_browser"], nurse_browser, second_coordinator):
        [got] = arrived(push_service, browser)
        assert got.payload == {
            "type": "escalation", "title": "Emergency: a patient needs help now",
            "body": "A new escalation. Open Doorstep to see and acknowledge it.",
            "url": f"/escalations/{esc['id']}", "id": esc["id"]}
        assert got.ttl == "86400" and got.urgency == "high"
        assert got.topic == notify.topic_for("escalation", esc["id"])
    assert push_service.for_endpoint(other_nurse) == []
    assert push_service.for_endpoint(other_team) == []
    assert push_service.problems() == []
    assert [r["status"] for r in notices(app, esc["id"]) if r["kind"] == "opened"] == ["sent"]


def test_payloads_carry_no_patient_identifier_or_clinical_detail(
        app, push_service, pusher, world):
    patient = world["patient"]
    [nhs_number] = [e["nhs_number"] for e in all_records(app, "patient") if e["id"] == patient]
    make_record(app, "self_report", fall(patient, injured=True, unable_to_get_up=True))
    visit_id = make_record(app, "visit", visit(patient))
    write(app, "visit", {"status": "no_access"}, visit_id)
    send(app, pusher, NOW)
    got = arrived(push_service, world["coordinator_browser"])
    assert len(got) == 2
    spaced = f"{nhs_number[:3]} {nhs_number[3:6]} {nhs_number[6:]}"
    for notification in got:
        text = notification.plaintext.decode().lower()
        assert set(notification.payload) == {"type", "title", "body", "url", "id"}
        for word in (*PATIENT_WORDS, nhs_number, spaced, patient, visit_id):
            assert word.lower() not in text, word


def test_routine_escalations_are_normal_urgency(app, push_service, pusher, world):
    make_record(app, "falls_assessment",
                falls_assessment(world["patient"], feels_unsteady=True, tug_seconds=20.0))
    send(app, pusher, NOW)
    [got] = arrived(push_service, world["coordinator_browser"])
    assert got.urgency == "normal"
    assert got.payload["title"] == "Routine: a patient needs a review"


def test_a_care_coordinator_outside_the_team_or_disabled_gets_nothing(
        app, client, push_service, pusher, world):
    outsider = make_user(app, "nurse", teams=(make_team(app),))
    outsider_browser = subscribe(client, outsider, push_service)
    write(app, "patient", {"care_coordinator_id": outsider.id}, world["patient"])
    make_record(app, "self_report", fall(world["patient"]))
    send(app, pusher, NOW)
    assert push_service.for_endpoint(outsider_browser) == []
    assert len(arrived(push_service, world["coordinator_browser"])) == 1


def test_with_no_subscription_the_notice_is_recorded_and_not_retried(app, pusher):
    world = make_world(app)  # nobody subscribed
    make_record(app, "self_report", fall(world["patient"]))
    assert send(app, pusher, NOW).no_recipients == 1
    assert send(app, pusher, NOW + timedelta(minutes=1)).claimed == 0
    assert [r["status"] for r in notices(app) if r["kind"] == "opened"] == ["no_recipients"]


def test_the_escalation_record_says_when_it_was_raised_and_last_notified(
        app, pusher, world):
    """The inbox shows both offline, so they are on the synced record (issue 14)."""
    make_record(app, "self_report", fall(world["patient"]))
    [esc] = escalations(app)
    assert esc["raised_at"] and esc["notified_at"] is None
    send(app, pusher, NOW)
    [esc] = escalations(app)
    assert esc["notified_at"] == NOW.isoformat(timespec="microseconds")


def test_notices_of_a_patient_deleted_meanwhile_are_cancelled(app, push_service, pusher, world):
    make_record(app, "self_report", fall(world["patient"]))
    write(app, "patient", {}, world["patient"], op="delete")
    report = send(app, pusher, NOW)
    assert (report.claimed, report.cancelled) == (0, 1)
    assert push_service.received == []


# -- re-notification timing -----------------------------------------------------------------


def raise_urgent(app, world, now=NOW):
    ended = (now - timedelta(minutes=30)).isoformat()
    visit_id = make_record(app, "visit", visit(world["patient"], scheduled_end=ended))
    write(app, "visit", {"status": "no_access"}, visit_id)


def raise_emergency(app, world, now=NOW):
    make_record(app, "self_report", fall(world["patient"], unable_to_get_up=True))


def raise_routine(app, world, now=NOW):
    make_record(app, "activation_score", {"patient_id": world["patient"],
                                          "assessed_at": "2026-11-20T10:00:00+00:00",
                                          "score": 30.0})


def delivery_times(app, push_service, pusher, browser, start, expected, horizon):
    """Tick just before and at each expected time, then to the horizon; when did it arrive?"""
    checks = sorted({t for e in expected for t in (e - timedelta(seconds=1), e)} | {horizon})
    times = []
    for offset in checks:
        before = len(arrived(push_service, browser))
        send(app, pusher, start + offset)
        times += [offset] * (len(arrived(push_service, browser)) - before)
    return times


@pytest.mark.parametrize("raise_it, expected", [
    (raise_urgent, [timedelta(0), timedelta(minutes=30)]),
    (raise_emergency, [timedelta(0), timedelta(minutes=10), timedelta(minutes=20),
                       timedelta(minutes=30)]),
    (raise_routine, [timedelta(0), timedelta(hours=24)]),
])
@pytest.mark.parametrize("start", [
    NOW,
    datetime(2026, 11, 28, 23, 30, tzinfo=UTC),  # Saturday night: a 7-day service
], ids=["weekday", "saturday-night"])
def test_unacknowledged_escalations_are_notified_again_on_time(
        app, clock, push_service, pusher, world, raise_it, expected, start):
    clock.now = start
    raise_it(app, world, start)
    assert len(escalations(app)) == 1
    browser = world["coordinator_browser"]
    times = delivery_times(app, push_service, pusher, browser, start, expected,
                           horizon=timedelta(days=3))
    assert times == expected
    bodies = [r.payload["body"] for r in arrived(push_service, browser)]
    assert bodies[0].startswith("A new escalation")
    assert all(b.startswith("Still not acknowledged") for b in bodies[1:])
    topics = {r.topic for r in arrived(push_service, browser)}
    assert len(topics) == 1  # one collapse key per escalation


def test_re_notification_timing_is_configuration(tmp_path, clock, push_service, pusher):
    app = migrated_app(test_config(tmp_path, clock, ESCALATION_RENOTIFY_EMERGENCY_MINUTES=5,
                                 ESCALATION_RENOTIFY_EMERGENCY_TIMES=2))
    world = make_world(app)
    browser = subscribe(app.test_client(), world["coordinator"], push_service)
    raise_emergency(app, world)
    expected = [timedelta(0), timedelta(minutes=5), timedelta(minutes=10)]
    assert delivery_times(app, push_service, pusher, browser, NOW, expected,
                          horizon=timedelta(hours=1)) == expected


def test_acknowledging_stops_re_notification(app, client, push_service, pusher, world):
    raise_emergency(app, world)
    send(app, pusher, NOW)
    send(app, pusher, NOW + timedelta(minutes=10))
    [esc] = escalations(app)
    coord = login(client, world["coordinator"].username)
    assert coord.post(f"/api/v1/escalations/{esc['id']}/acknowledge").status_code == 200
    for minutes in (20, 30, 60, 24 * 60):
        send(app, pusher, NOW + timedelta(minutes=minutes))
    assert len(arrived(push_service, world["coordinator_browser"])) == 2
    assert [r["status"] for r in notices(app, esc["id"])] == [
        "sent", "sent", "cancelled", "cancelled"]


def test_an_occurrence_that_raises_severity_is_notified_at_once_and_rescheduled(
        app, clock, push_service, pusher, world):
    make_record(app, "self_report", fall(world["patient"]))  # urgent at 09:00
    send(app, pusher, NOW)
    clock.advance(minutes=5)
    make_record(app, "self_report", fall(world["patient"]))  # same severity: no notice
    assert send(app, pusher, clock.now).claimed == 0
    make_record(app, "self_report", fall(world["patient"], injured=True))  # emergency
    browser = world["coordinator_browser"]
    times = delivery_times(app, push_service, pusher, browser, NOW,
                           [timedelta(minutes=m) for m in (5, 15, 25, 35)],
                           horizon=timedelta(hours=3))
    assert times == [timedelta(minutes=m) for m in (5, 15, 25, 35)]
    got = arrived(push_service, browser)
    assert got[0].payload["title"].startswith("Urgent")
    assert got[1].payload["title"].startswith("Emergency")
    assert got[1].payload["body"].startswith("An escalation became more serious")
    [esc] = escalations(app)
    assert esc["occurrences"] == 3 and esc["severity"] == "emergency"


def test_falls_reported_together_are_one_new_notice_at_the_worst_severity(
        app, client, push_service, world):
    patient_user = make_user(app, "patient", patient_id=world["patient"])
    session = login(client, patient_user.username)
    answer = push(session,
                  mutation(1, "self_report", str(uuid.uuid4()), **fall(world["patient"])),
                  mutation(2, "self_report", str(uuid.uuid4()),
                           **fall(world["patient"], unable_to_get_up=True)))
    answer.close()
    [got] = arrived(push_service, world["coordinator_browser"])
    assert got.payload["title"].startswith("Emergency")
    assert got.payload["body"].startswith("A new escalation")
    [esc] = escalations(app)
    assert (esc["occurrences"], esc["severity"]) == (2, "emergency")


# -- sending once, and at least once --------------------------------------------------------------


def test_two_senders_at_once_send_each_notice_once(app, client, push_service, pusher, world):
    for _ in range(20):
        make_record(app, "self_report", fall(make_patient(app, world["team"]), injured=True))
    barrier = threading.Barrier(2)
    reports = []

    def sender(name):
        with app.app_context():
            barrier.wait()
            reports.append(escalation_notices.send_due(
                database.storage(app), pusher, NOW, Settings.from_config(app.config),
                instance=name))

    threads = [threading.Thread(target=sender, args=(n,)) for n in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = arrived(push_service, world["coordinator_browser"])
    assert len(got) == 20 and len({r.payload["id"] for r in got}) == 20
    assert sum(r.claimed for r in reports) == 20


def test_a_claim_whose_sender_died_is_sent_after_the_lease(app, push_service, pusher, world):
    raise_routine(app, world)
    with database.storage(app).write() as uow:
        escalation_notices.claim_due(uow, NOW, Settings.from_config(app.config), "dead",
                                     escalation_notices.SendReport())
    assert send(app, pusher, NOW + timedelta(minutes=29)).claimed == 0
    assert send(app, pusher, NOW + timedelta(minutes=31)).sent == 1
    assert len(arrived(push_service, world["coordinator_browser"])) == 1


def test_a_notice_no_push_service_accepted_is_retried_then_recorded_failed(
        app, push_service, pusher, world):
    raise_urgent(app, world)
    push_service.answer_next(5, 503)  # every try of the first pass
    first = send(app, pusher, NOW)
    assert (first.retrying, first.delivered) == (1, 0)
    second = send(app, pusher, NOW + timedelta(seconds=30))
    assert second.sent == 1
    assert len(arrived(push_service, world["coordinator_browser"])) == 1

    push_service.answer_next(15, 503)  # the re-notification fails on all 3 attempts
    for seconds in (0, 30, 60, 90):
        send(app, pusher, NOW + timedelta(minutes=30, seconds=seconds))
    [renotify] = [r for r in notices(app) if r["kind"] == "renotify"]
    assert (renotify["status"], renotify["attempts"]) == ("failed", 3)


# -- after a request, and from the scheduler ----------------------------------------------------


def test_a_nurses_no_access_push_is_notified_right_after_the_response(
        app, client, push_service, world):
    nurse = login(client, world["nurse"].username)
    visit_id = make_record(app, "visit", visit(world["patient"]))
    answer = push(nurse, mutation(1, "visit", visit_id, op="update", base=1,
                                  status="no_access"))
    assert answer.json["results"][0]["status"] == "applied"
    assert arrived(push_service, world["coordinator_browser"]) == []  # not before it is out
    answer.close()  # what the WSGI server does once the response is sent
    [got] = arrived(push_service, world["coordinator_browser"])
    assert got.payload["title"] == "Urgent: a patient needs attention"
    assert [r["status"] for r in notices(app) if r["kind"] == "opened"] == ["sent"]


def test_what_the_request_could_not_send_the_next_tick_does(app, client, push_service, world):
    nurse = login(client, world["nurse"].username)
    push_service.answer_next(2, 503)  # the prompt send's two quick tries
    answer = push(nurse, mutation(1, "self_report", str(uuid.uuid4()),
                                  **fall(world["patient"])))
    answer.close()
    assert arrived(push_service, world["coordinator_browser"]) == []
    [opened] = [r for r in notices(app) if r["kind"] == "opened"]
    assert (opened["status"], opened["attempts"]) == ("due", 1)
    results = scheduler.tick(app, NOW + timedelta(seconds=30))
    assert results["send_escalation_notices"].sent == 1
    assert len(arrived(push_service, world["coordinator_browser"])) == 1


def test_the_scheduler_tick_finds_a_missed_visit_and_notifies_it(app, push_service, world):
    make_record(app, "visit", visit(world["patient"], scheduled_end="2026-11-24T07:00:00+00:00"))
    results = scheduler.tick(app, NOW)
    assert results["run_escalation_rules"] == {"missed_visit": 1, "goal_not_logged": 0}
    assert results["send_escalation_notices"].sent == 1
    [got] = arrived(push_service, world["coordinator_browser"])
    assert got.payload["title"].startswith("Urgent")


def test_a_carers_fall_report_reaches_the_coordinator_end_to_end(
        app, client, push_service, world):
    carer = make_user(app, "carer")
    make_record(app, "carer_link", {"patient_id": world["patient"], "carer_user_id": carer.id,
                                    "relationship": "daughter",
                                    "consent_basis": "patient_consent"})
    session = login(client, carer.username, device="carer phone")
    report = fall(world["patient"], injured=True, details="Found on the kitchen floor")

    started = time.perf_counter()
    answer = push(session, mutation(1, "self_report", str(uuid.uuid4()), **report))
    answer.close()  # the response is out; the notice goes now
    got = arrived(push_service, world["coordinator_browser"])
    elapsed = time.perf_counter() - started

    assert answer.status_code == 200 and answer.json["results"][0]["status"] == "applied"
    [notification] = got
    [esc] = escalations(app)
    assert notification.payload["id"] == esc["id"] and esc["severity"] == "emergency"
    assert "kitchen" not in notification.plaintext.decode()
    print(f"\nfall report pushed by a carer -> co-ordinator's notification decrypted: "
          f"{elapsed * 1000:.1f} ms")
    assert elapsed < 5


# -- after commit, through the unit of work ------------------------------------------------------


def _fall_in_a_unit_of_work(app, world, *, fail):
    """A fall reported inside one request's unit of work, which commits or rolls back."""
    from server.records import engine as records
    from sync import SYSTEM, Mutation, apply_mutation

    with app.test_request_context("/api/v1/sync/push", method="POST"):
        try:
            with database.write() as uow:
                apply_mutation(uow.store, records.registry(), SYSTEM,
                               Mutation("self_report", str(uuid.uuid4()), "create",
                                        fall(world["patient"]), base_version=None))
                if fail:
                    raise RuntimeError("the push failed after the rule fired")
        except RuntimeError:
            pass
        response = app.process_response(app.response_class())
        response.close()  # the response is out


def test_the_first_notice_goes_out_once_the_unit_of_work_committed(app, push_service, world):
    _fall_in_a_unit_of_work(app, world, fail=False)
    [got] = arrived(push_service, world["coordinator_browser"])
    assert got.payload["body"].startswith("A new escalation")
    assert [r["status"] for r in notices(app) if r["kind"] == "opened"] == ["sent"]


def test_a_unit_of_work_rolled_back_queues_and_sends_nothing(app, push_service, world):
    _fall_in_a_unit_of_work(app, world, fail=True)
    assert push_service.received == [] and notices(app) == [] and escalations(app) == []

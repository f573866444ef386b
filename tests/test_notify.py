"""Web Push delivery against a local push service that verifies VAPID and decrypts.

Every answer a push service can give is exercised: delivered, gone, retried (with and
without Retry-After), given up, rejected. Sleeps are recorded, never taken.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from push_factories import (
    make_db,
    make_pusher,
    make_user,
    storage_for,
    subscribe,
    subscription_of,
)
from push_service import (  # noqa: F401 - fixtures
    DROP,
    Scripted,
    push_service_fixture,
    second_push_service_fixture,
)

from server.notifications import delivery
from server.notifications import webpush as notify

PAYLOAD = {"type": "reminder", "title": "Walk", "body": "Your daily walk", "url": "/goals",
           "id": "occ-1"}


@pytest.fixture
def conn(tmp_path):
    connection = make_db(tmp_path / "push.db")
    yield connection
    connection.close()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def pusher(tmp_path, sleeps):
    sender = make_pusher(tmp_path, sleeps)
    yield sender
    sender.close()


def one_subscription(conn, push_service):
    browser = push_service.subscribe()
    user_id = make_user(conn)
    sub_id = subscribe(conn, user_id, browser)
    return browser, subscription_of(conn, sub_id)


def deliveries(conn):
    return [dict(r) for r in conn.execute("SELECT * FROM push_deliveries ORDER BY id")]


def send_and_log(conn, pusher, sub, payload=PAYLOAD, **options):
    options.setdefault("ttl", 14400)
    job = notify.PushJob("reminder", payload["id"], sub, payload, **options)
    results = delivery.deliver(storage_for(conn), pusher, [job])
    return results[0][1]


# -- delivered ----------------------------------------------------------------------


def test_delivered_message_decrypts_to_the_payload_with_verified_vapid(
        conn, pusher, push_service):
    browser, sub = one_subscription(conn, push_service)

    outcome = send_and_log(conn, pusher, sub, ttl=14400, urgency="normal",
                           topic=notify.topic_for("reminder", "r1"))

    assert outcome.status == "delivered" and outcome.http_status == 201
    assert outcome.attempts == 1 and outcome.waits == ()
    [got] = push_service.for_endpoint(browser)
    assert got.problems == []  # JWT signature, aud, exp, sub, TTL, Urgency, Topic all fine
    assert got.payload == PAYLOAD
    assert got.ttl == "14400" and got.urgency == "normal"
    assert got.topic == notify.topic_for("reminder", "r1") and len(got.topic) <= 32
    assert got.claims["aud"] == push_service.origin
    assert got.claims["sub"].startswith("mailto:")
    now = datetime.now(UTC).timestamp()
    assert now < got.claims["exp"] <= now + 24 * 3600
    assert got.vapid_key == notify.vapid.public_key_of(pusher.vapid)
    [row] = deliveries(conn)
    assert row["status"] == "delivered" and row["http_status"] == 201 and row["attempts"] == 1
    assert row["notification_type"] == "reminder" and row["notification_id"] == "occ-1"
    assert row["subscription_id"] == sub.id and row["user_id"] == sub.user_id
    assert row["started_at"] <= row["finished_at"]
    assert conn.execute("SELECT last_http_status FROM push_subscriptions").fetchone()[0] == 201


def test_202_accepted_counts_as_delivered(conn, pusher, push_service):
    browser, sub = one_subscription(conn, push_service)
    push_service.script(browser, 202)
    outcome = send_and_log(conn, pusher, sub)
    assert outcome.status == "delivered" and outcome.http_status == 202


def test_urgent_escalation_goes_out_high_urgency_with_24h_ttl(conn, pusher, push_service):
    browser, sub = one_subscription(conn, push_service)
    payload = {"type": "escalation", "title": "Urgent escalation", "body": "Open Doorstep",
               "url": "/escalations", "id": "esc-1"}
    outcome = send_and_log(conn, pusher, sub, payload, ttl=86400, urgency="high",
                           topic=notify.topic_for("escalation", "esc-1"))
    assert outcome.delivered
    [got] = push_service.for_endpoint(browser)
    assert got.urgency == "high" and got.ttl == "86400" and got.payload == payload


def test_claims_are_fresh_per_send_with_aud_per_push_service_origin(
        conn, pusher, push_service, second_push_service):
    first, sub_a = one_subscription(conn, push_service)
    second, sub_b = one_subscription(conn, second_push_service)
    assert push_service.origin != second_push_service.origin

    for _ in range(2):
        for sub in (sub_a, sub_b, sub_a):
            assert send_and_log(conn, pusher, sub).delivered

    seen_a, seen_b = push_service.for_endpoint(first), second_push_service.for_endpoint(second)
    assert len(seen_a) == 4 and len(seen_b) == 2
    assert all(r.problems == [] for r in seen_a + seen_b)
    assert {r.claims["aud"] for r in seen_a} == {push_service.origin}
    assert {r.claims["aud"] for r in seen_b} == {second_push_service.origin}
    tokens = [r.headers["authorization"] for r in seen_a + seen_b]
    assert len(set(tokens)) == len(tokens)  # a new signed token every time


# -- gone ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_gone_endpoint_deletes_the_subscription(conn, pusher, push_service, sleeps, status):
    browser, sub = one_subscription(conn, push_service)
    push_service.script(browser, status)

    outcome = send_and_log(conn, pusher, sub)

    assert outcome.status == "gone" and outcome.http_status == status
    assert outcome.attempts == 1 and sleeps == []
    assert subscription_of(conn, sub.id) is None
    [row] = deliveries(conn)  # the log outlives the subscription
    assert row["status"] == "gone" and row["subscription_id"] == sub.id


def test_unsubscribed_browser_answers_410_and_is_pruned(conn, pusher, push_service):
    browser, sub = one_subscription(conn, push_service)
    push_service.unsubscribe(browser)
    assert send_and_log(conn, pusher, sub).status == "gone"
    assert subscription_of(conn, sub.id) is None


# -- retried ------------------------------------------------------------------------


def test_429_retry_after_seconds_is_honoured(conn, pusher, push_service, sleeps):
    browser, sub = one_subscription(conn, push_service)
    push_service.script(browser, Scripted(429, retry_after="7"))

    outcome = send_and_log(conn, pusher, sub)

    assert outcome.delivered and outcome.attempts == 2
    assert sleeps == [7.0]
    assert [r.answered for r in push_service.for_endpoint(browser)] == [429, 201]
    assert [r.payload for r in push_service.for_endpoint(browser)] == [PAYLOAD, PAYLOAD]


def test_429_retry_after_http_date_is_honoured(conn, tmp_path, push_service):
    fixed = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)
    sleeps: list[float] = []
    sender = make_pusher(tmp_path, sleeps, clock=lambda: fixed)
    browser, sub = one_subscription(conn, push_service)
    when = format_datetime(fixed + timedelta(seconds=95), usegmt=True)
    push_service.script(browser, Scripted(429, retry_after=when))

    outcome = send_and_log(conn, sender, sub)

    assert outcome.delivered and sleeps == [95.0]


def test_server_errors_are_retried_with_exponential_backoff(conn, pusher, push_service, sleeps):
    browser, sub = one_subscription(conn, push_service)
    push_service.script(browser, 500, 503)

    outcome = send_and_log(conn, pusher, sub)

    assert outcome.delivered and outcome.attempts == 3
    assert sleeps == [1.0, 2.0]
    assert [r.answered for r in push_service.for_endpoint(browser)] == [500, 503, 201]
    [row] = deliveries(conn)
    assert row["attempts"] == 3 and row["status"] == "delivered"


def test_a_dropped_connection_is_retried(conn, pusher, push_service, sleeps):
    browser, sub = one_subscription(conn, push_service)
    push_service.script(browser, DROP)

    outcome = send_and_log(conn, pusher, sub)

    assert outcome.delivered and outcome.attempts == 2 and sleeps == [1.0]


def test_an_unreachable_push_service_is_retried_then_given_up(conn, pusher, sleeps):
    user_id = make_user(conn)
    sub = notify.Subscription("s1", "http://127.0.0.1:9/push/nobody-listens",
                              *_browser_keys(), user_id)
    outcome = pusher.send(sub, PAYLOAD, ttl=60)
    assert outcome.status == "failed" and outcome.http_status is None
    assert outcome.attempts == 5 and outcome.error.startswith("network:")
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


def _browser_keys():
    from push_service import PushService

    browser = PushService().subscribe()
    return browser.p256dh, browser.auth


def test_gives_up_after_five_tries_and_keeps_the_subscription(
        conn, pusher, push_service, sleeps, caplog):
    browser, sub = one_subscription(conn, push_service)
    push_service.script(browser, *[503] * 6)

    with caplog.at_level(logging.WARNING, logger="doorstep.notify"):
        outcome = send_and_log(conn, pusher, sub)

    assert outcome.status == "failed" and outcome.http_status == 503
    assert outcome.attempts == 5 and sleeps == [1.0, 2.0, 4.0, 8.0]
    assert len(push_service.for_endpoint(browser)) == 5  # never a sixth try
    assert subscription_of(conn, sub.id) is not None
    [row] = deliveries(conn)
    assert row["status"] == "failed" and row["attempts"] == 5
    assert browser.token not in caplog.text and sub.id not in caplog.text


def test_a_retry_after_beyond_the_limit_ends_the_round_without_waiting(
        conn, tmp_path, push_service):
    sleeps: list[float] = []
    sender = make_pusher(tmp_path, sleeps,
                         policy=notify.RetryPolicy(max_tries=5, max_wait_seconds=60))
    browser, sub = one_subscription(conn, push_service)
    push_service.script(browser, Scripted(429, retry_after="3600"))

    outcome = send_and_log(conn, sender, sub)

    assert outcome.status == "failed" and outcome.error == "retry_after_too_long"
    assert outcome.attempts == 1 and sleeps == []


def test_the_next_n_requests_can_fail_for_every_endpoint(conn, pusher, push_service, sleeps):
    subs = [one_subscription(conn, push_service)[1] for _ in range(3)]
    push_service.answer_next(3, 500)
    outcomes = [send_and_log(conn, pusher, sub) for sub in subs]
    assert [o.attempts for o in outcomes] == [4, 1, 1]  # the first send met all three
    assert all(o.delivered for o in outcomes) and sleeps == [1.0, 2.0, 4.0]
    assert [r.answered for r in push_service.received] == [500, 500, 500, 201, 201, 201]


# -- rejected -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_errors_are_logged_and_the_subscription_kept(
        conn, pusher, push_service, sleeps, caplog, status):
    browser, sub = one_subscription(conn, push_service)
    push_service.script(browser, status)

    with caplog.at_level(logging.WARNING, logger="doorstep.notify"):
        outcome = send_and_log(conn, pusher, sub)

    assert outcome.status == "rejected" and outcome.http_status == status
    assert outcome.attempts == 1 and sleeps == []
    assert subscription_of(conn, sub.id) is not None
    [row] = deliveries(conn)
    assert row["status"] == "rejected" and row["http_status"] == status
    assert f"http_{status}" in caplog.text and "127.0.0.1" in caplog.text
    # No identifiers in logs: not the endpoint token, subscription, user or payload.
    for secret in (browser.token, sub.id, sub.user_id, PAYLOAD["title"], PAYLOAD["id"]):
        assert secret not in caplog.text


def test_an_https_vapid_subject_is_accepted(conn, tmp_path, push_service):
    sender = make_pusher(tmp_path, subject="https://doorstep.example.org")
    browser, sub = one_subscription(conn, push_service)
    assert send_and_log(conn, sender, sub).delivered
    [got] = push_service.for_endpoint(browser)
    assert got.problems == [] and got.claims["sub"] == "https://doorstep.example.org"


# -- payload guard ------------------------------------------------------------------


def test_a_bad_vapid_subject_fails_at_start_up(tmp_path):
    with pytest.raises(ValueError, match="VAPID_SUBJECT"):
        make_pusher(tmp_path, subject="doorstep admin")


@pytest.mark.parametrize("payload", [
    {**PAYLOAD, "patient_id": "p-1"},
    {**PAYLOAD, "nhs_number": "9990000018"},
    {k: v for k, v in PAYLOAD.items() if k != "url"},
    {**PAYLOAD, "url": "https://elsewhere.example/goals"},
    {**PAYLOAD, "url": "//elsewhere.example/goals"},
    {**PAYLOAD, "type": "clinical_note"},
    {**PAYLOAD, "title": 42},
    {**PAYLOAD, "body": "x" * 4000},
])
def test_payloads_other_than_type_title_body_url_id_are_refused(
        conn, pusher, push_service, payload):
    _, sub = one_subscription(conn, push_service)
    with pytest.raises(notify.PayloadRefused):
        pusher.send(sub, payload, ttl=60)
    with pytest.raises(notify.PayloadRefused):
        list(pusher.send_many([notify.PushJob("test", "x", sub, payload, 60)]))
    assert push_service.received == []


@pytest.mark.parametrize("options", [
    {"ttl": -1}, {"ttl": 60, "urgency": "urgent"}, {"ttl": 60, "topic": "x" * 33},
    {"ttl": 60, "topic": "has space"},
])
def test_invalid_ttl_urgency_or_topic_is_refused(conn, pusher, push_service, options):
    _, sub = one_subscription(conn, push_service)
    with pytest.raises(notify.InvalidPushOptions):
        pusher.send(sub, PAYLOAD, **options)
    assert push_service.received == []


def test_urgent_and_emergency_escalations_are_high_urgency():
    assert [notify.urgency_for(s) for s in ("routine", "urgent", "emergency")] == [
        "normal", "high", "high"]


def test_topic_is_a_url_safe_collapse_key_that_hides_its_source():
    topic = notify.topic_for("reminder", "3f8e2c1a-patient-reminder")
    assert len(topic) == 32 and notify.TOPIC.match(topic)
    assert "patient" not in topic
    assert topic == notify.topic_for("reminder", "3f8e2c1a-patient-reminder")
    assert topic != notify.topic_for("escalation", "3f8e2c1a-patient-reminder")


def test_retry_after_parsing():
    now = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert notify.parse_retry_after("120", now) == 120.0
    assert notify.parse_retry_after("Sun, 29 Mar 2026 12:00:30 GMT", now) == 30.0
    assert notify.parse_retry_after("Sun, 29 Mar 2026 11:00:00 GMT", now) == 0.0
    assert notify.parse_retry_after("soon", now) is None
    assert notify.parse_retry_after(None, now) is None


# -- fan-out ------------------------------------------------------------------------


def test_fan_out_delivers_to_all_logs_each_and_prunes_the_gone(conn, tmp_path, push_service):
    sender = make_pusher(tmp_path, pool_size=8)
    pairs = [one_subscription(conn, push_service) for _ in range(40)]
    for browser, _ in pairs[:5]:
        push_service.script(browser, 410)
    jobs = [notify.PushJob("reminder", f"occ-{i}", sub,
                           {**PAYLOAD, "id": f"occ-{i}"}, 14400)
            for i, (_, sub) in enumerate(pairs)]

    results = delivery.deliver(storage_for(conn), sender, jobs)

    assert [job for job, _ in results] == jobs
    assert sum(o.delivered for _, o in results) == 35
    assert {r.payload["id"] for r in push_service.delivered()} == {
        f"occ-{i}" for i in range(5, 40)}
    assert push_service.problems() == []
    assert conn.execute("SELECT count(*) FROM push_deliveries").fetchone()[0] == 40
    assert conn.execute("SELECT count(*) FROM push_subscriptions").fetchone()[0] == 35


def test_notify_users_skips_revoked_devices_and_disabled_accounts(conn, pusher, push_service):
    alive, revoked, disabled = (push_service.subscribe() for _ in range(3))
    coordinator = make_user(conn, "coordinator")
    subscribe(conn, coordinator, alive)
    subscribe(conn, coordinator, revoked, revoked=True)
    former = make_user(conn, "coordinator", active=False)
    subscribe(conn, former, disabled)
    payload = {"type": "escalation", "title": "Urgent escalation", "body": "Open Doorstep",
               "url": "/escalations", "id": "esc-9"}

    results = delivery.notify_users(storage_for(conn), pusher, [coordinator, former], payload,
                                  notification_type="escalation", ttl=86400, urgency="high")

    assert [o.status for _, o in results] == ["delivered"]
    assert [r.token for r in push_service.received] == [alive.token]

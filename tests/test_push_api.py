"""The push API: public key, subscriptions bound to user and device, and a test send."""

from __future__ import annotations

import base64
import stat
import threading

import dbtools as db
import pytest
from conftest import login, login_as, make_user
from push_service import push_service_fixture  # noqa: F401

from server.notifications import vapid

# The HTTP checks run against SQLite and PostgreSQL (tests/conftest.py `backend`).
pytestmark = pytest.mark.both_backends


@pytest.fixture
def app(app):
    """The shared app fixture, plus the VAPID keys `doorstep init` would make."""
    vapid.ensure_vapid_keys(app.config["INSTANCE"])
    return app


def rows(app, sql, *params):
    conn = db.connect(app.config["DATABASE"])
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def body_for(browser):
    return browser.as_json()


# -- keys -----------------------------------------------------------------------------


def test_init_makes_a_private_p256_key_readable_only_by_its_owner(tmp_path):
    path = vapid.ensure_vapid_keys(tmp_path / "instance")
    assert path == tmp_path / "instance" / "vapid_private.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert vapid.load_vapid(tmp_path / "instance").private_key.curve.name == "secp256r1"
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["vapid_private.pem"]


def test_init_again_keeps_the_key_subscriptions_depend_on(tmp_path):
    first = vapid.ensure_vapid_keys(tmp_path).read_bytes()
    assert vapid.ensure_vapid_keys(tmp_path).read_bytes() == first


def test_concurrent_inits_end_with_one_key(tmp_path):
    keys = []

    def init():
        keys.append(vapid.ensure_vapid_keys(tmp_path).read_bytes())

    threads = [threading.Thread(target=init) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["vapid_private.pem"]  # no temp files


def test_a_key_left_readable_by_others_is_tightened(tmp_path):
    path = vapid.ensure_vapid_keys(tmp_path)
    path.chmod(0o644)
    vapid.ensure_vapid_keys(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_key_means_the_instance_needs_init(tmp_path):
    with pytest.raises(vapid.VapidKeyMissing, match="doorstep init"):
        vapid.public_key_b64url(tmp_path)


# -- public key -----------------------------------------------------------------------


def test_the_vapid_public_key_is_the_instance_key(app, client):
    session = login_as(app, client, "nurse")
    response = session.get("/api/v1/push/vapid-public-key")
    assert response.status_code == 200
    key = response.json["public_key"]
    assert key == vapid.public_key_b64url(app.config["INSTANCE"])
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4 and "=" not in key


def test_without_keys_the_server_says_push_is_not_set_up(app, client):
    (vapid.key_path(app.config["INSTANCE"])).unlink()
    session = login_as(app, client, "nurse")
    response = session.get("/api/v1/push/vapid-public-key")
    assert response.status_code == 503
    assert set(response.json) == {"code", "status", "message", "errors"}


def test_every_push_endpoint_needs_a_token(client):
    for method, url in [("get", "/api/v1/push/vapid-public-key"),
                        ("post", "/api/v1/push/subscriptions"),
                        ("delete", "/api/v1/push/subscriptions/x"),
                        ("post", "/api/v1/push/test")]:
        assert getattr(client, method)(url).status_code == 401


# -- subscribing ----------------------------------------------------------------------


def test_subscribing_binds_the_endpoint_to_user_and_device(app, client, push_service):
    session = login_as(app, client, "carer")
    browser = push_service.subscribe()

    response = session.post("/api/v1/push/subscriptions", json=body_for(browser))

    assert response.status_code == 201
    assert response.json["endpoint"] == browser.endpoint
    assert response.json["client_id"] == session.client_id
    [row] = rows(app, "SELECT * FROM push_subscriptions")
    assert (row["id"], row["user_id"], row["client_id"]) == (
        response.json["id"], session.user["id"], session.client_id)
    assert (row["p256dh"], row["auth"]) == (browser.p256dh, browser.auth)


def test_resubscribing_the_same_endpoint_updates_it(app, client, push_service):
    session = login_as(app, client, "carer")
    browser = push_service.subscribe()
    first = session.post("/api/v1/push/subscriptions", json=body_for(browser)).json
    rotated = push_service.subscribe()  # new keys, same endpoint
    body = {"endpoint": browser.endpoint, "keys": body_for(rotated)["keys"],
            "expirationTime": None}

    second = session.post("/api/v1/push/subscriptions", json=body)

    assert second.status_code == 201 and second.json["id"] == first["id"]
    [row] = rows(app, "SELECT * FROM push_subscriptions")
    assert row["p256dh"] == rotated.p256dh and row["auth"] == rotated.auth


def test_a_device_has_one_subscription_its_new_endpoint_replaces_the_old(
        app, client, push_service):
    session = login_as(app, client, "carer")
    old = session.post("/api/v1/push/subscriptions", json=body_for(push_service.subscribe()))
    new = session.post("/api/v1/push/subscriptions", json=body_for(push_service.subscribe()))
    assert old.json["id"] != new.json["id"]
    assert [r["id"] for r in rows(app, "SELECT id FROM push_subscriptions")] == [new.json["id"]]


def test_two_devices_of_one_user_each_keep_their_own(app, client, push_service):
    user = make_user(app, "nurse")
    phone, tablet = login(client, user.username, device="phone"), login(client, user.username)
    phone.post("/api/v1/push/subscriptions", json=body_for(push_service.subscribe()))
    tablet.post("/api/v1/push/subscriptions", json=body_for(push_service.subscribe()))
    listed = tablet.get("/api/v1/push/subscriptions").json
    assert {s["client_id"] for s in listed} == {phone.client_id, tablet.client_id}


def test_a_shared_tablets_endpoint_moves_to_whoever_subscribes_it_last(
        app, client, push_service):
    browser = push_service.subscribe()
    first, second = login_as(app, client, "carer"), login_as(app, client, "carer")
    sub_id = first.post("/api/v1/push/subscriptions", json=body_for(browser)).json["id"]

    moved = second.post("/api/v1/push/subscriptions", json=body_for(browser))

    assert moved.json["id"] == sub_id
    assert first.get("/api/v1/push/subscriptions").json == []
    [row] = rows(app, "SELECT user_id, client_id FROM push_subscriptions")
    assert row == {"user_id": second.user["id"], "client_id": second.client_id}


def _key(n):
    return base64.urlsafe_b64encode(bytes(n)).rstrip(b"=").decode()


@pytest.mark.parametrize(("change", "field"), [
    ({"endpoint": "http://push.example.com/x"}, "endpoint"),
    ({"endpoint": "https://evil.internal/admin"}, "endpoint"),
    ({"endpoint": "https://user:pw@fcm.googleapis.com/x"}, "endpoint"),
    ({"endpoint": "ftp://127.0.0.1/x"}, "endpoint"),
    ({"endpoint": "not a url"}, "endpoint"),
    ({"keys": {"p256dh": _key(64), "auth": _key(16)}}, "keys"),
    ({"keys": {"p256dh": "\x04" + _key(64)[1:], "auth": _key(16)}}, "keys"),  # not base64url
    ({"keys": {"p256dh": base64.urlsafe_b64encode(b"\x04" + bytes(64)).decode().rstrip("="),
               "auth": _key(16)}}, "keys"),  # 65 bytes but not a point on P-256
    ({"keys": "VALID_P256DH_SHORT_AUTH"}, "keys"),
    ({"keys": None}, "keys"),
    ({"nhs_number": "9990000018"}, "nhs_number"),  # unknown fields are refused
])
def test_unusable_subscriptions_are_refused(app, client, push_service, change, field):
    session = login_as(app, client, "carer")
    body = body_for(push_service.subscribe())
    if change.get("keys") == "VALID_P256DH_SHORT_AUTH":
        change = {"keys": {"p256dh": body["keys"]["p256dh"], "auth": _key(8)}}
    body.update(change)
    response = session.post("/api/v1/push/subscriptions", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert rows(app, "SELECT id FROM push_subscriptions") == []


def test_known_push_services_over_https_are_accepted(app, client, push_service):
    session = login_as(app, client, "carer")
    keys = body_for(push_service.subscribe())["keys"]
    for endpoint in ["https://fcm.googleapis.com/fcm/send/abc",
                     "https://updates.push.services.mozilla.com/wpush/v2/abc",
                     "https://web.push.apple.com/QGx", "https://wns2-db5p.notify.windows.com/w/"]:
        response = session.post("/api/v1/push/subscriptions",
                                json={"endpoint": endpoint, "keys": keys})
        assert response.status_code == 201, (endpoint, response.json)


def test_loopback_http_is_refused_outside_tests_unless_configured(app, client, push_service):
    session = login_as(app, client, "carer")
    body = body_for(push_service.subscribe())
    app.config["TESTING"] = False
    refused = session.post("/api/v1/push/subscriptions", json=body)
    assert refused.status_code == 422 and "endpoint" in refused.json["errors"]
    app.config["PUSH_ALLOW_LOOPBACK_HTTP"] = True
    assert session.post("/api/v1/push/subscriptions", json=body).status_code == 201


# -- unsubscribing --------------------------------------------------------------------


def test_delete_own_subscription(app, client, push_service):
    session = login_as(app, client, "carer")
    sub_id = session.post("/api/v1/push/subscriptions",
                          json=body_for(push_service.subscribe())).json["id"]
    assert session.delete(f"/api/v1/push/subscriptions/{sub_id}").status_code == 204
    assert session.get("/api/v1/push/subscriptions").json == []
    assert session.delete(f"/api/v1/push/subscriptions/{sub_id}").status_code == 404


def test_another_users_subscription_answers_404_and_stays(app, client, push_service):
    owner, other = login_as(app, client, "carer"), login_as(app, client, "coordinator")
    sub_id = owner.post("/api/v1/push/subscriptions",
                        json=body_for(push_service.subscribe())).json["id"]
    response = other.delete(f"/api/v1/push/subscriptions/{sub_id}")
    assert response.status_code == 404
    assert response.json["message"] == "Subscription not found."
    assert other.get("/api/v1/push/subscriptions").json == []
    assert [s["id"] for s in owner.get("/api/v1/push/subscriptions").json] == [sub_id]


# -- test send ------------------------------------------------------------------------


def test_the_test_send_reaches_each_of_the_callers_devices(app, client, push_service):
    user = make_user(app, "nurse")
    phone, tablet = login(client, user.username, device="phone"), login(client, user.username)
    browsers = [push_service.subscribe(), push_service.subscribe()]
    phone.post("/api/v1/push/subscriptions", json=body_for(browsers[0]))
    tablet.post("/api/v1/push/subscriptions", json=body_for(browsers[1]))
    someone_else = login_as(app, client, "carer")
    someone_else.post("/api/v1/push/subscriptions", json=body_for(push_service.subscribe()))

    response = tablet.post("/api/v1/push/test")

    assert response.status_code == 200
    assert response.json["sent"] == 2 and response.json["delivered"] == 2
    assert {r["status"] for r in response.json["results"]} == {"delivered"}
    got = push_service.delivered()
    assert {r.token for r in got} == {b.token for b in browsers}
    assert push_service.problems() == []
    for message in got:
        assert set(message.payload) == {"type", "title", "body", "url", "id"}
        assert message.payload["type"] == "test" and message.payload["url"] == "/"
    logged = rows(app, "SELECT notification_type, status FROM push_deliveries")
    assert logged == [{"notification_type": "test", "status": "delivered"}] * 2


def test_the_test_send_reports_and_prunes_a_dead_subscription(app, client, push_service):
    session = login_as(app, client, "carer")
    browser = push_service.subscribe()
    session.post("/api/v1/push/subscriptions", json=body_for(browser))
    push_service.unsubscribe(browser)

    response = session.post("/api/v1/push/test")

    [result] = response.json["results"]
    assert result["status"] == "gone" and result["http_status"] == 410
    assert session.get("/api/v1/push/subscriptions").json == []


def test_the_test_send_with_no_subscriptions_sends_nothing(app, client, push_service):
    session = login_as(app, client, "carer")
    assert session.post("/api/v1/push/test").json == {"sent": 0, "delivered": 0, "results": []}
    assert push_service.received == []


def test_the_push_endpoints_are_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert paths["/api/v1/push/vapid-public-key"]["get"]["summary"].startswith("The key")
    assert "post" in paths["/api/v1/push/subscriptions"]
    assert "delete" in paths["/api/v1/push/subscriptions/{subscription_id}"]
    assert paths["/api/v1/push/test"]["post"]["summary"].startswith("Send a test")

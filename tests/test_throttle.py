"""Login throttling: 5 failures in 15 minutes per username and address → 429,
counted in the database so it holds across worker processes."""

from __future__ import annotations

from conftest import PASSWORD, make_user

from server.app import create_app


def attempt(client, username, password="wrong password", address="10.0.0.1"):
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "device_name": "t"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_sixth_attempt_is_throttled_even_with_the_right_password(app, client):
    make_user(app, username="nina")
    for _ in range(5):
        assert attempt(client, "nina").status_code == 401
    blocked = attempt(client, "nina", PASSWORD)
    assert blocked.status_code == 429
    assert blocked.json["code"] == 429 and "15 minutes" in blocked.json["message"]


def test_four_failures_then_success_is_fine(app, client):
    make_user(app, username="nina")
    for _ in range(4):
        attempt(client, "nina")
    assert attempt(client, "nina", PASSWORD).status_code == 200


def test_window_is_15_minutes(app, client, clock):
    make_user(app, username="nina")
    for _ in range(5):
        attempt(client, "nina")
    clock.advance(minutes=14)
    assert attempt(client, "nina", PASSWORD).status_code == 429
    clock.advance(minutes=1, seconds=1)
    assert attempt(client, "nina", PASSWORD).status_code == 200


def test_throttle_is_per_username_and_address(app, client):
    make_user(app, username="nina")
    make_user(app, username="omar")
    for _ in range(5):
        attempt(client, "nina", address="10.0.0.1")
    assert attempt(client, "nina", PASSWORD, address="10.0.0.2").status_code == 200
    assert attempt(client, "omar", PASSWORD, address="10.0.0.1").status_code == 200


def test_throttle_holds_across_worker_processes(tmp_path, clock):
    # Two app instances on one database stand for two gunicorn workers.
    from conftest import test_config

    config = test_config(tmp_path, clock)
    worker_a, worker_b = create_app(config), create_app(config)
    make_user(worker_a, username="nina")
    client_a, client_b = worker_a.test_client(), worker_b.test_client()
    for i in range(5):
        assert attempt(client_a if i % 2 else client_b, "nina").status_code == 401
    assert attempt(client_a, "nina", PASSWORD).status_code == 429
    assert attempt(client_b, "nina", PASSWORD).status_code == 429

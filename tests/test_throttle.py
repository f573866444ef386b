"""Login throttling: 5 failures in 15 minutes per username and address → 429,
counted in the database so it holds across worker processes."""

from __future__ import annotations

from contextlib import contextmanager

from conftest import PASSWORD, make_user, migrated_app


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
    # Two app instances on one database stand for two server worker processes.
    from conftest import test_config

    config = test_config(tmp_path, clock)
    worker_a, worker_b = migrated_app(config), migrated_app(config)
    make_user(worker_a, username="nina")
    client_a, client_b = worker_a.test_client(), worker_b.test_client()
    for i in range(5):
        assert attempt(client_a if i % 2 else client_b, "nina").status_code == 401
    assert attempt(client_a, "nina", PASSWORD).status_code == 429
    assert attempt(client_b, "nina", PASSWORD).status_code == 429


# -- issue 10 item 15: one argon2 verification per attempt, unknown names throttled too,
# and a limit per address across usernames.


class Argon2Calls:
    """Counts the third-party hasher's work (argon2-cffi's PasswordHasher)."""

    def __init__(self, monkeypatch):
        from argon2 import PasswordHasher

        self.calls: list[str] = []
        for name in ("hash", "verify"):
            original = getattr(PasswordHasher, name)

            def counted(hasher, *args, _name=name, _original=original, **kwargs):
                self.calls.append(_name)
                return _original(hasher, *args, **kwargs)

            monkeypatch.setattr(PasswordHasher, name, counted)


def test_a_failed_login_costs_one_verification_known_username_or_not(app, client, monkeypatch):
    make_user(app, username="nina")
    argon2 = Argon2Calls(monkeypatch)
    assert attempt(client, "nobody-here").status_code == 401
    assert argon2.calls == ["verify"]
    argon2.calls.clear()
    assert attempt(client, "nina").status_code == 401
    assert argon2.calls == ["verify"]
    argon2.calls.clear()
    assert attempt(client, "nina", PASSWORD).status_code == 200
    assert argon2.calls == ["verify"]


def test_an_unknown_username_is_verified_at_the_configured_cost(app, client, monkeypatch):
    from argon2 import extract_parameters

    known = make_user(app, username="nina")
    seen: list[str] = []
    from argon2 import PasswordHasher

    original = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify",
                        lambda self, h, p: seen.append(h) or original(self, h, p))
    attempt(client, "nobody-here")
    attempt(client, known.username)
    unknown_cost, known_cost = (extract_parameters(h) for h in seen)
    assert unknown_cost == known_cost


def test_throttled_attempts_cost_no_verification(app, client, monkeypatch):
    for _ in range(5):
        attempt(client, "ghost")
    argon2 = Argon2Calls(monkeypatch)
    assert attempt(client, "ghost").status_code == 429
    assert argon2.calls == []


def test_unknown_usernames_are_throttled(client):
    for _ in range(5):
        assert attempt(client, "ghost").status_code == 401
    blocked = attempt(client, "ghost")
    assert blocked.status_code == 429
    assert set(blocked.json) == {"code", "status", "message", "errors"}


def test_one_address_is_limited_across_usernames(tmp_path, clock):
    from conftest import test_config

    app = migrated_app(test_config(tmp_path, clock, LOGIN_MAX_FAILURES_PER_ADDRESS=12))
    client = app.test_client()
    make_user(app, username="nina")
    for i in range(12):  # four failures each on three names: under the per-name limit
        assert attempt(client, f"guess{i % 3}").status_code == 401
    blocked = attempt(client, "nina", PASSWORD)
    assert blocked.status_code == 429
    assert "network address" in blocked.json["message"]
    # Another address is not affected, and the window still ends.
    assert attempt(client, "nina", PASSWORD, address="10.0.0.9").status_code == 200
    clock.advance(minutes=15, seconds=1)
    assert attempt(client, "nina", PASSWORD).status_code == 200


def test_the_address_limit_default_is_documented_and_above_the_username_limit(app):
    assert app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] > app.config["LOGIN_MAX_FAILURES"]


def test_the_verification_runs_without_holding_the_write_lock(app, client, monkeypatch):
    # Eight attackers once pushed a signed-in user's requests from 9 ms to 9.5 s: each
    # failed login hashed while holding SQLite's write lock.
    make_user(app, username="nina")
    with write_lock_probe(app, monkeypatch, "verify") as could_write:
        attempt(client, "nina")
        attempt(client, "nobody-here")
        attempt(client, "nina", PASSWORD)
    assert could_write == [True, True, True]


@contextmanager
def write_lock_probe(app, monkeypatch, method):
    """Each call of argon2's ``PasswordHasher.<method>`` notes whether another connection
    could take the database's write lock at that moment (True: nobody held it)."""
    import sqlite3

    from argon2 import PasswordHasher

    writer = sqlite3.connect(app.config["DATABASE"], timeout=0, isolation_level=None)
    could_write: list[bool] = []
    original = getattr(PasswordHasher, method)

    def while_another_writes(hasher, *args, **kwargs):
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("ROLLBACK")
            could_write.append(True)
        except sqlite3.OperationalError:
            could_write.append(False)
        return original(hasher, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, method, while_another_writes)
    try:
        yield could_write
    finally:
        writer.close()

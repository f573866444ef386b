"""The sessions repository: tokens, their deaths, the grace seal, the login throttle."""

from __future__ import annotations

from datetime import timedelta

from storage import Storage
from storage.contract.conftest import Clock


def _device(storage: Storage, client_id: str = "device-1") -> str:
    with storage.write() as uow:
        user = uow.accounts.create_user(username=f"u-{client_id}", password_hash="x",
                                        role="nurse", display_name="Nurse")
        uow.devices.register_device(client_id, user.id, "tablet")
    return user.id


def test_a_token_is_stored_and_read_back_with_its_holder(storage: Storage, clock: Clock) -> None:
    user_id = _device(storage)
    expires = clock.now + timedelta(minutes=15)
    with storage.write() as uow:
        uow.sessions.add_token(token_hash="a1", kind="access", client_id="device-1",
                               user_id=user_id, expires_at=expires)
    with storage.read() as uow:
        token = uow.sessions.token("a1")
        held = uow.sessions.held_token("a1", "access")
        assert uow.sessions.held_token("a1", "refresh") is None
        assert uow.sessions.token("nope") is None
    assert token is not None and held is not None
    assert (token.kind, token.client_id, token.user_id) == ("access", "device-1", user_id)
    assert token.expires_at == expires
    assert token.dead_at is None and token.dead_reason is None
    assert held.token == token
    assert held.user_role == "nurse" and held.user_active and not held.device_revoked
    assert held.device_last_seen_at == clock.now


def test_killing_a_device_s_tokens_ends_only_the_live_ones(storage: Storage, clock: Clock) -> None:
    user_id = _device(storage)
    _device(storage, "device-2")
    later = clock.now + timedelta(days=1)
    with storage.write() as uow:
        for name, client in (("r1", "device-1"), ("r2", "device-1"), ("other", "device-2")):
            uow.sessions.add_token(token_hash=name, kind="refresh", client_id=client,
                                   user_id=user_id, expires_at=later)
        uow.sessions.kill_device_tokens("device-1", "rotated")
    rotated_at = clock.now
    clock.advance(minutes=1)
    with storage.write() as uow:
        uow.sessions.add_token(token_hash="r3", kind="refresh", client_id="device-1",
                               user_id=user_id, expires_at=later)
        uow.sessions.kill_device_tokens("device-1", "logout")
    with storage.read() as uow:
        r1, r3, other = (uow.sessions.token(h) for h in ("r1", "r3", "other"))
    assert r1 is not None and r3 is not None and other is not None
    assert (r1.dead_reason, r1.dead_at) == ("rotated", rotated_at)  # died once, as it died
    assert (r3.dead_reason, r3.dead_at) == ("logout", clock.now)
    assert other.dead_at is None


def test_only_the_newest_rotation_keeps_its_seal(storage: Storage, clock: Clock) -> None:
    user_id = _device(storage)
    later = clock.now + timedelta(days=1)
    with storage.write() as uow:
        for name in ("r1", "r2", "r3"):
            uow.sessions.add_token(token_hash=name, kind="refresh", client_id="device-1",
                                   user_id=user_id, expires_at=later)
        uow.sessions.remember_successor(client_id="device-1", rotated_hash="r1",
                                        successor_hash="r2", sealed=b"seal-1")
        uow.sessions.remember_successor(client_id="device-1", rotated_hash="r2",
                                        successor_hash="r3", sealed=b"seal-2")
    with storage.read() as uow:
        r1, r2 = uow.sessions.token("r1"), uow.sessions.token("r2")
    assert r1 is not None and r2 is not None
    assert (r1.successor_hash, r1.successor_sealed) == ("r2", None)
    assert (r2.successor_hash, r2.successor_sealed) == ("r3", b"seal-2")


def test_the_throttle_counts_failures_per_username_and_address(
    storage: Storage, clock: Clock
) -> None:
    start = clock.now
    with storage.write() as uow:
        uow.sessions.record_login_failure("nina", "10.0.0.1")
        uow.sessions.record_login_failure("NINA", "10.0.0.1")
        uow.sessions.record_login_failure("omar", "10.0.0.1")
        uow.sessions.record_login_failure("nina", "10.0.0.2")
    with storage.read() as uow:
        counts = uow.sessions.login_failures("nina", "10.0.0.1", start - timedelta(seconds=1))
        assert (counts.for_username, counts.for_address) == (2, 3)
        # The window is strictly after ``since``.
        counts = uow.sessions.login_failures("nina", "10.0.0.1", start)
        assert (counts.for_username, counts.for_address) == (0, 0)
    with storage.write() as uow:
        uow.sessions.forget_login_failures("nina", "10.0.0.1")
    with storage.read() as uow:
        counts = uow.sessions.login_failures("nina", "10.0.0.1", start - timedelta(seconds=1))
        assert (counts.for_username, counts.for_address) == (0, 1)


def test_old_failures_are_forgotten(storage: Storage, clock: Clock) -> None:
    with storage.write() as uow:
        uow.sessions.record_login_failure("nina", "10.0.0.1")
    clock.advance(days=2)
    with storage.write() as uow:
        uow.sessions.record_login_failure("nina", "10.0.0.1")
        uow.sessions.forget_login_failures_before(clock.now - timedelta(days=1))
    with storage.read() as uow:
        counts = uow.sessions.login_failures("nina", "10.0.0.1", clock.now - timedelta(days=7))
    assert counts.for_username == 1

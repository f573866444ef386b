"""The devices repository: registration, listing, waiting changes, secrets, revocation."""

from __future__ import annotations

from datetime import timedelta

from storage import Storage
from storage.contract.conftest import Clock


def _user(storage: Storage, username: str, team_ids: tuple[str, ...] = ()) -> str:
    with storage.write() as uow:
        user = uow.accounts.create_user(username=username, password_hash="x", role="nurse",
                                        display_name=username, team_ids=team_ids)
    return user.id


def test_a_device_is_registered_and_read_back(storage: Storage, clock: Clock) -> None:
    nina = _user(storage, "nina")
    with storage.write() as uow:
        uow.devices.register_device("device-1", nina, "tablet")
    with storage.read() as uow:
        device = uow.devices.device("device-1")
        assert uow.devices.device("device-2") is None
    assert device is not None
    assert (device.user_id, device.username, device.name) == (nina, "nina", "tablet")
    assert device.created_at == device.last_seen_at == clock.now
    assert device.revoked_at is None and device.waiting_changes == 0


def test_renaming_and_seeing_a_device_move_its_last_seen(storage: Storage, clock: Clock) -> None:
    nina = _user(storage, "nina")
    with storage.write() as uow:
        uow.devices.register_device("device-1", nina, "tablet")
    clock.advance(minutes=10)
    with storage.write() as uow:
        uow.devices.rename_device("device-1", "phone")
    with storage.read() as uow:
        renamed = uow.devices.device("device-1")
    assert renamed is not None and (renamed.name, renamed.last_seen_at) == ("phone", clock.now)
    clock.advance(minutes=10)
    with storage.write() as uow:
        uow.devices.mark_seen("device-1")
    with storage.read() as uow:
        seen = uow.devices.device("device-1")
    assert seen is not None and seen.last_seen_at == clock.now


def test_devices_are_listed_for_a_user_their_team_mates_and_everyone(
    storage: Storage, clock: Clock
) -> None:
    with storage.write() as uow:
        north = uow.accounts.create_team("North").id
        south = uow.accounts.create_team("South").id
    cora = _user(storage, "cora", (north,))
    nina = _user(storage, "nina", (north,))
    omar = _user(storage, "omar", (south,))
    with storage.write() as uow:
        for client_id, user_id in (("n1", nina), ("c1", cora), ("o1", omar)):
            uow.devices.register_device(client_id, user_id, "tablet")
            clock.advance(seconds=1)
        uow.devices.register_device("n0", nina, "phone")
    with storage.read() as uow:
        assert [d.client_id for d in uow.devices.devices_of(nina)] == ["n1", "n0"]
        assert [d.client_id for d in uow.devices.devices_of_user_and_team_mates(cora)] == [
            "c1", "n1", "n0"]
        assert [d.client_id for d in uow.devices.all_devices()] == ["c1", "n1", "n0", "o1"]


def test_waiting_changes_are_reported_and_cleared(storage: Storage, clock: Clock) -> None:
    nina = _user(storage, "nina")
    oldest = clock.now - timedelta(hours=3)
    with storage.write() as uow:
        uow.devices.register_device("device-1", nina, "tablet")
        uow.devices.report_waiting("device-1", 4, oldest)
    with storage.read() as uow:
        device = uow.devices.device("device-1")
    assert device is not None
    assert (device.waiting_changes, device.oldest_waiting_at) == (4, oldest)
    assert device.waiting_reported_at == clock.now
    with storage.write() as uow:
        uow.devices.report_waiting("device-1", 0, oldest)
    with storage.read() as uow:
        device = uow.devices.device("device-1")
    assert device is not None and (device.waiting_changes, device.oldest_waiting_at) == (0, None)


def test_a_secret_is_kept_and_revocation_destroys_it(storage: Storage, clock: Clock) -> None:
    nina = _user(storage, "nina")
    with storage.write() as uow:
        uow.devices.register_device("device-1", nina, "tablet")
        assert uow.devices.secret_of("device-1") is None
        uow.devices.create_secret("device-1", b"s" * 32)
        uow.devices.mark_secret_released("device-1")
    with storage.read() as uow:
        assert uow.devices.secret_of("device-1") == b"s" * 32
    with storage.write() as uow:
        uow.devices.revoke_device("device-1", nina, "lost")
    with storage.read() as uow:
        revoked = uow.devices.device("device-1")
        assert uow.devices.secret_of("device-1") is None
    assert revoked is not None and revoked.revoked_at == clock.now


def test_revoking_again_keeps_the_first_revocation(storage: Storage, clock: Clock) -> None:
    nina = _user(storage, "nina")
    with storage.write() as uow:
        uow.devices.register_device("device-1", nina, "tablet")
        uow.devices.revoke_device("device-1", nina, "lost")
    first = clock.now
    clock.advance(hours=1)
    with storage.write() as uow:
        uow.devices.revoke_device("device-1", "system", "refresh token reused")
    with storage.read() as uow:
        device = uow.devices.device("device-1")
    assert device is not None and device.revoked_at == first


def test_a_first_sync_of_no_patients_is_empty(storage: Storage) -> None:
    with storage.read() as uow:
        assert uow.devices.first_sync_size(frozenset()) == 0
        assert uow.devices.first_sync_size(frozenset({"patient-1"})) == 0

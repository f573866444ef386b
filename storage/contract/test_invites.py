"""The invites repository: codes made, read back and used exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from storage import Storage
from storage.contract.conftest import Clock


def _invite(storage: Storage, clock: Clock, code_hash: str = "code-1") -> str:
    with storage.write() as uow:
        nurse = uow.accounts.create_user(username=f"nurse-{code_hash}", password_hash="x",
                                         role="nurse", display_name="Nurse")
        uow.invites.create_invite(code_hash=code_hash, patient_id="patient-1", role="carer",
                                  relationship="son", consent_basis="patient_consent",
                                  created_by=nurse.id, expires_at=clock.now + timedelta(days=14))
    return nurse.id


def test_an_invite_is_created_and_read_back(storage: Storage, clock: Clock) -> None:
    nurse_id = _invite(storage, clock)
    with storage.read() as uow:
        invite = uow.invites.invite("code-1")
        assert uow.invites.invite("code-2") is None
    assert invite is not None
    assert (invite.patient_id, invite.role, invite.relationship, invite.consent_basis) == (
        "patient-1", "carer", "son", "patient_consent")
    assert invite.created_by == nurse_id
    assert invite.created_at == clock.now
    assert invite.expires_at == clock.now + timedelta(days=14)
    assert invite.used_at is None and invite.used_by is None


def test_an_invite_is_used_once_and_remembers_its_account(storage: Storage, clock: Clock) -> None:
    _invite(storage, clock)
    clock.advance(minutes=5)
    with storage.write() as uow:
        assert uow.invites.use_invite("code-1")
        assert not uow.invites.use_invite("code-1")
        uow.invites.record_invite_user("code-1", "user-9")
    with storage.write() as uow:
        assert not uow.invites.use_invite("code-1")
        assert not uow.invites.use_invite("no-such-code")
    with storage.read() as uow:
        invite = uow.invites.invite("code-1")
    assert invite is not None
    assert (invite.used_at, invite.used_by) == (clock.now, "user-9")


def test_a_use_that_rolls_back_leaves_the_invite_unused(storage: Storage, clock: Clock) -> None:
    _invite(storage, clock)
    with pytest.raises(RuntimeError), storage.write() as uow:
        assert uow.invites.use_invite("code-1")
        raise RuntimeError("the account could not be made")
    with storage.write() as uow:
        assert uow.invites.use_invite("code-1")


def test_two_units_that_both_saw_the_invite_unused_cannot_both_use_it(
    storage: Storage, clock: Clock
) -> None:
    _invite(storage, clock)
    with storage.read() as first_check:
        first = first_check.invites.invite("code-1")
    with storage.read() as second_check:
        second = second_check.invites.invite("code-1")
    assert first is not None and second is not None
    assert first.used_at is None and second.used_at is None
    with storage.write() as uow:
        won_first = uow.invites.use_invite("code-1")
    with storage.write() as uow:
        won_second = uow.invites.use_invite("code-1")
    assert (won_first, won_second) == (True, False)


def test_of_units_racing_on_threads_exactly_one_uses_the_invite(
    storage: Storage, clock: Clock
) -> None:
    _invite(storage, clock)
    racers = 6
    start = threading.Barrier(racers)
    outcomes: list[bool] = []
    lock = threading.Lock()

    def race() -> None:
        start.wait()
        with storage.write() as uow:
            won = uow.invites.use_invite("code-1")
        with lock:
            outcomes.append(won)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * (racers - 1) + [True]

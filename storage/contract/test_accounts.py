"""The accounts repository: teams, users, memberships (through the interface only)."""

from __future__ import annotations

import pytest

from storage import Storage
from storage.accounts import TeamNameTaken, UsernameTaken

HASH = "$argon2id$not-a-real-hash"


def test_a_team_is_created_and_found_by_name(storage: Storage) -> None:
    with storage.write() as uow:
        made = uow.accounts.create_team("District North")
    with storage.read() as uow:
        assert uow.accounts.team_by_name("District North") == made
        assert uow.accounts.team_by_name("District South") is None
        assert uow.accounts.list_teams() == [made]


def test_team_names_are_unique(storage: Storage) -> None:
    with storage.write() as uow:
        uow.accounts.create_team("District North")
    with pytest.raises(TeamNameTaken), storage.write() as uow:
        uow.accounts.create_team("District North")
    with storage.read() as uow:
        assert len(uow.accounts.list_teams()) == 1


def test_teams_are_listed_by_name_and_unknown_ids_named(storage: Storage) -> None:
    with storage.write() as uow:
        south = uow.accounts.create_team("South")
        north = uow.accounts.create_team("North")
    with storage.read() as uow:
        assert [t.name for t in uow.accounts.list_teams()] == ["North", "South"]
        assert uow.accounts.unknown_team_ids([south.id, "nope", north.id, "gone"]) == [
            "nope", "gone"]
        assert uow.accounts.unknown_team_ids([]) == []


def test_a_user_is_created_with_teams_and_read_back(storage: Storage) -> None:
    with storage.write() as uow:
        team = uow.accounts.create_team("North")
        made = uow.accounts.create_user(
            username="nina", password_hash=HASH, role="nurse", display_name="Nina",
            team_ids=[team.id, team.id],
        )
    assert made.team_ids == (team.id,)
    assert made.active and made.patient_id is None
    with storage.read() as uow:
        assert uow.accounts.user_by_id(made.id) == made
        assert uow.accounts.user_by_username("NINA") == made
        assert uow.accounts.user_by_username("nobody") is None
        assert uow.accounts.team_ids_of(made.id) == (team.id,)
        assert uow.accounts.list_users() == [made]


def test_usernames_are_unique_without_regard_to_case(storage: Storage) -> None:
    with storage.write() as uow:
        uow.accounts.create_user(username="nina", password_hash=HASH, role="nurse",
                                 display_name="Nina")
    with pytest.raises(UsernameTaken), storage.write() as uow:
        uow.accounts.create_user(username="Nina", password_hash=HASH, role="nurse",
                                 display_name="Nina again")
    with storage.read() as uow:
        assert [u.username for u in uow.accounts.list_users()] == ["nina"]


def test_memberships_are_replaced_and_accounts_disabled(storage: Storage) -> None:
    with storage.write() as uow:
        north = uow.accounts.create_team("North")
        south = uow.accounts.create_team("South")
        user = uow.accounts.create_user(username="nina", password_hash=HASH, role="nurse",
                                        display_name="Nina", team_ids=[north.id])
        uow.accounts.set_teams(user.id, [south.id])
        uow.accounts.set_active(user.id, False)
    with storage.read() as uow:
        again = uow.accounts.user_by_id(user.id)
    assert again is not None
    assert again.team_ids == (south.id,) and not again.active


def test_a_patient_account_is_found_while_active(storage: Storage) -> None:
    with storage.write() as uow:
        user = uow.accounts.create_user(username="edith", password_hash=HASH, role="patient",
                                        display_name="Edith", patient_id="patient-1")
    with storage.read() as uow:
        assert uow.accounts.patient_has_active_account("patient-1")
        assert not uow.accounts.patient_has_active_account("patient-2")
    with storage.write() as uow:
        uow.accounts.set_active(user.id, False)
    with storage.read() as uow:
        assert not uow.accounts.patient_has_active_account("patient-1")

"""The record queries about people, devices and teams on PostgreSQL (the names FHIR and
conflict views resolve, the coordinators escalations go to).

The contract suite cannot create accounts through an interface on this branch yet, and
the HTTP tests run on SQLite only, so these rows are written with SQL: only the queries
under test are PostgreSQL's repository (storage/postgres/records.py).
"""

from __future__ import annotations

import pytest

from storage import open_storage

NOW = "2026-11-24T09:00:00.000000+00:00"


@pytest.fixture
def storage(postgres_url):
    opened = open_storage(postgres_url)
    with opened.write() as uow:
        sql = uow.conn.execute
        for team_id, name in (("t1", "Zeta"), ("t2", "alpha"), ("t3", "Beta")):
            sql("INSERT INTO teams (id, name, created_at) VALUES (%s, %s, %s)",
                (team_id, name, NOW))
        for user_id, role, active in (("u-b", "coordinator", True), ("u-a", "coordinator", True),
                                      ("u-c", "coordinator", False), ("u-n", "nurse", True),
                                      ("u-o", "coordinator", True)):
            sql("INSERT INTO users (id, username, password_hash, role, display_name, active,"
                " created_at) VALUES (%s, %s, 'x', %s, %s, %s, %s)",
                (user_id, user_id, role, f"Name of {user_id}", active, NOW))
            team = "t2" if user_id == "u-o" else "t1"
            sql("INSERT INTO team_members (team_id, user_id) VALUES (%s, %s)", (team, user_id))
        sql("INSERT INTO devices (client_id, user_id, name, created_at, last_seen_at)"
            " VALUES ('c1', 'u-n', 'Ward tablet', %s, %s)", (NOW, NOW))
    yield opened
    opened.close()


def test_names_of_users_devices_and_teams(storage):
    with storage.read() as uow:
        assert uow.records.user_display_name("u-n") == "Name of u-n"
        assert uow.records.user_display_name("nobody") is None
        assert uow.records.device_name("c1") == "Ward tablet"
        assert uow.records.device_name("c2") is None
        # By name in code point order, as on SQLite: capitals first.
        assert [t.name for t in uow.records.team_names(["t1", "t2", "t3", "t9"])] == [
            "Beta", "Zeta", "alpha"]
        assert uow.records.team_names([]) == []


def test_active_coordinators_of_a_team(storage):
    with storage.read() as uow:
        assert uow.records.active_coordinators_of_team("t1") == ["u-a", "u-b"]
        assert uow.records.active_coordinators_of_team("t2") == ["u-o"]
        assert uow.records.active_coordinators_of_team("t3") == []

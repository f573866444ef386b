"""The scope query ("which patients may this actor see") is indexed lookups only, and
answers the same as the rules in server/records/access.py say, for every role.

The plans are read from the statements ``visible_patient_ids`` really runs (SQLite's
trace callback gives them with their parameters bound), with and without ANALYZE
statistics, so a rewrite of a query cannot silently fall back to walking every patient.
"""

from __future__ import annotations

import pytest
from conftest import make_patient, make_record, make_team, make_user, patient_fields

from server import database
from server.records import access
from server.records import engine as records
from sync.registry import SYSTEM, Actor


def carer_link(patient_id: str, carer_id: str, active: bool = True) -> dict[str, object]:
    return {"patient_id": patient_id, "carer_user_id": carer_id, "relationship": "son",
            "consent_basis": "patient_consent", "active": active}


@pytest.fixture
def world(app):
    team_a, team_b, team_c = make_team(app), make_team(app), make_team(app)
    a1, a2 = make_patient(app, team_a), make_patient(app, team_a)
    b1 = make_patient(app, team_b)
    make_patient(app, team_c)
    gone = make_patient(app, team_a)
    moved = make_patient(app, team_a)
    objecting = make_patient(app, team_c)
    with app.app_context(), database.write() as uow:
        records.write_as_system(uow, SYSTEM, "patient", {}, gone, op="delete")
        records.write_as_system(uow, SYSTEM, "patient", {"team_id": team_c}, moved,
                                op="update")
    patient_user = make_user(app, "patient", patient_id=a1)
    carer = make_user(app, "carer")
    make_record(app, "carer_link", carer_link(a2, carer.id))
    make_record(app, "carer_link", carer_link(b1, carer.id, active=False))
    make_record(app, "carer_link", carer_link(objecting, carer.id))
    with app.app_context(), database.write() as uow:
        records.write_as_system(uow, SYSTEM, "patient", {"sharing_objection": True},
                                objecting, op="update")
    actors = {
        "nurse": Actor("n", "nurse", "d", frozenset({team_a})),
        "coordinator": Actor("c", "coordinator", "d", frozenset({team_a, team_b})),
        "patient": Actor(patient_user.id, "patient", "d"),
        "carer": Actor(carer.id, "carer", "d"),
        "admin": Actor("a", "admin", "d"),
    }
    expected = {
        "nurse": {a1, a2},
        "coordinator": {a1, a2, b1},
        "patient": {a1},
        "carer": {a2},
        "admin": set(),
    }
    return actors, expected


def test_each_role_sees_the_patients_the_rules_allow(app, world):
    actors, expected = world
    with app.app_context(), database.read() as uow:
        for role, actor in actors.items():
            assert access.visible_patient_ids(uow, actor) == expected[role], role


def _statements(uow, actor):
    seen: list[str] = []
    uow.conn.set_trace_callback(seen.append)
    try:
        access.visible_patient_ids(uow, actor)
    finally:
        uow.conn.set_trace_callback(None)
    return seen


@pytest.mark.parametrize("analyzed", [False, True])
@pytest.mark.parametrize("role", ["nurse", "coordinator", "patient", "carer"])
def test_scope_queries_seek_indexes_and_scan_no_records(app, world, role, analyzed):
    actors, _ = world
    # More patients than any team holds, so walking them all would look costly.
    for _ in range(30):
        make_record(app, "patient", patient_fields(make_team(app)))
    with app.app_context(), database.write() as uow:
        conn = uow.conn  # the SQLite connection under the unit of work
        if analyzed:
            conn.execute("ANALYZE")
        statements = _statements(uow, actors[role])
        assert statements, "the scope query ran no SQL"
        for sql in statements:
            plan = [row["detail"] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
            for step in plan:
                # Only the request's own team list may be walked, never a table.
                if step.startswith("SCAN"):
                    assert "VIRTUAL TABLE" in step, plan
                # The primary key only by (entity, id): a seek by entity alone walks
                # every record of that entity.
                assert "(entity=?)" not in step, plan
            if role in access.STAFF:
                assert any("records_live_patient_team" in step for step in plan), plan

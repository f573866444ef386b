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


# -- PostgreSQL: the same scope, and its plans with realistic row counts ------------------
#
# PostgreSQL's planner rightly walks a table of a few pages instead of using an index, so
# the plans are read over a caseload of thousands of patients and carer links (written
# with SQL here: only their count matters), before and after ANALYZE. The statements are
# the ones ``visible_patient_ids`` really runs, caught on their way to the connection.

BULK_TEAMS, BULK_PER_TEAM = 400, 10


class _Recorder:
    """A connection that notes each statement and its parameters, then runs it."""

    def __init__(self, conn):
        self.conn = conn
        self.seen: list[tuple[str, object]] = []

    def execute(self, sql, params=None):
        self.seen.append((sql, params))
        return self.conn.execute(sql, params)


def _bulk_records(conn) -> None:
    conn.execute(
        "INSERT INTO records (entity, id, version, updated_at, patient_id, data, seq)"
        " SELECT 'patient', p.id, 1, '2026-11-24T09:00:00.000000+00:00', p.id,"
        " jsonb_build_object('team_id', 'bulk-team-' || (g %% %s), 'given_name', 'Bulk'),"
        " 1000000 + g FROM (SELECT gen_random_uuid()::text AS id, g"
        " FROM generate_series(1, %s) AS g) AS p",
        (BULK_TEAMS, BULK_TEAMS * BULK_PER_TEAM))
    conn.execute(
        "INSERT INTO records (entity, id, version, updated_at, patient_id, data, seq)"
        " SELECT 'carer_link', gen_random_uuid()::text, 1, '2026-11-24T09:00:00.000000+00:00',"
        " p.id, jsonb_build_object('patient_id', p.id, 'carer_user_id', 'bulk-carer-' || p.seq,"
        " 'active', true), 2000000 + p.seq FROM records p WHERE p.entity = 'patient'")


@pytest.fixture
def pg_world(postgres_url):
    from storage import open_storage
    from storage.contract.records_helpers import carer_link as link
    from storage.contract.records_helpers import patient, write

    storage = open_storage(postgres_url)
    team_a, team_b, team_c = (f"team-{name}" for name in "abc")
    a1, a2 = patient(storage, team_a), patient(storage, team_a)
    b1 = patient(storage, team_b)
    patient(storage, team_c)
    gone, moved = patient(storage, team_a), patient(storage, team_a)
    objecting = patient(storage, team_c)
    write(storage, "patient", {}, gone, op="delete")
    write(storage, "patient", {"team_id": team_c}, moved, op="update")
    link(storage, a2, "carer-1")
    link(storage, b1, "carer-1", active=False)
    link(storage, objecting, "carer-1")
    write(storage, "patient", {"sharing_objection": True}, objecting, op="update")
    with storage.write() as uow:
        uow.conn.execute(
            "INSERT INTO users (id, username, password_hash, role, display_name, patient_id,"
            " created_at) VALUES ('patient-1', 'pat', 'x', 'patient', 'Pat', %s, 'now')",
            (a1,))
        _bulk_records(uow.conn)
    actors = {
        "nurse": Actor("n", "nurse", "d", frozenset({team_a})),
        "coordinator": Actor("c", "coordinator", "d", frozenset({team_a, team_b})),
        "patient": Actor("patient-1", "patient", "d"),
        "carer": Actor("carer-1", "carer", "d"),
        "admin": Actor("a", "admin", "d"),
    }
    expected = {"nurse": {a1, a2}, "coordinator": {a1, a2, b1}, "patient": {a1},
                "carer": {a2}, "admin": set()}
    yield storage, actors, expected
    storage.close()


def test_each_role_sees_the_patients_the_rules_allow_on_postgres(pg_world):
    storage, actors, expected = pg_world
    with storage.read() as uow:
        for role, actor in actors.items():
            assert access.visible_patient_ids(uow, actor) == expected[role], role


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


@pytest.mark.parametrize("analyzed", [False, True])
@pytest.mark.parametrize("role", ["nurse", "coordinator", "patient", "carer"])
def test_scope_queries_use_indexes_on_postgres(pg_world, role, analyzed):
    storage, actors, _ = pg_world
    if analyzed:
        with storage.write() as uow:
            uow.conn.execute("ANALYZE")
    with storage.read() as uow:
        recorder = _Recorder(uow.conn)
        uow.records.conn = recorder  # type: ignore[attr-defined]
        access.visible_patient_ids(uow, actors[role])
        assert recorder.seen, "the scope query ran no SQL"
        for sql, params in recorder.seen:
            explained = uow.conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
            nodes = list(_plan_nodes(explained[0][0]["Plan"]))
            steps = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name"))
                     for n in nodes]
            # Never a walk of every record.
            assert ("Seq Scan", "records", None) not in steps, steps
            if role in access.STAFF:
                assert any(index == "records_live_patient_team" for *_, index in steps), steps
            if role == "carer":
                assert any(index == "records_carer_link_carer" for *_, index in steps), steps

"""Patient and carer enrolment by one-time invite code (SPEC §7)."""

from __future__ import annotations

import pytest
from conftest import login, make_patient, make_team, make_user
from test_sync_http import mutation, pull_all, push

# The HTTP checks run against SQLite and PostgreSQL (tests/conftest.py `backend`).
pytestmark = pytest.mark.both_backends


@pytest.fixture
def setup(app, client):
    team = make_team(app)
    patient = make_patient(app, team)
    nurse = login(client, make_user(app, "nurse", teams=(team,)).username)
    return {"team": team, "patient": patient, "nurse": nurse}


def invite(session, patient_id, **body):
    return session.post(f"/api/v1/patients/{patient_id}/invites", json=body)


def enrol(client, code, username="edith", password="sunflower7"):
    return client.post("/api/v1/auth/enrol", json={
        "code": code, "username": username, "password": password,
        "display_name": "Edith"})


def test_patient_enrols_and_sees_only_their_record(app, client, setup):
    made = invite(setup["nurse"], setup["patient"], role="patient")
    assert made.status_code == 201
    assert len(made.json["code"].replace("-", "")) == 12
    assert enrol(client, made.json["code"].lower()).status_code == 201
    session = login(client, "edith", "sunflower7")
    changes, _, _ = pull_all(session)
    assert {c["id"] for c in changes if c["entity"] == "patient"} == {setup["patient"]}


def test_code_is_single_use_and_expires_after_7_days(app, client, clock, setup):
    code = invite(setup["nurse"], setup["patient"], role="patient").json["code"]
    assert enrol(client, code).status_code == 201
    reused = enrol(client, code, username="someone")
    assert reused.status_code == 422 and "already been used" in reused.json["message"]
    other = make_patient(app, setup["team"])
    late = invite(setup["nurse"], other, role="patient").json["code"]
    clock.advance(days=7, seconds=1)
    expired = enrol(client, late, username="late")
    assert expired.status_code == 422 and "expired" in expired.json["message"]


def test_carer_enrolment_creates_an_active_link(app, client, setup):
    code = invite(setup["nurse"], setup["patient"], role="carer", relationship="son",
                  consent_basis="patient_consent").json["code"]
    assert enrol(client, code, username="son").status_code == 201
    carer = login(client, "son", "sunflower7")
    changes, _, _ = pull_all(carer)
    links = [c for c in changes if c["entity"] == "carer_link"]
    assert len(links) == 1 and links[0]["data"]["active"] is True
    goal = carer.get(f"/api/v1/patients/{setup['patient']}")
    assert goal.status_code == 200


def test_carer_invite_needs_relationship_and_consent(setup):
    response = invite(setup["nurse"], setup["patient"], role="carer")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"relationship", "consent_basis"}


def test_sharing_objection_blocks_carer_invites_and_evicts_carers(app, client, setup):
    code = invite(setup["nurse"], setup["patient"], role="carer", relationship="son",
                  consent_basis="patient_consent").json["code"]
    enrol(client, code, username="son")
    carer = login(client, "son", "sunflower7")
    _, _, cursor = pull_all(carer)
    objected = push(setup["nurse"], mutation(1, "patient", setup["patient"], op="update",
                                             base=1, sharing_objection=True))
    assert objected.json["results"][0]["status"] == "applied"
    _, evictions, _ = pull_all(carer, cursor)
    assert {"entity": "patient", "id": setup["patient"]} in evictions
    refused = invite(setup["nurse"], setup["patient"], role="carer", relationship="son",
                     consent_basis="patient_consent")
    assert refused.status_code == 409


def test_only_staff_who_see_the_patient_can_invite(app, client, setup):
    outsider = login(client, make_user(app, "nurse", teams=(make_team(app),)).username)
    assert invite(outsider, setup["patient"], role="patient").status_code == 404
    admin = login(client, make_user(app, "admin").username)
    assert invite(admin, setup["patient"], role="patient").status_code == 404


def test_wrong_codes_are_throttled(client, setup):
    for _ in range(5):
        assert enrol(client, "AAAA-BBBB-CCCC").status_code == 422
    assert enrol(client, "AAAA-BBBB-CCCC").status_code == 429


@pytest.mark.parametrize("role", ["carer", "patient"])
def test_two_enrolments_at_the_same_moment_use_a_code_once(app, setup, role):
    """Each enrolment on its own connection (thread), released together: one wins."""
    import sys
    import threading

    body = {"role": role}
    if role == "carer":
        body |= {"relationship": "son", "consent_basis": "patient_consent"}
    code = invite(setup["nurse"], setup["patient"], **body).json["code"]
    racers = 4
    start = threading.Barrier(racers)
    statuses: list[int] = []

    def race(index: int) -> None:
        client = app.test_client()
        start.wait()
        statuses.append(enrol(client, code, username=f"racer{index}").status_code)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    # Switch threads very often so the enrolments really interleave (the GIL would
    # otherwise run each request to its end within one 5 ms slice).
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert sorted(statuses) == [201] + [422] * (racers - 1)
    with app.app_context():
        import dbtools as db

        conn = db.get_db()
        accounts = conn.execute(
            "SELECT count(*) FROM users WHERE username LIKE 'racer%'").fetchone()[0]
        links = conn.execute(
            "SELECT count(*) FROM records WHERE entity = 'carer_link'").fetchone()[0]
    assert accounts == 1
    assert links == (1 if role == "carer" else 0)


# Interleaves through sqlite3's trace callback; PostgreSQL's race is in test_postgres_*.
@pytest.mark.sqlite_only
def test_an_enrolment_that_starts_between_anothers_check_and_use_fails(app, setup):
    """Two connections, interleaved at the worst moment: the second enrolment runs from
    start to end just as the first, its code checked, begins to use it."""
    import dbtools as db

    from server.clock import utcnow
    from server.services import enrolment
    from storage import open_storage

    code = invite(setup["nurse"], setup["patient"], role="carer", relationship="son",
                  consent_basis="patient_consent").json["code"]
    outcomes: list[object] = []
    with app.app_context():
        first = open_storage(app.config["DB"], clock=utcnow)
        second = open_storage(app.config["DB"], clock=utcnow)

        def attempt(storage, username):
            try:
                return enrolment.enrol(storage, "10.0.0.1", code=code, username=username,
                                       password="sunflower7", display_name="Son").username
            except enrolment.EnrolmentError as exc:
                return exc.code

        begins = []

        def between_check_and_use(sql):
            if sql.startswith("BEGIN"):
                begins.append(sql)
                if len(begins) == 2:  # the first's check is committed; its use begins
                    outcomes.append(attempt(second, "second"))

        with first.read() as uow:  # the first storage's (persistent) connection
            uow.conn.set_trace_callback(between_check_and_use)
        outcomes.append(attempt(first, "first"))
        first.close()
        second.close()
        links = db.get_db().execute(
            "SELECT count(*) FROM records WHERE entity = 'carer_link'").fetchone()[0]
    assert outcomes == ["second", 422]
    assert links == 1

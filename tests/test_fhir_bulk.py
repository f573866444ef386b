"""FHIR Bulk Data export: kick-off, status, NDJSON output (each line validated as R4),
_since, _type, exclusions (sharing objection, other teams), access by role, cancel,
audit, and one run per job across processes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dbtools as db
import pytest
from conftest import login_as, make_patient, make_team
from fhir_helpers import push, seed_record, validate

from server import database
from server.fhir import bulk
from storage import open_storage
from sync.registry import Actor

FHIR = "/api/v1/fhir"
ASYNC = {"Prefer": "respond-async"}


@pytest.fixture(autouse=True)
def no_export_left_running(app: Any) -> Iterator[None]:
    yield
    bulk.join_workers(app)


@pytest.fixture
def teams(app: Any, client: Any) -> dict[str, Any]:
    team, other_team = make_team(app), make_team(app)
    nurse = login_as(app, client, "nurse", teams=(team, other_team))
    coordinator = login_as(app, client, "coordinator", teams=(team,))
    ids = seed_record(app, nurse, team, "1")
    objecting = seed_record(app, nurse, team, "2", sharing_objection=True)
    elsewhere = seed_record(app, nurse, other_team, "3")
    return {"team": team, "other_team": other_team, "nurse": nurse,
            "coordinator": coordinator, "ids": ids, "objecting": objecting,
            "elsewhere": elsewhere}


def kick_off(session: Any, path: str = "$export", status: int = 202, **kw: Any) -> Any:
    response = session.client.get(f"{FHIR}/{path}", headers={**session.headers(), **ASYNC},
                                  **kw)
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def wait_for_manifest(session: Any, status_url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = session.get(status_url)
        if response.status_code == 200:
            assert response.mimetype == "application/fhir+json"
            manifest: dict[str, Any] = response.get_json()
            return manifest
        assert response.status_code == 202, response.get_data(as_text=True)
        assert response.headers["X-Progress"]
        time.sleep(0.02)
    raise AssertionError("export did not finish")


def export(session: Any, path: str = "$export") -> dict[str, Any]:
    response = kick_off(session, path)
    return wait_for_manifest(session, response.headers["Content-Location"])


def download(session: Any, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    files = {}
    for output in manifest["output"]:
        response = session.get(output["url"])
        assert response.status_code == 200
        assert response.mimetype == "application/fhir+ndjson"
        lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
        response.close()  # send_file streams from an open file
        assert len(lines) == output["count"]
        files[output["type"]] = [validate(line) for line in lines]
    return files


def audit_rows(app: Any, action: str) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.get_db().execute(
            "SELECT * FROM audit_log WHERE action = ? ORDER BY id", (action,)).fetchall()
    return [dict(row) for row in rows]


def test_export_of_the_coordinators_teams_without_objecting_patients(
    teams: Any, app: Any
) -> None:
    coordinator = teams["coordinator"]
    manifest = export(coordinator)
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("/api/v1/fhir/$export")
    assert manifest["transactionTime"].startswith("2026-11-24T09:00")
    files = download(coordinator, manifest)
    assert sorted(files) == sorted(["Patient", "RelatedPerson", "Encounter", "Provenance",
                                    "QuestionnaireResponse", "RiskAssessment",
                                    "Observation", "Goal", "Flag", "CarePlan"])
    exported_patients = {p["id"] for p in files["Patient"]}
    assert exported_patients == {teams["ids"]["patient"]}
    everything = json.dumps(files)
    for left_out in (teams["objecting"]["patient"], teams["elsewhere"]["patient"]):
        assert left_out not in everything
    # Audited: the request, one read per exported patient, and each download.
    (requested,) = audit_rows(app, "fhir_export_requested")
    assert requested["user_id"] == coordinator.user["id"]
    reads = [r for r in audit_rows(app, "read") if '"fhir:export"' in (r["detail"] or "")]
    assert [r["patient_id"] for r in reads] == [teams["ids"]["patient"]]
    assert len(audit_rows(app, "fhir_export_downloaded")) == len(files)


def test_risk_profiling_opt_out_leaves_out_only_the_risk_assessment(
    teams: Any, app: Any
) -> None:
    opted_out = seed_record(app, teams["nurse"], teams["team"], "4",
                            risk_profiling_opt_out=True)
    files = download(teams["coordinator"], export(teams["coordinator"]))
    assert opted_out["patient"] in {p["id"] for p in files["Patient"]}
    assert opted_out["falls"] in {r["id"] for r in files["QuestionnaireResponse"]}
    assert [r["id"] for r in files["RiskAssessment"]] == [teams["ids"]["falls"]]


def test_since_exports_only_what_changed_on_the_server_since(
    teams: Any, app: Any, clock: Any
) -> None:
    coordinator, nurse = teams["coordinator"], teams["nurse"]
    clock.advance(minutes=1)  # _since is inclusive: records at exactly T come again
    first = export(coordinator)
    clock.advance(minutes=5)
    push(nurse, "goal", teams["ids"]["goal"], {"status": "achieved"}, op="update",
         base_version=1)
    since = first["transactionTime"].replace("+00:00", "Z")
    response = kick_off(coordinator, f"$export?_since={since}")
    files = download(coordinator, wait_for_manifest(coordinator,
                                                    response.headers["Content-Location"]))
    assert sorted(files) == ["CarePlan", "Goal"]
    (goal,) = files["Goal"]
    assert goal["lifecycleStatus"] == "completed"


def test_type_filter_and_group_export(teams: Any) -> None:
    coordinator = teams["coordinator"]
    response = kick_off(coordinator, f"Group/{teams['team']}/$export?_type=Patient,Goal")
    files = download(coordinator, wait_for_manifest(coordinator,
                                                    response.headers["Content-Location"]))
    assert sorted(files) == ["Goal", "Patient"]


def test_only_coordinators_export_and_only_their_teams(teams: Any, app: Any,
                                                       client: Any) -> None:
    for role in ("nurse", "admin", "patient", "carer"):
        session = login_as(app, client, role, teams=(teams["team"],) if role == "nurse"
                           else ())
        outcome = kick_off(session, status=403).get_json()
        assert validate(outcome)["issue"][0]["code"] == "forbidden"
    coordinator = teams["coordinator"]
    kick_off(coordinator, f"Group/{teams['other_team']}/$export", status=404)
    bad = kick_off(coordinator, "$export?_type=Spaceship", status=422).get_json()
    assert validate(bad)["resourceType"] == "OperationOutcome"
    for since in ("yesterday", "2026-11-24T09:00:00", "0001-01-01T00:00:00%2B01:00"):
        kick_off(coordinator, f"$export?_since={since}", status=422)
    no_prefer = coordinator.get(f"{FHIR}/$export")
    assert no_prefer.status_code == 400


def test_status_and_files_belong_to_the_requester(teams: Any, app: Any,
                                                  client: Any) -> None:
    coordinator = teams["coordinator"]
    status_url = kick_off(coordinator).headers["Content-Location"]
    manifest = wait_for_manifest(coordinator, status_url)
    colleague = login_as(app, client, "coordinator", teams=(teams["team"],))
    assert colleague.get(status_url).status_code == 404
    assert colleague.get(manifest["output"][0]["url"]).status_code == 404
    assert client.get(manifest["output"][0]["url"]).status_code == 401


def test_delete_cancels_and_removes_the_files(teams: Any, app: Any) -> None:
    coordinator = teams["coordinator"]
    status_url = kick_off(coordinator).headers["Content-Location"]
    manifest = wait_for_manifest(coordinator, status_url)
    assert coordinator.delete(status_url).status_code == 202
    assert coordinator.get(status_url).status_code == 404
    assert coordinator.get(manifest["output"][0]["url"]).status_code == 404
    assert coordinator.delete(status_url).status_code == 404
    assert len(audit_rows(app, "fhir_export_cancelled")) == 1


def test_one_export_at_a_time_per_user(teams: Any, app: Any) -> None:
    coordinator = teams["coordinator"]
    with app.app_context():
        conn = db.get_db()
        with db.write_transaction(conn):
            conn.execute(
                "INSERT INTO fhir_exports (id, user_id, client_id, types, request_url,"
                " base_url, canonical_base, status, created_at) VALUES ('held', ?, ?, '[]',"
                " 'x', 'x', 'x', 'running', 'x')",
                (coordinator.user["id"], coordinator.client_id))
    kick_off(coordinator, status=429)


def test_a_job_is_claimed_by_one_worker_and_taken_over_when_stale(
    teams: Any, app: Any, clock: Any
) -> None:
    with app.app_context():
        # Two processes: two storages on one database file.
        first = open_storage(app.config["DATABASE"])
        second = open_storage(app.config["DATABASE"])
        conn = db.get_db()
        with db.write_transaction(conn):
            conn.execute(
                "INSERT INTO fhir_exports (id, user_id, client_id, types, request_url,"
                " base_url, canonical_base, status, created_at) VALUES ('job', ?, ?, '[]',"
                " 'x', 'x', 'x', 'queued', 'x')",
                (teams["coordinator"].user["id"], teams["coordinator"].client_id))
        lease = timedelta(minutes=10)
        assert bulk.claim(first, "job", "process-a", lease)
        assert not bulk.claim(second, "job", "process-b", lease)
        clock.advance(minutes=11)  # process a died: its heartbeat went stale
        assert bulk.claim(second, "job", "process-b", lease)
        with pytest.raises(bulk.ExportCancelled):
            bulk.heartbeat(first, "job", "process-a", "late")  # a's late work is refused
        first.close()
        second.close()


def test_patient_added_after_the_export_is_in_the_next_since_export(
    teams: Any, app: Any, clock: Any
) -> None:
    coordinator = teams["coordinator"]
    clock.advance(seconds=1)
    first = export(coordinator)
    clock.advance(seconds=1)
    new_patient = make_patient(app, teams["team"])
    response = kick_off(coordinator, f"$export?_since={first['transactionTime']}"
                        .replace("+", "%2B"))
    files = download(coordinator, wait_for_manifest(coordinator,
                                                    response.headers["Content-Location"]))
    assert [p["id"] for p in files["Patient"]] == [new_patient]


def test_a_failed_export_answers_an_operation_outcome_and_logs_no_identifiers(
    teams: Any, app: Any, caplog: Any
) -> None:
    coordinator = teams["coordinator"]
    user_id = coordinator.user["id"]
    with app.app_context():
        with database.write() as uow:
            job_id = bulk.kick_off(uow, _actor(coordinator, teams["team"]), team_id=None,
                                   types=["Patient"], since=None, request_url="x",
                                   base_url="x", canonical_base="x")
        conn = db.get_db()
        with db.write_transaction(conn):
            # The requester stopped being a coordinator before the job ran.
            conn.execute("UPDATE users SET role = 'nurse' WHERE id = ?", (user_id,))
    bulk.run(app, job_id)
    with app.app_context():
        conn = db.get_db()
        with db.write_transaction(conn):
            conn.execute("UPDATE users SET role = 'coordinator' WHERE id = ?", (user_id,))
    response = coordinator.get(f"{FHIR}/bulk-status/{job_id}")
    assert response.status_code == 500
    assert validate(response.get_json())["issue"][0]["code"] == "exception"
    assert "RequesterGone" in caplog.text and user_id not in caplog.text


def _actor(session: Any, team: str) -> Actor:
    return Actor(session.user["id"], "coordinator", session.client_id, frozenset({team}))

"""Server support for the co-ordinator's desk (issue 14): who made each side of a conflict."""

from __future__ import annotations

from conftest import login, make_patient, make_record, make_team, make_user


def test_a_conflict_says_who_made_each_change_when_and_on_which_device(app, client):
    team = make_team(app)
    goal = make_record(app, "goal", {"patient_id": make_patient(app, team), "title": "Walk",
                                     "times_per_week": 3, "start_date": "2026-11-01",
                                     "status": "active"})
    first = login(client, make_user(app, "nurse", teams=(team,)).username, device="Tablet A")
    second = login(client, make_user(app, "nurse", teams=(team,)).username, device="Phone B")
    for n, (device, title) in enumerate(((first, "Walk to the shop"), (second, "Walk far"))):
        response = device.post("/api/v1/sync/push", json={
            "client_id": device.client_id, "schema_version": 1,
            "mutations": [{"mutation_id": 1, "entity": "goal", "id": goal, "op": "update",
                           "base_version": 1, "fields": {"title": title}}]})
        assert response.json["results"][0]["status"] == ("applied", "conflict")[n]
    [conflict_id] = response.json["results"][0]["conflict_ids"]

    response = second.get(f"/api/v1/conflicts/{conflict_id}/changes")
    assert response.status_code == 200
    body = response.json
    assert (body["offline"]["user_id"], body["offline"]["device"]) == (
        second.user["id"], "Phone B")
    assert (body["server"]["user_id"], body["server"]["device"]) == (
        first.user["id"], "Tablet A")
    assert body["offline"]["name"] == body["server"]["name"] == "Test Nurse"
    assert body["offline"]["at"].startswith("2026-11-24T09:00")
    assert body["server"]["at"].startswith("2026-11-24T09:00")

    outsider = login(client, make_user(app, "nurse", teams=(make_team(app),)).username)
    assert outsider.get(f"/api/v1/conflicts/{conflict_id}/changes").status_code == 404
    assert second.get("/api/v1/conflicts/nope/changes").status_code == 404


def test_every_record_field_has_a_label_for_people():
    """One label table for the whole app (pwa/src/lib/labels.js FIELD): no field a
    conflict, a correction or an error can name appears raw ("Tug seconds")."""
    import re
    from pathlib import Path

    from server.records.schemas.record_schemas import SCHEMAS

    source = (Path(__file__).parents[1] / "pwa" / "src" / "lib" / "labels.js").read_text()
    table = source.split("export const FIELD = {", 1)[1].split("};", 1)[0]
    labelled = set(re.findall(r"\b([a-z][a-z0-9_]*): '", table))
    fields = {name for schema in SCHEMAS.values() for name in schema._declared_fields}
    assert fields - labelled == set()

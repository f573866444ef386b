"""GET /conflicts?record_id=…: one record's conflicts, which a device fetches right after
a push answered "conflict" to show what the server applied and kept (issue 10 item 5)."""

from __future__ import annotations

from typing import Any

from conftest import login_as, make_patient, make_record, make_team
from flask import Flask
from flask.testing import FlaskClient


def conflicting_title(device: Any, n: int, goal_id: str, title: str) -> dict[str, Any]:
    response = device.post("/api/v1/sync/push", json={
        "client_id": device.client_id, "schema_version": 1,
        "mutations": [{"mutation_id": n, "entity": "goal", "id": goal_id, "op": "update",
                       "base_version": 1, "fields": {"title": title}}]})
    return dict(response.json["results"][0])


def test_conflicts_of_one_record(app: Flask, client: FlaskClient) -> None:
    team = make_team(app)
    patient = make_patient(app, team)
    goals = [make_record(app, "goal", {"patient_id": patient, "title": t, "times_per_week": 3,
                                       "start_date": "2026-01-01", "status": "active"})
             for t in ("Walk", "Stand")]
    first = login_as(app, client, "nurse", teams=(team,))
    second = login_as(app, client, "nurse", teams=(team,))
    for n, goal in enumerate(goals, 1):
        assert conflicting_title(first, n, goal, "First")["status"] == "applied"
    results = [conflicting_title(second, n, goal, "Second") for n, goal in enumerate(goals, 1)]
    assert [r["status"] for r in results] == ["conflict", "conflict"]

    response = second.get(f"/api/v1/conflicts?record_id={goals[0]}")
    assert response.status_code == 200
    [conflict] = response.json["items"]
    assert conflict["id"] == results[0]["conflict_ids"][0]
    assert conflict["data"]["field"] == "title"
    assert conflict["data"]["server_value"] == "First"
    assert len(second.get("/api/v1/conflicts").json["items"]) == 2

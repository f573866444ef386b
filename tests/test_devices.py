"""Devices: each login is a device; who may list and revoke; a revoked device's next
call answers 401 with errors.device == "revoked"."""

from __future__ import annotations

from conftest import login, make_team, make_user


def test_each_login_registers_a_device(app, client):
    user = make_user(app)
    first = login(client, user.username, device="Tablet A")
    second = login(client, user.username, device="Phone")
    assert first.client_id != second.client_id
    names = {d["name"] for d in first.get("/api/v1/devices").json}
    assert names == {"Tablet A", "Phone"}


def test_revoking_own_device(app, client):
    user = make_user(app)
    lost = login(client, user.username, device="Lost tablet")
    current = login(client, user.username, device="Phone")
    assert current.post(f"/api/v1/devices/{lost.client_id}/revoke").status_code == 204
    response = lost.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["errors"] == {"device": "revoked"}
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": lost.refresh_token})
    assert refresh.json["errors"] == {"device": "revoked"}
    assert current.get("/api/v1/me").status_code == 200


def test_team_coordinator_may_revoke_a_team_members_device(app, client):
    team, other_team = make_team(app), make_team(app)
    nurse = login(client, make_user(app, "nurse", teams=(team,)).username)
    coordinator = login(client, make_user(app, "coordinator", teams=(team,)).username)
    outsider = login(client, make_user(app, "coordinator", teams=(other_team,)).username)
    assert outsider.post(f"/api/v1/devices/{nurse.client_id}/revoke").status_code == 404
    assert nurse.client_id not in {d["client_id"] for d in outsider.get("/api/v1/devices").json}
    assert coordinator.post(f"/api/v1/devices/{nurse.client_id}/revoke").status_code == 204
    assert nurse.get("/api/v1/me").json["errors"] == {"device": "revoked"}


def test_nurse_cannot_revoke_a_colleagues_device(app, client):
    team = make_team(app)
    one = login(client, make_user(app, "nurse", teams=(team,)).username)
    two = login(client, make_user(app, "nurse", teams=(team,)).username)
    assert one.post(f"/api/v1/devices/{two.client_id}/revoke").status_code == 404
    assert two.get("/api/v1/me").status_code == 200


def test_admin_may_revoke_any_device(app, client):
    nurse = login(client, make_user(app).username)
    admin = login(client, make_user(app, "admin").username)
    assert admin.post(f"/api/v1/devices/{nurse.client_id}/revoke",
                      json={"reason": "reported stolen"}).status_code == 204
    assert nurse.get("/api/v1/me").status_code == 401


def test_a_device_reports_its_waiting_changes_and_its_coordinator_sees_them(app, client):
    team = make_team(app)
    nurse = login(client, make_user(app, "nurse", teams=(team,)).username, device="Tablet")
    coordinator = login(client, make_user(app, "coordinator", teams=(team,)).username)
    response = nurse.client.put("/api/v1/devices/current/waiting", headers=nurse.headers(),
                                json={"waiting": 4, "oldest_at": "2026-11-24T08:10:00+00:00"})
    assert response.status_code == 204
    [tablet] = [d for d in coordinator.get("/api/v1/devices").json
                if d["client_id"] == nurse.client_id]
    assert tablet["waiting_changes"] == 4
    assert tablet["oldest_waiting_at"].startswith("2026-11-24T08:10:00")
    assert tablet["waiting_reported_at"].startswith("2026-11-24T09:00")
    nurse.client.put("/api/v1/devices/current/waiting", headers=nurse.headers(),
                     json={"waiting": 0, "oldest_at": None})
    [tablet] = [d for d in nurse.get("/api/v1/devices").json if d["name"] == "Tablet"]
    assert (tablet["waiting_changes"], tablet["oldest_waiting_at"]) == (0, None)


def test_a_waiting_changes_report_is_checked(app, client):
    nurse = login(client, make_user(app).username)
    for body in ({"waiting": -1}, {"waiting": "4"}, {}, {"waiting": 1, "oldest_at": "soon"},
                 {"waiting": 1, "oldest_at": "2026-11-24T08:10:00"}):
        response = nurse.client.put("/api/v1/devices/current/waiting",
                                    headers=nurse.headers(), json=body)
        assert response.status_code == 422, body
        assert set(response.json) == {"code", "status", "message", "errors"}
    assert client.put("/api/v1/devices/current/waiting", json={"waiting": 1}).status_code == 401


def test_download_size_counts_the_records_a_first_sync_brings(app, client):
    from conftest import make_patient, make_record

    team, other = make_team(app), make_team(app)
    mine = make_patient(app, team)
    make_record(app, "goal", {"patient_id": mine, "title": "Walk", "times_per_week": 3,
                              "start_date": "2026-11-01", "status": "active"})
    make_patient(app, other)
    nurse = login(client, make_user(app, "nurse", teams=(team,)).username)
    response = nurse.get("/api/v1/devices/current/download-size")
    assert response.status_code == 200
    assert response.json == {"records": 2}  # the patient and their goal, not the other team

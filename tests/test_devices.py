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

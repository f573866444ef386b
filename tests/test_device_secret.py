"""The device secret behind the PWA's encryption at rest (issue 15, docs/security.md):
only the device itself may fetch it, every release is audited, and revoking the device
destroys it, so a revoked device's data cannot be unlocked again."""

from __future__ import annotations

import base64

import dbtools as db
from conftest import login, make_team, make_user


def secret_of(session):
    return session.get(f"/api/v1/devices/{session.client_id}/secret")


def stored_secret(app, client_id):
    with app.app_context():
        return db.get_db().execute(
            "SELECT secret FROM device_secrets WHERE client_id = ?", (client_id,)).fetchone()


def test_own_device_gets_the_same_32_byte_secret_each_time_with_its_lock_policy(app, client):
    nurse = login(client, make_user(app).username)
    first, second = secret_of(nurse), secret_of(nurse)
    assert first.status_code == 200
    assert first.json["secret"] == second.json["secret"]
    assert len(base64.urlsafe_b64decode(first.json["secret"] + "=")) == 32
    assert first.json["idle_lock_seconds"] == 300
    assert first.json["offline_unlock_seconds"] == 24 * 3600
    assert first.json["hidden_lock_seconds"] == 60


def test_each_device_has_its_own_secret(app, client):
    user = make_user(app)
    tablet, phone = login(client, user.username), login(client, user.username)
    assert secret_of(tablet).json["secret"] != secret_of(phone).json["secret"]


def test_another_device_of_the_same_user_or_a_coordinator_gets_404(app, client):
    team = make_team(app)
    user = make_user(app, teams=(team,))
    tablet, phone = login(client, user.username), login(client, user.username)
    coordinator = login(client, make_user(app, "coordinator", teams=(team,)).username)
    admin = login(client, make_user(app, "admin").username)
    for other in (phone, coordinator, admin):
        response = other.get(f"/api/v1/devices/{tablet.client_id}/secret")
        assert response.status_code == 404
        assert set(response.json) == {"code", "status", "message", "errors"}
    assert client.get(f"/api/v1/devices/{tablet.client_id}/secret").status_code == 401


def test_revoking_destroys_the_secret_and_the_device_gets_401(app, client):
    team = make_team(app)
    nurse = login(client, make_user(app, teams=(team,)).username)
    coordinator = login(client, make_user(app, "coordinator", teams=(team,)).username)
    assert secret_of(nurse).status_code == 200
    assert stored_secret(app, nurse.client_id) is not None
    assert coordinator.post(f"/api/v1/devices/{nurse.client_id}/revoke").status_code == 204
    assert stored_secret(app, nurse.client_id) is None
    response = secret_of(nurse)
    assert response.status_code == 401
    assert response.json["errors"] == {"device": "revoked"}


def test_theft_detection_revocation_destroys_the_secret_too(app, client, clock):
    nurse = login(client, make_user(app).username)
    assert secret_of(nurse).status_code == 200
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": nurse.refresh_token})
    assert first.status_code == 200
    clock.advance(seconds=61)  # past the grace window for retries of a lost answer
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": nurse.refresh_token})
    assert reused.json["errors"] == {"device": "revoked"}
    assert stored_secret(app, nurse.client_id) is None


def test_every_release_is_audited_without_the_secret(app, client):
    nurse = login(client, make_user(app).username)
    secret = secret_of(nurse).json["secret"]
    secret_of(nurse)
    with app.app_context():
        rows = db.get_db().execute(
            "SELECT user_id, client_id, detail FROM audit_log"
            " WHERE action = 'release_device_secret'").fetchall()
    assert len(rows) == 2
    assert all(row["client_id"] == nurse.client_id for row in rows)
    assert all(secret not in (row["detail"] or "") for row in rows)

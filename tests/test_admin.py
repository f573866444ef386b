"""Admins manage users and teams; passwords follow the staff rules."""

from __future__ import annotations

from conftest import login, make_patient, make_team, make_user
from test_throttle import write_lock_probe


def test_admin_creates_team_and_staff_user(app, client):
    admin = login(client, make_user(app, "admin").username)
    team = admin.post("/api/v1/teams", json={"name": "North Locality"})
    assert team.status_code == 201
    created = admin.post("/api/v1/users", json={
        "username": "sam.nurse", "password": "long enough pw", "role": "nurse",
        "display_name": "Sam", "team_ids": [team.json["id"]]})
    assert created.status_code == 201, created.json
    assert created.json["team_ids"] == [team.json["id"]]
    login(client, "sam.nurse", "long enough pw")


def test_staff_passwords_need_10_characters(app, client):
    admin = login(client, make_user(app, "admin").username)
    response = admin.post("/api/v1/users", json={
        "username": "short", "password": "123456789", "role": "coordinator",
        "display_name": "S"})
    assert response.status_code == 422
    assert response.json["errors"]["password"] == ["Must be at least 10 characters."]


def test_duplicate_username_and_team(app, client):
    admin = login(client, make_user(app, "admin", username="boss").username)
    assert admin.post("/api/v1/teams", json={"name": "A"}).status_code == 201
    assert admin.post("/api/v1/teams", json={"name": "A"}).status_code == 422
    response = admin.post("/api/v1/users", json={
        "username": "BOSS", "password": "long enough pw", "role": "nurse", "display_name": "x"})
    assert response.json["errors"]["username"] == ["This username is taken."]


def test_patients_and_carers_are_not_created_by_admins(app, client):
    admin = login(client, make_user(app, "admin").username)
    response = admin.post("/api/v1/users", json={
        "username": "pat", "password": "long enough pw", "role": "patient", "display_name": "P"})
    assert response.status_code == 422


def test_moving_a_user_between_teams(app, client):
    one, two = make_team(app), make_team(app)
    nurse = make_user(app, teams=(one,))
    admin = login(client, make_user(app, "admin").username)
    response = admin.patch(f"/api/v1/users/{nurse.id}", json={"team_ids": [two]})
    assert response.json["team_ids"] == [two]
    assert admin.patch("/api/v1/users/nope", json={"active": False}).status_code == 404
    assert admin.patch(f"/api/v1/users/{nurse.id}",
                       json={"team_ids": ["no-such-team"]}).status_code == 422


def test_new_accounts_are_hashed_without_holding_the_write_lock(app, client, monkeypatch):
    # Like a login's verification (test_throttle): argon2 under SQLite's write lock would
    # queue every other writer behind each account an admin or an enrolment creates.
    admin = login(client, make_user(app, "admin").username)
    nurse = login(client, make_user(app, "nurse", teams=(make_team(app),)).username)
    patient = make_patient(app, nurse.user["team_ids"][0])
    code = nurse.post(f"/api/v1/patients/{patient}/invites", json={"role": "patient"})
    with write_lock_probe(app, monkeypatch, "hash") as could_write:
        made = admin.post("/api/v1/users", json={
            "username": "sam.nurse", "password": "long enough pw", "role": "nurse",
            "display_name": "Sam", "team_ids": []})
        enrolled = client.post("/api/v1/auth/enrol", json={
            "code": code.json["code"], "username": "edith", "password": "sunflower7",
            "display_name": "Edith"})
    assert (made.status_code, enrolled.status_code) == (201, 201)
    assert could_write == [True, True]

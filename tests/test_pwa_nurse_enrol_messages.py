"""Enrolment errors say what is wrong, in the message people see (issue 14, Nurse):
a password too short, a code mistyped, used or expired."""

from __future__ import annotations

from conftest import login, make_patient, make_team, make_user


def _code(app, client):
    team = make_team(app)
    nurse = login(client, make_user(app, "nurse", teams=(team,)).username)
    made = nurse.post(f"/api/v1/patients/{make_patient(app, team)}/invites",
                      json={"role": "patient"})
    return made.json["code"]


def _enrol(client, code, password="sunflower7", username="edith"):
    return client.post("/api/v1/auth/enrol", json={
        "code": code, "username": username, "password": password, "display_name": "Edith"})


def test_a_short_password_is_named_in_the_message(app, client):
    response = _enrol(client, _code(app, client), password="short")
    assert response.status_code == 422
    assert response.json["message"] == "Password: must be at least 8 characters."
    assert response.json["errors"]["password"] == ["Must be at least 8 characters."]


def test_code_messages_say_what_to_do(app, client, clock):
    unknown = _enrol(client, "AAAA-BBBB-CCCC")
    assert unknown.json["message"] == (
        "This code is not recognised. Check it was typed correctly, or ask for a new one.")
    code = _code(app, client)
    assert _enrol(client, code).status_code == 201
    used = _enrol(client, code, username="again")
    assert used.json["message"] == "This code has already been used. Ask for a new one."
    late = _code(app, client)
    clock.advance(days=7, seconds=1)
    expired = _enrol(client, late, username="late")
    assert expired.json["message"] == "This code has expired. Ask your nurse for a new one."
    assert expired.json["errors"] == {"code": [expired.json["message"]]}

"""Account rules that once let bad input through (issue 10, item 16): a team given twice,
a password of spaces."""

from __future__ import annotations

import dbtools as db
import pytest
from click.testing import CliRunner
from conftest import login, make_team, make_user

from server import cli


def test_user_add_with_the_same_team_twice_makes_one_membership(tmp_path, monkeypatch):
    monkeypatch.setenv("DOORSTEP_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DOORSTEP_PASSWORD_HASH_MEMORY_KIB", "256")
    monkeypatch.setenv("DOORSTEP_PASSWORD_HASH_TIME_COST", "1")
    runner = CliRunner()
    assert runner.invoke(cli.main, ["init"]).exit_code == 0
    assert runner.invoke(cli.main, ["team", "add", "North"]).exit_code == 0
    result = runner.invoke(cli.main, ["user", "add", "nina", "--role", "nurse",
                                      "--team", "North", "--team", "North"],
                           input="a long password\n")
    assert result.exit_code == 0, result.output
    assert result.exception is None
    conn = db.connect(tmp_path / "instance" / "doorstep.db")
    assert conn.execute("SELECT count(*) FROM team_members").fetchone()[0] == 1


def test_the_api_takes_a_team_given_twice_as_one(app, client):
    admin = login(client, make_user(app, "admin").username)
    team = make_team(app)
    created = admin.post("/api/v1/users", json={
        "username": "sam", "password": "long enough pw", "role": "nurse",
        "display_name": "Sam", "team_ids": [team, team]})
    assert created.status_code == 201, created.json
    assert created.json["team_ids"] == [team]
    changed = admin.patch(f"/api/v1/users/{created.json['id']}", json={"team_ids": [team, team]})
    assert changed.status_code == 200, changed.json
    assert changed.json["team_ids"] == [team]


@pytest.mark.parametrize("password", [" " * 10, " " * 40, "a b c d e f g h i", "\t" * 12])
def test_a_staff_password_needs_ten_characters_that_are_not_spaces(app, client, password):
    admin = login(client, make_user(app, "admin").username)
    response = admin.post("/api/v1/users", json={
        "username": "sam", "password": password, "role": "nurse", "display_name": "Sam"})
    assert response.status_code == 422
    assert response.json["errors"]["password"] == [
        "Must have at least 10 characters that are not spaces."]


def test_a_passphrase_with_spaces_is_fine(app, client):
    admin = login(client, make_user(app, "admin").username)
    response = admin.post("/api/v1/users", json={
        "username": "sam", "password": "correct horse battery", "role": "nurse",
        "display_name": "Sam"})
    assert response.status_code == 201

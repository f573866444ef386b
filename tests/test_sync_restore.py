"""``doorstep restore`` through the CLI, then sync and sign-in through HTTP (issue 10 item 3).

After a restore no version repeats, a base version the restored database never issued
is stale (a conflict, never "up to date"), the full re-pull carries the restored
records, and security state newer than the backup stays: revoked devices, logged-out
and rotated tokens, disabled accounts and used invite codes.
"""

from __future__ import annotations

import uuid

import dbtools as db
import pytest
from click.testing import CliRunner
from conftest import PASSWORD, login, make_patient, make_team, make_user, migrated_app, test_config
from test_sync_http import mutation, pull, pull_all, push, visit_fields

from server import cli


@pytest.fixture
def app(tmp_path, clock, monkeypatch):
    monkeypatch.setenv("DOORSTEP_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DOORSTEP_PASSWORD_HASH_MEMORY_KIB", "256")
    monkeypatch.setenv("DOORSTEP_PASSWORD_HASH_TIME_COST", "1")
    return migrated_app(test_config(tmp_path, clock))


@pytest.fixture
def ward(app, client):
    team = make_team(app)
    patient = make_patient(app, team)
    nurse = make_user(app, "nurse", teams=(team,))
    return {"team": team, "patient": patient, "nurse": nurse,
            "a": login(client, nurse.username, device="tablet A"),
            "b": login(client, make_user(app, "nurse", teams=(team,)).username)}


def cli_run(*args):
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def backup_and_restore_around(tmp_path, between):
    """Back up, run ``between`` (changes the backup will not have), restore."""
    path = tmp_path / "backup.db"
    cli_run("backup", str(path))
    between()
    cli_run("restore", str(path), "--yes")


def record(app, entity, record_id):
    with app.app_context():
        return dict(db.get_db().execute(
            "SELECT version, data FROM records WHERE entity = ? AND id = ?",
            (entity, record_id)).fetchone())


def test_versions_never_repeat_and_a_pre_restore_base_conflicts(app, tmp_path, ward):
    visit = str(uuid.uuid4())
    push(ward["b"], mutation(1, "visit", visit, **visit_fields(ward["patient"], notes="first")))

    def edited_after_backup():
        done = push(ward["a"], mutation(1, "visit", visit, op="update", base=1,
                                        notes="lost in the restore")).json
        assert done["results"][0]["version"] == 2

    backup_and_restore_around(tmp_path, edited_after_backup)
    assert record(app, "visit", visit)["version"] == 1
    # Device B, after its re-pull, edits another field: a new version never issued before.
    changes, _, _ = pull_all(ward["b"])
    assert {c["id"]: c["version"] for c in changes}[visit] == 1
    applied = push(ward["b"], mutation(2, "visit", visit, op="update", base=1,
                                       status="in_progress")).json["results"][0]
    assert applied["status"] == "applied" and applied["version"] > 2
    # Device A edits on its pre-restore copy (version 2, which this database never
    # issued): B's notes must not be silently overwritten.
    stale = push(ward["a"], mutation(2, "visit", visit, op="update", base=2,
                                     notes="edited on the old copy")).json["results"][0]
    assert stale["status"] == "conflict"
    assert '"first"' in record(app, "visit", visit)["data"]


def test_a_base_above_the_current_version_is_stale_not_up_to_date(app, tmp_path, ward):
    visit = str(uuid.uuid4())
    push(ward["b"], mutation(1, "visit", visit, **visit_fields(ward["patient"], notes="first")))
    backup_and_restore_around(tmp_path, lambda: push(ward["a"], mutation(
        1, "visit", visit, op="update", base=1, notes="lost")))
    # Nobody edited since the restore; the base (2) is above the current version (1).
    stale = push(ward["a"], mutation(2, "visit", visit, op="update", base=2,
                                     notes="mine")).json["results"][0]
    assert stale["status"] == "conflict"
    assert '"first"' in record(app, "visit", visit)["data"]


def test_the_full_re_pull_after_410_carries_the_restored_records(app, tmp_path, ward):
    kept, lost = str(uuid.uuid4()), str(uuid.uuid4())
    push(ward["a"], mutation(1, "visit", kept, **visit_fields(ward["patient"], notes="kept")))
    _, _, cursor = pull_all(ward["a"])
    backup_and_restore_around(tmp_path, lambda: push(ward["a"], mutation(
        2, "visit", lost, **visit_fields(ward["patient"]))))
    assert pull(ward["a"], cursor).status_code == 410
    changes, _, _ = pull_all(ward["a"])
    visits = {c["id"]: c for c in changes if c["entity"] == "visit"}
    assert set(visits) == {kept} and visits[kept]["data"]["notes"] == "kept"


def test_security_state_newer_than_the_backup_stays(app, client, tmp_path, ward):
    coordinator = login(client, make_user(app, "coordinator", teams=(ward["team"],)).username)
    revoked = login(client, ward["nurse"].username, device="stolen tablet")
    logged_out = login(client, ward["nurse"].username, device="shared tablet")
    rotated = login(client, ward["nurse"].username, device="tablet C")
    leaver = make_user(app, "nurse", teams=(ward["team"],))
    leaver_session = login(client, leaver.username)
    # The stolen tablet's secret (its offline unlock) is in the backup; revoking destroys it.
    assert revoked.get(f"/api/v1/devices/{revoked.client_id}/secret").status_code == 200
    state = {}

    def security_changes():
        assert coordinator.post(f"/api/v1/devices/{revoked.client_id}/revoke").status_code in (
            200, 204)
        assert logged_out.post("/api/v1/auth/logout").status_code == 204
        state["pair"] = client.post("/api/v1/auth/refresh",
                                    json={"refresh_token": rotated.refresh_token}).json
        admin = login(client, make_user(app, "admin").username)
        assert admin.patch(f"/api/v1/users/{leaver.id}",
                           json={"active": False}).status_code == 200
        state["newcomer"] = make_user(app, "nurse", teams=(ward["team"],)).username

    backup_and_restore_around(tmp_path, security_changes)
    me = revoked.get("/api/v1/me")
    assert me.status_code == 401 and me.json["errors"] == {"device": "revoked"}
    assert logged_out.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/auth/refresh", json={
        "refresh_token": logged_out.refresh_token}).status_code == 401
    assert leaver_session.get("/api/v1/me").status_code == 401
    # The rotated session goes on with its new pair; the new account can sign in.
    headers = {"Authorization": f"Bearer {state['pair']['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert login(client, state["newcomer"], PASSWORD).user["username"] == state["newcomer"]
    with app.app_context():
        actions = [row[0] for row in db.get_db().execute("SELECT action FROM audit_log")]
    assert "logout" in actions  # audit rows newer than the backup are kept
    with app.app_context():
        secrets = {row[0] for row in db.get_db().execute("SELECT client_id FROM device_secrets")}
    assert revoked.client_id not in secrets  # not brought back from the backup


def test_an_invite_code_used_after_the_backup_stays_used(app, client, tmp_path, ward):
    code = ward["a"].post(f"/api/v1/patients/{ward['patient']}/invites",
                          json={"role": "patient"}).json["code"]

    def enrol():
        answer = client.post("/api/v1/auth/enrol", json={
            "code": code, "username": "edith", "password": "sunflower7",
            "display_name": "Edith"})
        assert answer.status_code == 201

    backup_and_restore_around(tmp_path, enrol)
    again = client.post("/api/v1/auth/enrol", json={
        "code": code, "username": "mallory", "password": "sunflower7",
        "display_name": "Mallory"})
    assert again.status_code == 422


def test_restore_onto_a_new_machine_still_raises_the_versions(app, tmp_path, ward):
    from storage.sqlite.restore import RESTORE_VERSION_MARGIN

    visit = str(uuid.uuid4())
    push(ward["a"], mutation(1, "visit", visit, **visit_fields(ward["patient"])))
    path = tmp_path / "backup.db"
    cli_run("backup", str(path))
    (tmp_path / "instance" / "doorstep.db").unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / "instance" / f"doorstep.db{suffix}").unlink(missing_ok=True)
    cli_run("restore", str(path), "--yes")
    applied = push(ward["a"], mutation(2, "visit", visit, op="update", base=1,
                                       notes="after")).json["results"][0]
    assert applied["version"] > RESTORE_VERSION_MARGIN

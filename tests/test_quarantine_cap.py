"""What one user may quarantine per day is capped (issue 10, item 14): beyond the cap a
push answers 429 in the one error shape, applies nothing and keeps nothing; the device
keeps its outbox and tries again later. The 105 MB-in-7 s disk fill is bounded."""

from __future__ import annotations

import uuid

import dbtools as db
import pytest
from conftest import login, make_patient, make_team, make_user, migrated_app, test_config
from test_errors import assert_shape
from test_sync_http import mutation, push, visit_fields


def usage(app, user_id=None):
    with app.app_context():
        where, params = ("WHERE user_id = ?", (user_id,)) if user_id else ("", ())
        return db.get_db().execute(
            f"SELECT count(*), coalesce(sum(length(CAST(raw AS BLOB))), 0)"
            f" FROM sync_quarantine {where}", params).fetchone()


def capped_world(tmp_path, clock, **caps):
    app = migrated_app(test_config(tmp_path, clock, **caps))
    client = app.test_client()
    team = make_team(app)
    patient = make_patient(app, team)
    nurse = make_user(app, "nurse", teams=(team,))
    return app, client, patient, nurse


def bad(mid):
    return mutation(mid, "visit", str(uuid.uuid4()), patient_id="no such field", nope=1)


def test_beyond_the_entry_cap_a_push_is_429_and_applies_nothing(tmp_path, clock):
    app, client, patient, nurse = capped_world(
        tmp_path, clock, QUARANTINE_MAX_ENTRIES_PER_USER_DAY=3)
    tablet = login(client, nurse.username, device="tablet")
    answer = push(tablet, bad(1), bad(2), bad(3))
    assert [r["status"] for r in answer.json["results"]] == ["rejected"] * 3
    good = mutation(5, "visit", str(uuid.uuid4()), **visit_fields(patient))
    refused = push(tablet, mutation(4, "visit", str(uuid.uuid4()), **visit_fields(patient)),
                   bad(5))
    body = assert_shape(refused, 429)
    assert "try again later" in body["message"]
    assert usage(app) == usage(app, nurse.id) and usage(app)[0] == 3
    # Nothing of the refused batch was applied: mutation 4 is still to be processed.
    again = push(tablet, mutation(4, "visit", str(uuid.uuid4()), **visit_fields(patient)), good)
    assert again.status_code == 200
    assert [r["status"] for r in again.json["results"]] == ["applied", "applied"]
    # Another device of the same user shares the cap; another user does not.
    phone = login(client, nurse.username, device="phone")
    assert push(phone, bad(1)).status_code == 429
    other = login(client, make_user(app, "nurse").username)
    assert push(other, bad(1)).status_code == 200
    # The cap is per 24 hours.
    clock.advance(hours=24, seconds=1)
    tomorrow = login(client, nurse.username, device="tablet")
    assert push(tomorrow, bad(1)).json["results"][0]["status"] == "rejected"


def test_malformed_batches_count_towards_the_byte_cap(tmp_path, clock):
    app, client, _, nurse = capped_world(
        tmp_path, clock, QUARANTINE_MAX_BYTES_PER_USER_DAY=5000)
    tablet = login(client, nurse.username)
    junk = "{" + "x" * 2000
    statuses = [tablet.post("/api/v1/sync/push", data=junk,
                            content_type="application/json").status_code for _ in range(4)]
    assert statuses == [422, 422, 429, 429]
    assert usage(app)[1] <= 5000


@pytest.mark.parametrize("device_count", [1, 3])
def test_the_default_cap_bounds_what_one_account_can_write(app, client, device_count):
    nurse = make_user(app, "nurse")
    sessions = [login(client, nurse.username, device=f"d{i}") for i in range(device_count)]
    junk = "{" + "x" * (5 * 1024 * 1024 - 100)
    statuses = []
    for i in range(7):
        response = sessions[i % device_count].post(
            "/api/v1/sync/push", data=junk, content_type="application/json")
        statuses.append(response.status_code)
    assert statuses.count(422) == 4 and statuses[4:] == [429, 429, 429]
    assert usage(app)[1] <= app.config["QUARANTINE_MAX_BYTES_PER_USER_DAY"]

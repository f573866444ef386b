"""Hostile input never answers 500 and never blocks a device (issue 10, item 13).

Whole-request problems (invalid UTF-8, JSON nested too deep, a lone UTF-16 surrogate
outside a push, integers beyond 64 bits) answer 4xx in the one error shape. Inside a
push, anything wrong with one mutation makes that mutation ``rejected`` with its raw
text quarantined, and the rest of the batch keeps its normal result.
"""

from __future__ import annotations

import base64
import json
import uuid

import dbtools as db
import pytest
from conftest import login, make_patient, make_record, make_team, make_user
from test_errors import assert_shape
from test_sync_http import mutation, push, visit_fields

SURROGATE = "\ud800"  # what JavaScript makes of half an emoji; JSON escapes it as \ud800
HUGE = 10**30
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def world(app, client):
    team = make_team(app)
    patient = make_patient(app, team)
    nurse = login(client, make_user(app, "nurse", teams=(team,)).username)
    coordinator = login(client, make_user(app, "coordinator", teams=(team,)).username)
    admin = login(client, make_user(app, "admin").username)
    return {"team": team, "patient": patient, "nurse": nurse, "coordinator": coordinator,
            "admin": admin, "escalation": str(uuid.uuid4())}


def json_endpoints(w):
    """Every endpoint taking a JSON body: (who, method, url, a valid-looking body)."""
    s = SURROGATE
    nurse, coord, admin = w["nurse"], w["coordinator"], w["admin"]
    return {
        "login": (None, "post", "/api/v1/auth/login",
                  {"username": s, "password": "x" * 12, "device_name": "t"}),
        "refresh": (None, "post", "/api/v1/auth/refresh", {"refresh_token": s}),
        "enrol": (None, "post", "/api/v1/auth/enrol",
                  {"code": "ABCD-EFGH", "username": "edith", "password": s * 9,
                   "display_name": "Edith"}),
        "revoke": (coord, "post", f"/api/v1/devices/{nurse.client_id}/revoke", {"reason": s}),
        "invite": (nurse, "post", f"/api/v1/patients/{w['patient']}/invites",
                   {"role": "carer", "relationship": s, "consent_basis": "patient_consent"}),
        "user add": (admin, "post", "/api/v1/users",
                     {"username": "sam", "password": s * 12, "role": "nurse",
                      "display_name": s, "team_ids": [w["team"]]}),
        "user change": (admin, "patch", f"/api/v1/users/{nurse.user['id']}",
                        {"team_ids": [s]}),
        "team add": (admin, "post", "/api/v1/teams", {"name": s}),
        "conflict resolve": (nurse, "post", f"/api/v1/conflicts/{uuid.uuid4()}/resolve",
                             {"resolution": "custom", "value": s}),
        "escalation resolve": (coord, "post",
                               f"/api/v1/escalations/{w['escalation']}/resolve",
                               {"note": s}),
        "subscribe": (nurse, "post", "/api/v1/push/subscriptions",
                      {"endpoint": "https://fcm.googleapis.com/" + s,
                       "keys": {"p256dh": s, "auth": s}}),
        "push": (nurse, "post", "/api/v1/sync/push",
                 {"client_id": s, "schema_version": 1, "mutations": []}),
        "device waiting": (nurse, "put", "/api/v1/devices/current/waiting",
                           {"waiting": 1, "oldest_at": s}),
    }


def send(client, who, method, url, data, content_type="application/json"):
    headers = who.headers() if who else {}
    return client.open(url, method=method.upper(), data=data, headers=headers,
                       content_type=content_type)


def test_every_json_endpoint_is_in_the_table(client, world):
    spec = client.get("/api/v1/openapi.json").json
    with_body = {(method, path) for path, ops in spec["paths"].items()
                 for method, op in ops.items() if "requestBody" in op}
    with_body.add(("post", "/api/v1/sync/push"))  # reads the raw body itself
    table = {(method, url) for _, method, url, _ in json_endpoints(world).values()}
    assert len(table) == len(with_body) == len(ENDPOINTS)


ENDPOINTS = ["login", "refresh", "enrol", "revoke", "invite", "user add", "user change",
             "team add", "conflict resolve", "escalation resolve", "subscribe", "push",
             "device waiting"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_lone_surrogate_is_refused_in_the_one_shape(client, world, name):
    who, method, url, body = json_endpoints(world)[name]
    response = send(client, who, method, url, json.dumps(body))
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert_shape(response, response.status_code)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_json_nested_100000_deep_is_refused(client, world, name):
    who, method, url, _ = json_endpoints(world)[name]
    response = send(client, who, method, url, DEEP)
    assert response.status_code in (400, 422)
    assert_shape(response, response.status_code)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_invalid_utf8_is_refused_not_replaced(app, client, world, name):
    who, method, url, body = json_endpoints(world)[name]
    raw = json.dumps(body).replace("\\ud800", "x").encode()
    raw = raw.replace(b'"x', b'"\xff\xfe', 1)
    response = send(client, who, method, url, raw)
    body = assert_shape(response, 400)
    assert "UTF-8" in body["message"]
    with app.app_context():
        rows = db.get_db().execute("SELECT raw FROM sync_quarantine").fetchall()
    assert not [r for r in rows if "\ufffd" in r[0]]


def quarantined(app):
    with app.app_context():
        return [dict(r) for r in db.get_db().execute(
            "SELECT reason, mutation_id, raw, errors FROM sync_quarantine ORDER BY id")]


def test_a_surrogate_in_one_mutation_rejects_only_that_one(app, world):
    nurse, patient = world["nurse"], world["patient"]
    good, bad, later = (str(uuid.uuid4()) for _ in range(3))
    batch = [mutation(1, "visit", good, **visit_fields(patient)),
             mutation(2, "visit", bad, **visit_fields(patient, notes="ok " + SURROGATE)),
             mutation(3, "visit", later, **visit_fields(patient))]
    first = push(nurse, *batch)
    assert first.status_code == 200, first.json
    assert [r["status"] for r in first.json["results"]] == ["applied", "rejected", "applied"]
    assert first.json["last_mutation_id"] == 3
    [entry] = quarantined(app)
    assert entry["mutation_id"] == 2 and json.loads(entry["raw"])["fields"]["notes"] == (
        "ok " + SURROGATE)
    # Replaying the batch answers the stored results; the outbox moves on.
    assert push(nurse, *batch).json["results"] == first.json["results"]
    fourth = push(nurse, mutation(4, "visit", str(uuid.uuid4()), **visit_fields(patient)))
    assert fourth.json["results"][0]["status"] == "applied"


@pytest.mark.parametrize("where", ["entity", "id", "field name", "op"])
def test_a_surrogate_anywhere_in_a_mutation_is_a_rejected_result(app, world, where):
    patient = world["patient"]
    item = mutation(1, "visit", str(uuid.uuid4()), **visit_fields(patient))
    if where == "field name":
        item["fields"][SURROGATE] = 1
    else:
        item[where] = SURROGATE
    response = push(world["nurse"], item)
    assert response.status_code == 200, response.json
    assert response.json["results"][0]["status"] == "rejected"
    assert len(quarantined(app)) == 1


def test_deep_json_inside_a_mutation_is_rejected_or_refused(world):
    item = {"mutation_id": 1, "entity": "visit", "id": str(uuid.uuid4()), "op": "create",
            "fields": {"notes": "DEEP"}}
    envelope = {"client_id": world["nurse"].client_id, "schema_version": 1, "mutations": [item]}
    body = json.dumps(envelope).replace('"DEEP"', DEEP)
    response = send(world["nurse"].client, world["nurse"], "post", "/api/v1/sync/push", body)
    assert response.status_code in (400, 422)
    assert_shape(response, response.status_code)


def test_record_ids_must_be_uuids(app, world):
    response = push(world["nurse"],
                    mutation(1, "visit", "not-a-uuid", **visit_fields(world["patient"])))
    [result] = response.json["results"]
    assert result["status"] == "rejected"
    assert result["errors"] == {"id": ["Must be a UUID."]}


def test_huge_mutation_id_is_a_malformed_batch(world):
    response = push(world["nurse"], mutation(HUGE, "visit", str(uuid.uuid4()),
                                             **visit_fields(world["patient"])))
    body = assert_shape(response, 422)
    assert "mutations" in body["errors"]


def test_huge_base_version_rejects_that_mutation(app, world):
    visit = make_record(app, "visit", visit_fields(world["patient"]))
    response = push(world["nurse"],
                    mutation(1, "visit", visit, op="update", base=HUGE, notes="later"),
                    mutation(2, "visit", str(uuid.uuid4()), **visit_fields(world["patient"])))
    assert response.status_code == 200, response.json
    assert [r["status"] for r in response.json["results"]] == ["rejected", "applied"]


def cursor_changed(cursor, **changes):
    """A real cursor (this database's epoch) with some of its fields changed."""
    body = cursor[len("c1."):]
    fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    names = ["epoch", "since", "held", "target", "pos", "floor", "key", "key_seq"]
    for name, value in changes.items():
        fields[names.index(name)] = value
    return "c1." + base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


@pytest.mark.parametrize("changes", [
    {"since": HUGE}, {"pos": HUGE}, {"floor": HUGE}, {"key_seq": HUGE},
    {"key": SURROGATE}, {"held": SURROGATE},
], ids=["since", "pos", "floor", "key_seq", "surrogate key", "surrogate set"])
def test_cursors_with_huge_numbers_or_bad_text_need_a_reset(world, changes):
    nurse = world["nurse"]
    query = {"client_id": nurse.client_id, "limit": 1}
    cursor = nurse.get("/api/v1/sync/pull", query_string=query).json["cursor"]
    response = nurse.get("/api/v1/sync/pull", query_string={
        **query, "cursor": cursor_changed(cursor, **changes)})
    assert_shape(response, 410)


@pytest.mark.parametrize("url", [
    "/api/v1/patients/{patient}/activation-scores?level={huge}",
    "/api/v1/audit?before_id={huge}",
    "/api/v1/audit?before_id=-{huge}",
    "/api/v1/patients?limit={huge}",
    "/api/v1/sync/pull?client_id=x&limit={huge}",
])
def test_huge_query_integers_are_422(world, url):
    who = world["admin"] if "audit" in url else world["nurse"]
    response = who.get(url.format(patient=world["patient"], huge=HUGE))
    assert_shape(response, 422)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e999"])
def test_numbers_json_has_not_are_refused(client, world, number):
    body = f'{{"name": "North", "x": {number}}}'
    response = send(client, world["admin"], "post", "/api/v1/teams", body)
    assert_shape(response, 400)


def test_a_surrogate_in_the_push_envelope_is_a_quarantined_malformed_batch(app, world):
    nurse = world["nurse"]
    body = json.dumps({"client_id": nurse.client_id, "schema_version": 1, "mutations": [],
                       SURROGATE: 1})
    response = send(nurse.client, nurse, "post", "/api/v1/sync/push", body)
    assert_shape(response, 422)
    [entry] = quarantined(app)
    assert json.loads(entry["raw"])[SURROGATE] == 1

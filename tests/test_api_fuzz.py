"""Fuzz the whole API from its OpenAPI document (issue 10, "done when").

For every role (nurse, coordinator, patient, carer, admin, and anonymous), schemathesis
makes requests for every operation of ``/api/v1/openapi.json``, valid ones and invalid
ones, with path ids drawn at random from real records and sessions as well as made up.
Every answer must be:

- no 5xx;
- declared: its status documented, its content type and its body valid against the
  operation's response schema (push, pull and the read resources declare theirs);
- an error (4xx) in the one shape ``{code, status, message, errors}`` and no other key.

The run is bounded for CI (about two minutes on a loaded two-core machine):
``DOORSTEP_FUZZ_EXAMPLES`` (default 8) examples per operation, generation mode and role.
Set it higher for a longer hunt, e.g. ``DOORSTEP_FUZZ_EXAMPLES=200``.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import schemathesis
from conftest import (
    login,
    make_patient,
    make_record,
    make_team,
    make_user,
    migrated_app,
    test_config,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_escalation_rules import escalations, fall
from test_sync_http import mutation, push, visit_fields

from server.notifications import vapid
from server.records.entities import ENTITIES

EXAMPLES = int(os.environ.get("DOORSTEP_FUZZ_EXAMPLES", "8"))
ROLES = ["nurse", "coordinator", "patient", "carer", "admin", "anonymous"]
ERROR_KEYS = {"code", "status", "message", "errors"}
PUBLIC_PASSWORD = "sunflower seeds"
# Operations that can end the fuzzing role's own session (or disable its account).
SESSION_ENDING = {"/api/v1/auth/logout", "/api/v1/devices/{client_id}/revoke",
                  "/api/v1/users/{user_id}"}


@schemathesis.check
def one_error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx answers exactly {code, status, message, errors}, code = the status; under
    the FHIR base, an OperationOutcome instead (docs/fhir.md)."""
    if response.status_code < 400:
        return None
    body = response.json()
    if case.operation.label.split(" ", 1)[1].startswith("/api/v1/fhir"):
        if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
            raise AssertionError(f"not an OperationOutcome: {body!r}"[:500])
        return True
    if not isinstance(body, dict) or set(body) != ERROR_KEYS:
        raise AssertionError(f"not the one error shape: {body!r}"[:500])
    if body["code"] != response.status_code or not isinstance(body["errors"], dict):
        raise AssertionError(f"error code {body['code']} for status {response.status_code}")
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, one_error_shape]


def enrol(client, nurse, patient, role, username, **invite):
    code = nurse.post(f"/api/v1/patients/{patient}/invites",
                      json={"role": role, **invite}).json["code"]
    answer = client.post("/api/v1/auth/enrol", json={
        "code": code, "username": username, "password": PUBLIC_PASSWORD,
        "display_name": username.title()})
    assert answer.status_code == 201, answer.json
    return login(client, username, PUBLIC_PASSWORD)


class World:
    """A fresh instance with one team, patient and signed-in user of each role."""

    def __init__(self, tmp_path, clock):
        self.app = migrated_app(test_config(
            tmp_path, clock, PROPAGATE_EXCEPTIONS=False,
            # Subscriptions the fuzzer makes point nowhere and fail fast.
            PUSH_ENDPOINT_HOSTS=".invalid", PUSH_MAX_TRIES=1, PUSH_TIMEOUT_SECONDS=0.5))
        vapid.ensure_vapid_keys(self.app.config["INSTANCE"])
        self.client = self.app.test_client()
        self.team = make_team(self.app)
        self.patient = make_patient(self.app, self.team)
        self.users = {role: make_user(self.app, role, teams=(self.team,))
                      for role in ("nurse", "coordinator")}
        self.users["admin"] = make_user(self.app, "admin")
        nurse = login(self.client, self.users["nurse"].username)
        self.sessions = {
            "patient": enrol(self.client, nurse, self.patient, "patient", "edith"),
            "carer": enrol(self.client, nurse, self.patient, "carer", "sam",
                           relationship="son", consent_basis="patient_consent"),
        }
        self.sessions["nurse"] = nurse
        make_record(self.app, "self_report", fall(self.patient))  # raises an escalation
        self.escalation_ids = [e["id"] for e in escalations(self.app)]
        self.conflict_ids = self.make_conflict(nurse)

    def make_conflict(self, nurse: Any) -> list[str]:
        """Two devices edit one visit's notes from the same version."""
        other = login(self.client, self.users["nurse"].username, device="second tablet")
        visit = str(uuid.uuid4())
        push(nurse, mutation(1, "visit", visit, **visit_fields(self.patient)))
        push(nurse, mutation(2, "visit", visit, op="update", base=1, notes="first"))
        answer = push(other, mutation(1, "visit", visit, op="update", base=1, notes="second"))
        ids: list[str] = answer.json["results"][0]["conflict_ids"]
        assert ids
        return ids

    def session(self, role: str, *, check: bool = False) -> Any:
        """A session of ``role``; with ``check``, a new one if the last ended."""
        if role == "anonymous":
            return None
        current = self.sessions.get(role)
        if current is None or (check and current.get("/api/v1/me").status_code == 401):
            user = self.users.get(role)
            username = user.username if user else {"patient": "edith", "carer": "sam"}[role]
            password = "correct horse battery" if user else PUBLIC_PASSWORD
            current = self.sessions[role] = login(self.client, username, password)
        return current

    def known_ids(self, role: str) -> dict[str, list[str]]:
        session = self.session(role)
        nurse = self.sessions["nurse"]
        return {
            "patient_id": [self.patient],
            "user_id": [self.users["nurse"].id, self.users["coordinator"].id],
            "client_id": [nurse.client_id] + ([session.client_id] if session else []),
            "escalation_id": self.escalation_ids,
            "conflict_id": self.conflict_ids,
        }


def aim_push_at_real_records(case: Any, session: Any, patient: str, data: Any) -> None:
    """Most random pushes stop at the envelope; make some reach the engine's rules."""
    if not isinstance(case.body, dict):
        return
    case.body.update(client_id=session.client_id, schema_version=1)
    mutations = case.body.get("mutations")
    if not isinstance(mutations, list):
        return
    for number, item in enumerate(mutations, start=1):
        if isinstance(item, dict):
            item.update(mutation_id=number, id=str(data.draw(st.uuids())),
                        entity=data.draw(st.sampled_from(ENTITIES)))
            if isinstance(item.get("fields"), dict):
                item["fields"]["patient_id"] = patient


def fuzz_operation(world: World, role: str, operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any, data: Any) -> None:
        session = world.session(role)
        known = world.known_ids(role)
        for name in list(case.path_parameters or {}):
            if name in known and data.draw(st.booleans()):
                case.path_parameters[name] = data.draw(st.sampled_from(known[name]))
        if isinstance(case.query, dict) and "client_id" in case.query and session:
            if data.draw(st.booleans()):
                case.query["client_id"] = session.client_id
        if operation.path == "/api/v1/sync/push" and session and data.draw(st.booleans()):
            aim_push_at_real_records(case, session, world.patient, data)
        # Uncompressed: schemathesis's in-process WSGI transport offers requests' default
        # Accept-Encoding but does not decode the answer (compression: test_compression.py).
        headers = {"Accept-Encoding": "identity", **(session.headers() if session else {})}
        case.headers = {**(case.headers or {}), **headers}
        response = case.call()
        case.validate_response(response, checks=CHECKS, headers=case.headers)
        if operation.path in SESSION_ENDING:
            world.session(role, check=True)

    run()


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_the_api_as(role, tmp_path, clock):
    world = World(tmp_path, clock)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz_operation(world, role, operation, mode)
            except (Exception, BaseExceptionGroup) as exc:  # collect all: one report per run
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:3000])
    assert not failures, "\n\n".join(failures)

"""Pulls' audit rows are committed in groups (server/services/audit_group.py): pulls that
run at once each get their rows, durably, before they answer; a group whose transaction
fails fails every request in it and writes none of its rows."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import login, make_patient, make_team, make_user

from server import database
from server.services.audit_group import GroupCommit
from storage.audit import AuditEntry

pytestmark = pytest.mark.both_backends


def test_pulls_at_once_each_audit_every_patient_they_got(app, client):
    team = make_team(app)
    patients = {make_patient(app, team) for _ in range(5)}
    nurse = make_user(app, "nurse", teams=(team,))
    devices = [login(app.test_client(), nurse.username, device=f"tablet {n}")
               for n in range(8)]
    start = threading.Barrier(len(devices))

    def pull(device):
        start.wait()
        return device.get("/api/v1/sync/pull", query_string={"client_id": device.client_id})

    with ThreadPoolExecutor(len(devices)) as pool:
        answers = list(pool.map(pull, devices))
    assert [answer.status_code for answer in answers] == [200] * len(devices)
    with app.app_context(), database.read() as uow:
        reads = [row for row in uow.audit.entries(user_id=nurse.id, limit=1000)
                 if row["action"] == "read"]
    by_device = {device.client_id: {row["patient_id"] for row in reads
                                    if row["client_id"] == device.client_id}
                 for device in devices}
    assert by_device == {device.client_id: patients for device in devices}
    assert len(reads) == len(devices) * len(patients)
    assert all(row["detail"] == {"via": "pull", "records": len(patients)} for row in reads)


def _read(patient_id: str) -> AuditEntry:
    return AuditEntry(at="2026-11-24T09:00:00.000000+00:00", action="read",
                      patient_id=patient_id)


def test_a_failed_group_fails_each_of_its_callers_and_writes_none_of_them(app):
    with app.app_context():
        storage = database.storage()
    group = GroupCommit(storage.write)
    leader_inside, leader_may_commit = threading.Event(), threading.Event()

    def leader_work(uow):
        uow.audit.append([_read("leader")])
        leader_inside.set()
        leader_may_commit.wait(10)

    def failing_work(uow):
        uow.audit.append([_read("doomed")])
        raise RuntimeError("this group's transaction fails")

    outcomes: dict[str, str] = {}

    def call(name, work):
        try:
            group.commit(work)
            outcomes[name] = "committed"
        except RuntimeError:
            outcomes[name] = "failed"

    leader = threading.Thread(target=call, args=("leader", leader_work))
    leader.start()
    assert leader_inside.wait(10)
    # Three callers arrive while the leader's transaction is open: they form one group.
    followers = [threading.Thread(target=call, args=(f"follower {n}", work)) for n, work in
                 enumerate([lambda uow: uow.audit.append([_read("f0")]), failing_work,
                            lambda uow: uow.audit.append([_read("f2")])])]
    for thread in followers:
        thread.start()
    for _ in range(1000):
        if len(group._waiting) == 3:
            break
        threading.Event().wait(0.01)
    assert len(group._waiting) == 3
    leader_may_commit.set()
    for thread in (leader, *followers):
        thread.join(10)
    assert outcomes == {"leader": "committed", "follower 0": "failed",
                        "follower 1": "failed", "follower 2": "failed"}
    with storage.read() as uow:
        assert [row["patient_id"] for row in uow.audit.entries()] == ["leader"]

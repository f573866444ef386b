"""Two schedulers (or a scheduler and a stray second one) running the escalation rules at
the same moment on one database raise each finding once, on SQLite and PostgreSQL: one
open escalation, one finding, one notice schedule; neither fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.config import DEFAULTS
from server.escalation import scans
from server.escalation.rules import Settings
from storage import Storage, open_storage
from storage.contract import care_data

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    url = (str(tmp_path / "schedulers.db") if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    opened = open_storage(url, clock=lambda: NOW)
    opened.migrate()
    yield opened
    opened.close()


def both_at_once(storage: Storage, job: Any) -> list[list[str]]:
    """Run ``job(storage, registry, now, settings)`` in two threads released together."""
    settings = Settings.from_config(DEFAULTS)
    start = threading.Barrier(2)
    raised: list[list[str]] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            start.wait()
            raised.append(job(storage, care_data.REGISTRY, NOW, settings))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return raised


def test_two_schedulers_raise_a_missed_visit_once(storage: Storage) -> None:
    end = NOW - timedelta(hours=3)
    with storage.write() as uow:
        patient = care_data.patient(uow)
        visit = care_data.write(uow, "visit", {
            "patient_id": patient, "status": "scheduled",
            "scheduled_start": (end - timedelta(minutes=30)).isoformat(),
            "scheduled_end": end.isoformat()})
    raised = both_at_once(storage, scans.find_missed_visits)
    assert sorted(len(ids) for ids in raised) == [0, 1]
    [escalation_id] = [ids[0] for ids in raised if ids]
    with storage.read() as uow:
        found = uow.care_records.open_escalation(patient, "missed_visit", visit)
        assert found is not None and found.id == escalation_id
        assert found.data["occurrences"] == 1
        assert uow.care_records.missed_visits(NOW, NOW - timedelta(days=7)) == []
        due = uow.notifications.due_escalation_notices(NOW + timedelta(days=1), limit=10)
    assert {n.escalation_id for n in due} == {escalation_id}
    assert [n.kind for n in due].count("opened") == 1


def test_two_schedulers_raise_a_lapsed_goal_once(storage: Storage) -> None:
    with storage.write() as uow:
        patient = care_data.patient(uow)
        goal = care_data.write(uow, "goal", {"patient_id": patient, "status": "active",
                                             "start_date": "2026-11-01"})
    raised = both_at_once(storage, scans.find_goals_not_logged)
    assert sorted(len(ids) for ids in raised) == [0, 1]
    with storage.read() as uow:
        found = uow.care_records.open_escalation(patient, "goal_not_logged", goal)
        assert found is not None and found.data["occurrences"] == 1

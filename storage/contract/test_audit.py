"""The audit log: rows appended in order, listed newest first, filtered and paged;
nothing in the interface changes or removes a row."""

from __future__ import annotations

import pytest

from storage import Storage
from storage.audit import Audit, AuditEntry
from storage.sqlite.audit import SqliteAudit


def _entry(n: int, patient_id: str | None = None, user_id: str | None = None) -> AuditEntry:
    return AuditEntry(at=f"2026-11-24T09:00:{n:02d}.000000+00:00", action="read",
                      patient_id=patient_id, user_id=user_id)


def test_rows_come_back_newest_first_with_every_field(storage: Storage) -> None:
    with storage.write() as uow:
        uow.audit.append([
            AuditEntry(at="2026-11-24T09:00:00.000000+00:00", action="login"),
            AuditEntry(at="2026-11-24T09:00:01.000000+00:00", action="read", user_id="u1",
                       role="nurse", client_id="c1", entity="patient", record_id="p1",
                       patient_id="p1", detail={"via": "pull", "records": 3}),
        ])
    with storage.read() as uow:
        rows = uow.audit.entries()
    assert [row["action"] for row in rows] == ["read", "login"]
    assert rows[0]["id"] > rows[1]["id"]
    newest = {k: v for k, v in rows[0].items() if k != "id"}
    assert newest == {"at": "2026-11-24T09:00:01.000000+00:00", "user_id": "u1",
                      "role": "nurse", "client_id": "c1", "action": "read",
                      "entity": "patient", "record_id": "p1", "patient_id": "p1",
                      "detail": {"via": "pull", "records": 3}}
    assert rows[1]["detail"] is None and rows[1]["user_id"] is None


def test_filters_and_paging(storage: Storage) -> None:
    with storage.write() as uow:
        uow.audit.append(_entry(n, patient_id=f"p{n % 2}", user_id=f"u{n % 3}")
                         for n in range(12))
    with storage.read() as uow:
        audit: Audit = uow.audit
        of_p0 = audit.entries(patient_id="p0")
        assert len(of_p0) == 6 and all(r["patient_id"] == "p0" for r in of_p0)
        both = audit.entries(patient_id="p0", user_id="u0")
        assert {r["at"][-15:-13] for r in both} == {"00", "06"}
        first = audit.entries(limit=5)
        second = audit.entries(limit=5, before_id=first[-1]["id"])
        assert len(first) == len(second) == 5
        assert first[-1]["id"] > second[0]["id"]
        ids = [r["id"] for r in first + second]
        assert ids == sorted(ids, reverse=True)


def test_one_row_per_patient_in_the_order_given(storage: Storage) -> None:
    shared = AuditEntry(at="2026-11-24T09:00:05.000000+00:00", action="read", user_id="u1",
                        role="nurse", client_id="c1", detail={"via": "pull", "records": 7})
    patients = ["p-b", "p-a", "p-c"]
    with storage.write() as uow:
        uow.audit.append([_entry(1)])
        uow.audit.append_each_patient(shared, patients)
        uow.audit.append_each_patient(shared, [])  # nothing to append
        uow.audit.append([_entry(2)])
    with storage.read() as uow:
        rows = list(reversed(uow.audit.entries()))
    assert [row["patient_id"] for row in rows] == [None, *patients, None]
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    for row in rows[1:4]:
        assert {k: v for k, v in row.items() if k not in ("id", "patient_id")} == {
            "at": "2026-11-24T09:00:05.000000+00:00", "user_id": "u1", "role": "nurse",
            "client_id": "c1", "action": "read", "entity": None, "record_id": None,
            "detail": {"via": "pull", "records": 7}}
    with storage.read() as uow:
        assert [row["patient_id"] for row in uow.audit.entries(patient_id="p-a")] == ["p-a"]


def test_a_rolled_back_unit_appends_nothing(storage: Storage) -> None:
    with pytest.raises(RuntimeError), storage.write() as uow:
        uow.audit.append([_entry(1)])
        raise RuntimeError("the request failed")
    with storage.read() as uow:
        assert uow.audit.entries() == []


def test_the_interface_only_appends_and_lists(storage: Storage) -> None:
    with storage.write() as uow:
        public = {name for name in dir(uow.audit) if not name.startswith("_")}
    assert not {"update", "delete", "remove", "clear"} & public


def test_lookups_by_patient_see_indexed_and_newest_rows(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite the patient index is filled in batches (storage/sqlite/audit.py): a
    lookup must find rows on both sides of the batch mark, newest first, and page
    across it."""
    monkeypatch.setattr(SqliteAudit, "index_batch", 5)
    for n in range(23):  # several batches, then an unindexed tail
        with storage.write() as uow:
            uow.audit.append_each_patient(_entry(n, user_id=f"u{n % 2}"),
                                          ["p-x", "p-y"] if n % 3 else ["p-y"])
    with storage.read() as uow:
        audit = uow.audit
        every = audit.entries(patient_id="p-x", limit=1000)
        assert [r["at"][-15:-13] for r in every] == [
            f"{n:02d}" for n in reversed(range(23)) if n % 3]
        paged: list[dict[str, object]] = []
        before = None
        while page := audit.entries(patient_id="p-x", limit=4, before_id=before):
            paged += page
            before = int(str(page[-1]["id"]))
        assert paged == every
        of_u1 = audit.entries(patient_id="p-x", user_id="u1", limit=1000)
        assert [r["at"][-15:-13] for r in of_u1] == [
            f"{n:02d}" for n in reversed(range(23)) if n % 3 and n % 2]
        assert len(audit.entries(patient_id="p-y", limit=1000)) == 23
        assert audit.entries(patient_id="p-z") == []

"""No change is skipped while other writers commit concurrently (SPEC §3.3).

Two threads push through their own connections while a third pulls incrementally in
a loop, all on one database (a WAL SQLite file, or PostgreSQL). Every record is written
once or twice, so a change skipped by a cursor would stay missing (or stale) on the
puller: after the writers stop and one last pull, the puller's copy must equal the
server's state exactly.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sync_helpers import Device, make_registry, make_store, nurse, seed_patient, server_view

BATCHES = 60
PER_BATCH = 8


class Progress:
    """How many pulls the reader has finished; writers wait on it so that pulls really
    interleave with commits however busy the machine is (not by luck of scheduling)."""

    def __init__(self) -> None:
        self.pulls = 0
        self.changed = threading.Condition()

    def pulled(self) -> None:
        with self.changed:
            self.pulls += 1
            self.changed.notify_all()

    def wait_for(self, pulls: int) -> None:
        deadline = time.monotonic() + 10
        with self.changed:
            while self.pulls < pulls and time.monotonic() < deadline:
                self.changed.wait(0.05)


def writer(path: Any, user: str, start: threading.Barrier, progress: Progress,
           errors: list[BaseException]) -> None:
    try:
        store = make_store(path)
        device = Device(store, make_registry(), nurse(user))
        start.wait()
        for batch in range(BATCHES):
            progress.wait_for(batch // 2)
            mutations = []
            for i in range(PER_BATCH):
                record_id = f"{user}-{batch}-{i}"
                mutations.append(
                    device.mutation(
                        "visit", record_id, "create", {"patient_id": "P1", "notes": "new"}
                    )
                )
                if i % 3 == 0:
                    mutations.append(
                        device.mutation("visit", record_id, "update", {"notes": "edited"}, base=1)
                    )
            assert {r.status for r in device.push(*mutations).results} == {"applied"}
        store.close()
    except BaseException as error:  # surfaced by the main thread
        errors.append(error)


def test_pulls_skip_nothing_while_two_writers_commit(sync_db: Any) -> None:
    path = sync_db
    setup = make_store(path)
    registry = make_registry()
    seed_patient(setup, registry, "P1", "A")
    reader_store = make_store(path)
    puller = Device(reader_store, registry, nurse("reader"))
    errors: list[BaseException] = []
    start = threading.Barrier(3)
    progress = Progress()
    threads = [
        threading.Thread(target=writer, args=(path, user, start, progress, errors))
        for user in ("w1", "w2")
    ]
    for thread in threads:
        thread.start()
    start.wait()
    pages_during_writes = 0
    while any(thread.is_alive() for thread in threads):
        pages_during_writes += len(puller.sync(limit=7))
        progress.pulled()
    for thread in threads:
        thread.join()
    assert errors == []
    puller.sync(limit=7)
    expected = server_view(setup, registry, puller.actor)
    assert len(expected) == 1 + 2 * BATCHES * PER_BATCH
    assert puller.records == expected
    assert pages_during_writes > 10  # the reader really ran while the writers did

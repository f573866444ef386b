"""Two write units of work at once, for the claim and check-then-write contracts: the
second one runs in another thread while the first is still open."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from storage import Storage, UnitOfWork

First = TypeVar("First")
Second = TypeVar("Second")


def while_open(storage: Storage, first: Callable[[UnitOfWork], First],
               second: Callable[[UnitOfWork], Second]) -> tuple[First, Second, bool]:
    """Run ``first`` in a write unit of work; while it is still open, start ``second`` in
    another thread's write unit of work. Returns both results, and whether ``second`` was
    still waiting half a second later (it must wait for the first to commit: on SQLite
    for the write lock, on PostgreSQL for the changelog lock)."""
    results: list[Second] = []
    errors: list[BaseException] = []

    def run_second() -> None:
        try:
            with storage.write() as uow:
                results.append(second(uow))
        except BaseException as error:  # reported in the test's thread
            errors.append(error)

    with storage.write() as uow:
        got = first(uow)
        thread = threading.Thread(target=run_second)
        thread.start()
        thread.join(0.5)
        waited = thread.is_alive()
    thread.join(30)
    if errors:
        raise errors[0]
    assert not thread.is_alive() and len(results) == 1
    return got, results[0], waited

"""Group commit for the audit rows of concurrent pulls (small writes, each durable
before its request answers).

A pull's audit rows must be durable before its data leaves the server (SPEC §7), so each
pull waited for a write transaction of its own: with 20 devices pulling at once, 20
commits, 20 fsyncs, and each commit rewrote the same pages of the audit log's patient
index. Here the rows of pulls that arrive while a commit is under way wait for it to end;
the first of them then writes all that are waiting in one transaction (leader and
followers, as databases group the commits of their own log). Each caller still returns
only after its own rows are committed, and raises if that commit failed. One group per
process and storage: each worker process groups its own threads' pulls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from storage import UnitOfWork


@dataclass
class _Waiting:
    work: Callable[[UnitOfWork], None]
    written: bool = False
    error: BaseException | None = None


class GroupCommit:
    """Runs small writes durably, sharing one transaction among concurrent callers."""

    def __init__(self, write: Callable[[], AbstractContextManager[UnitOfWork]]):
        self._write = write
        self._queue_lock = threading.Lock()  # guards _waiting; held for microseconds
        self._commit_lock = threading.Lock()  # one group in its transaction at a time
        self._waiting: list[_Waiting] = []

    def commit(self, work: Callable[[UnitOfWork], None]) -> None:
        """Run ``work`` in a write transaction and return once it is committed; raise
        what that transaction raised. ``work`` must not fail on its own (a failure
        would take the group's other writes with it)."""
        mine = _Waiting(work)
        with self._queue_lock:
            self._waiting.append(mine)
        with self._commit_lock:
            if not mine.written and mine.error is None:
                self._commit_waiting()
        if mine.error is not None:
            raise mine.error

    def _commit_waiting(self) -> None:
        with self._queue_lock:
            group, self._waiting = self._waiting, []
        try:
            with self._write() as uow:
                for waiting in group:
                    waiting.work(uow)
        except BaseException as exc:  # every caller of the group learns its rows are lost
            for waiting in group:
                waiting.error = exc
            return
        for waiting in group:
            waiting.written = True

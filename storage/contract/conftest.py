"""Backends the contract suite runs against: each test gets a fresh, migrated storage.

Tests here use only ``storage``'s interfaces (units of work, repositories, the engine's
store), never SQL, so a new backend passes by adding itself to ``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import Storage, open_storage


class Clock:
    """A wall clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _sqlite(tmp_path: Path, clock: Clock) -> Storage:
    return open_storage(str(tmp_path / "contract.db"), clock=clock)


BACKENDS: dict[str, Callable[[Path, Clock], Storage]] = {"sqlite": _sqlite}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(BACKENDS))
def storage(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Storage]:
    opened = BACKENDS[request.param](tmp_path, clock)
    opened.migrate()
    yield opened
    opened.close()

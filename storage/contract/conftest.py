"""Backends the contract suite runs against: each test gets a fresh, migrated storage.

Tests here use only ``storage``'s interfaces (units of work, repositories, the engine's
store), never SQL, so a new backend passes by adding itself to ``BACKENDS``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import Storage, open_storage

# The throwaway PostgreSQL cluster lives with the other test helpers (tests/); import it
# under the same module name tests/ uses, so one process runs one cluster.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from postgres_cluster import postgres_cluster, postgres_url  # noqa: E402, F401


class Clock:
    """A wall clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Storage:
    return open_storage(str(tmp_path / "contract.db"), clock=clock)


def _postgres(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Storage:
    """A fresh database copied from the migrated template of the throwaway cluster
    (tests/postgres_cluster.py); skips, or fails under CI=true, without PostgreSQL."""
    url: str = request.getfixturevalue("postgres_url")
    return open_storage(url, clock=clock)


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path, Clock], Storage]] = {
    "sqlite": _sqlite,
    "postgres": _postgres,
}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(BACKENDS))
def storage(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Storage]:
    opened = BACKENDS[request.param](request, tmp_path, clock)
    opened.migrate()
    yield opened
    opened.close()

"""The sync engine's convergence property (tests/test_sync_property.py) on PostgreSQL.

The same schedules, steps and checks, each example on a fresh PostgreSQL database. Fewer
examples than the SQLite run (whose 200 explore the engine's rules): this run is about
the store — seq order, snapshots, savepoints, JSONB round trips — and every example
costs a database and some 500 round trips.
"""

from __future__ import annotations

from typing import Any

import test_sync_property as on_sqlite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The SQLite test's body, without its own @given and settings.
schedule = on_sqlite.test_devices_converge_and_nothing_is_lost.hypothesis.inner_test


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(on_sqlite.STEP, min_size=10, max_size=60))
def test_devices_converge_and_nothing_is_lost_on_postgres(
    new_postgres_sync_db: Any, steps: list[tuple[Any, ...]]
) -> None:
    schedule(new_postgres_sync_db, steps)

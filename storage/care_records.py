"""Queries over synced care records for escalation rules and reminders; implemented per
backend."""

from __future__ import annotations

from typing import Protocol


class CareRecordQueries(Protocol):
    """TODO(storage-boundary): open escalation, previous activation level, missed visits,
    lapsed goals, active reminders, goal done on a day."""

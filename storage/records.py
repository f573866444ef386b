"""The records repository's interface; each backend implements it (storage/<backend>/)."""

from __future__ import annotations

from typing import Protocol


class RecordQueries(Protocol):
    """TODO(storage-boundary): methods move here from the server's modules."""

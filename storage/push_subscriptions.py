"""The push subscriptions repository's interface, implemented per backend."""

from __future__ import annotations

from typing import Protocol


class PushSubscriptions(Protocol):
    """TODO(storage-boundary): methods move here from the server's modules."""

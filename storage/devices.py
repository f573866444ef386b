"""Devices (one per signed-in app install, named by its ``client_id``), their secrets,
what each says it has not sent yet, and revocation.

Revoking is final: a revoked device stays revoked, and revocation destroys its secret
whatever path revoked it, so a secret is never handed out for a revoked device.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Device:
    client_id: str
    user_id: str
    username: str
    name: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    waiting_changes: int
    oldest_waiting_at: datetime | None  # the device's clock: shown, never trusted
    waiting_reported_at: datetime | None


class Devices(Protocol):
    def register_device(self, client_id: str, user_id: str, name: str) -> None:
        """A new device of the user, seen now."""
        ...

    def device(self, client_id: str) -> Device | None: ...

    def rename_device(self, client_id: str, name: str) -> None:
        """The device signed in again under this name: also marks it seen now."""
        ...

    def mark_seen(self, client_id: str) -> None: ...

    def revoke_device(self, client_id: str, by: str, reason: str) -> None:
        """Revoke now and destroy its secret; a device already revoked stays as it was."""
        ...

    def all_devices(self) -> list[Device]:
        """Every device, by username then registration."""
        ...

    def devices_of(self, user_id: str) -> list[Device]:
        """The user's devices, by registration."""
        ...

    def devices_of_user_and_team_mates(self, user_id: str) -> list[Device]:
        """Devices of the user and of everyone sharing a team with them, by username
        then registration."""
        ...

    def report_waiting(self, client_id: str, waiting: int, oldest_at: datetime | None) -> None:
        """What the device says it has not sent (received now); ``oldest_at`` is
        forgotten when nothing waits."""
        ...

    def secret_of(self, client_id: str) -> bytes | None: ...

    def create_secret(self, client_id: str, secret: bytes) -> None:
        """Store the device's secret, released now."""
        ...

    def mark_secret_released(self, client_id: str) -> None: ...

    def first_sync_size(self, patient_ids: Set[str]) -> int:
        """How many live synced records belong to these patients (a first sync's size)."""
        ...

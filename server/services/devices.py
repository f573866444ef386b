"""Which devices a user may see and revoke (SPEC §3.1).

Own devices always; a coordinator those of users in their teams; an admin all. Each
device has a secret (its half of the PWA's key wrapping) that only the device itself
may fetch and that revocation destroys.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from server.clock import iso
from storage import UnitOfWork
from storage.devices import Device
from sync.registry import Actor


def _listing(device: Device) -> dict[str, Any]:
    """A device as the devices screen shows it (times as ISO text)."""
    return {
        "client_id": device.client_id,
        "user_id": device.user_id,
        "username": device.username,
        "name": device.name,
        "created_at": iso(device.created_at),
        "last_seen_at": iso(device.last_seen_at),
        "revoked_at": _iso_or_none(device.revoked_at),
        "waiting_changes": device.waiting_changes,
        "oldest_waiting_at": _iso_or_none(device.oldest_waiting_at),
        "waiting_reported_at": _iso_or_none(device.waiting_reported_at),
    }


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def manageable(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    if actor.role == "admin":
        found = uow.devices.all_devices()
    elif actor.role == "coordinator":
        found = uow.devices.devices_of_user_and_team_mates(actor.user_id)
    else:
        found = uow.devices.devices_of(actor.user_id)
    return [_listing(device) for device in found]


def report_waiting(uow: UnitOfWork, client_id: str, waiting: int,
                   oldest_at: datetime | None) -> None:
    """Store what the signed-in device says it has not sent yet (its outbox)."""
    uow.devices.report_waiting(client_id, waiting, oldest_at)


def download_size(uow: UnitOfWork, patient_ids: frozenset[str]) -> int:
    """About how many records a first sync of these patients brings (live records; a
    role that sees fewer of each patient's records gets fewer): for its progress line."""
    return uow.devices.first_sync_size(patient_ids)


def may_revoke(uow: UnitOfWork, actor: Actor, client_id: str) -> bool:
    return any(d["client_id"] == client_id for d in manageable(uow, actor))


# -- the device secret (encryption at rest in the PWA, docs/security.md) ---------------


def release_secret(uow: UnitOfWork, actor: Actor, client_id: str) -> bytes | None:
    """The calling device's own secret, made on first request; None for any other device.

    The caller is already a signed-in, unrevoked device (a revoked one answers 401 before
    this runs) and revocation destroys the secret (storage.devices), so a secret is never
    made again for a revoked client_id. Call inside a write unit of work.
    """
    if client_id != actor.client_id:
        return None
    secret = uow.devices.secret_of(client_id)
    if secret is None:
        secret = secrets.token_bytes(32)
        uow.devices.create_secret(client_id, secret)
        return secret
    uow.devices.mark_secret_released(client_id)
    return secret


def lock_policy(config: Mapping[str, Any], role: str) -> dict[str, float]:
    """How the PWA locks for this role (sent with the secret, so one config rules it)."""
    staff = role in ("nurse", "coordinator", "admin")
    idle = config["STAFF_IDLE_LOCK_MINUTES"] if staff else config["PEOPLE_IDLE_LOCK_MINUTES"]
    return {
        "offline_unlock_seconds": float(config["DEVICE_OFFLINE_UNLOCK_HOURS"]) * 3600,
        "idle_lock_seconds": float(idle) * 60,
        "hidden_lock_seconds": float(config["HIDDEN_LOCK_SECONDS"]),
    }

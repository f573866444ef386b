"""The refresh grace window (SPEC §3.1): a lost refresh answer is not a theft.

When a refresh token rotates, its row keeps the hash of the token that replaced it
and the new pair *sealed*: AES-GCM under a key derived (HKDF-SHA-256) from the rotated
token itself, bound to the device's client_id. Presenting that rotated token again within
``REFRESH_GRACE_SECONDS`` — while its successor is still unused — opens the seal and
answers the same pair, so a client retrying after a lost response keeps its session.

Why seal rather than store or re-derive: the same access token must be answered, and
tokens are never stored in plaintext; only a holder of the rotated token can derive the
key (the database holds only that token's SHA-256, a different function), so a copy of
the database reveals no usable token. Re-deriving the pair from a server secret would
need a secret shared by every worker and kept outside the database.
Only a device's newest rotation keeps a seal: older ones are cleared at each rotation.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage import UnitOfWork
from storage.sessions import Token

_INFO = b"doorstep refresh grace v1"
_NONCE_BYTES = 12


def _key(rotated_token: str) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
    return kdf.derive(rotated_token.encode())


def seal(rotated_token: str, client_id: str, access_token: str, refresh_token: str) -> bytes:
    """The new pair, openable only with the token it replaced."""
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps({"access_token": access_token, "refresh_token": refresh_token})
    return nonce + AESGCM(_key(rotated_token)).encrypt(nonce, plain.encode(), client_id.encode())


def unseal(sealed: bytes, rotated_token: str, client_id: str) -> dict[str, str] | None:
    try:
        plain = AESGCM(_key(rotated_token)).decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], client_id.encode()
        )
    except InvalidTag:
        return None
    opened: dict[str, str] = json.loads(plain)
    return opened


def remember_successor(
    uow: UnitOfWork, rotated_token: str, rotated_hash: str, client_id: str,
    access_token: str, refresh_token: str, refresh_hash: str,
) -> None:
    """Keep the seal on the rotated token's row; clear the device's older seals."""
    uow.sessions.remember_successor(
        client_id=client_id, rotated_hash=rotated_hash, successor_hash=refresh_hash,
        sealed=seal(rotated_token, client_id, access_token, refresh_token),
    )


class SessionEnded(Exception):
    """The pair a retried refresh would get was signed out since (logout, not theft)."""


def grace_replay(
    uow: UnitOfWork, rotated: Token, presented: str, now: datetime, grace_seconds: float
) -> dict[str, str] | None:
    """The pair answered when ``rotated`` (a rotated refresh token) rotated, if this retry
    is within the window and that pair is still unused; None means "not a retry".

    Raises ``SessionEnded`` when the new pair was logged out since.
    """
    if rotated.successor_sealed is None or rotated.dead_at is None:
        return None
    if rotated.dead_at + timedelta(seconds=grace_seconds) <= now:
        return None
    successor = (
        uow.sessions.token(rotated.successor_hash) if rotated.successor_hash else None
    )
    if successor is None or successor.dead_reason == "rotated":
        return None  # the new pair was used since: this is an older token after all
    if successor.dead_reason is not None:
        raise SessionEnded()
    return unseal(rotated.successor_sealed, presented, rotated.client_id)

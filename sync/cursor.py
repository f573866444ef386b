"""The pull cursor: opaque to clients, a small state record to the server.

A cursor says: "every change with seq ≤ ``since`` to the patients of set ``held`` has
been delivered". While patients are being delivered whole (a first sync, or patients
that entered scope), it also carries a *sweep* towards the set ``target`` (held
patients plus the new ones), in two phases:

1. the new patients' live records as of seq ``floor`` (the high-water mark when the
   sweep began), walked in ``(patient_id, seq)`` order; ``key``/``key_seq`` is the
   last one sent (``key`` is None once this phase is over);
2. a catch-up in seq order from ``pos``: held patients' changes after ``since`` and new
   patients' changes after ``floor``; when it reaches the top, ``held`` becomes
   ``target`` and ``since`` the high-water mark.

Cursors are stateless on the server apart from the content-addressed patient sets
they name, so a client that lost a response can re-send its previous cursor and get
everything again. A cursor from another database epoch (a restored backup), with a seq
beyond the server's, or that cannot be read, needs a reset (HTTP 410).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from sync.errors import CursorResetRequired
from sync.protocol import MAX_INTEGER

_PREFIX = "c1."


@dataclass(frozen=True)
class CursorState:
    epoch: str
    since: int
    held: str
    target: str | None = None  # set while sweeping
    pos: int = 0
    floor: int = 0
    key: str | None = None  # phase 1 of a sweep: last (patient_id, seq) sent
    key_seq: int = 0

    @property
    def sweeping(self) -> bool:
        return self.target is not None


def encode_cursor(state: CursorState) -> str:
    fields = [
        state.epoch,
        state.since,
        state.held,
        state.target,
        state.pos,
        state.floor,
        state.key,
        state.key_seq,
    ]
    raw = json.dumps(fields, separators=(",", ":")).encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> CursorState:
    if not isinstance(cursor, str) or not cursor.startswith(_PREFIX) or len(cursor) > 512:
        raise CursorResetRequired("unreadable")
    body = cursor[len(_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        epoch, since, held, target, pos, floor, key, key_seq = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise CursorResetRequired("unreadable") from None
    ints_ok = all(type(n) is int and 0 <= n <= MAX_INTEGER for n in (since, pos, floor, key_seq))
    if not (isinstance(epoch, str) and isinstance(held, str) and ints_ok):
        raise CursorResetRequired("unreadable")
    for ref in (epoch, held, target, key):
        # Every string the server writes here is ASCII (hex refs, UUIDs).
        if ref is not None and not (isinstance(ref, str) and ref.isascii()):
            raise CursorResetRequired("unreadable")
    return CursorState(epoch, since, held, target, pos, floor, key, key_seq)

"""The pull cursor: opaque to clients, a small state record to the server.

A cursor says: "every change with seq ≤ ``since`` to the patients of set ``held`` has
been delivered". While patients are being delivered whole (a first sync, or patients
that entered scope), it also carries a *sweep*: the set ``target`` (held patients plus
the new ones) and the position ``pos`` reached in seq order; tombstones of new patients
with seq ≤ ``floor`` are skipped (the device never had those records).

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

_PREFIX = "c1."


@dataclass(frozen=True)
class CursorState:
    epoch: str
    since: int
    held: str
    target: str | None = None  # set while sweeping
    pos: int = 0
    floor: int = 0

    @property
    def sweeping(self) -> bool:
        return self.target is not None


def encode_cursor(state: CursorState) -> str:
    fields = [state.epoch, state.since, state.held, state.target, state.pos, state.floor]
    raw = json.dumps(fields, separators=(",", ":")).encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> CursorState:
    if not isinstance(cursor, str) or not cursor.startswith(_PREFIX) or len(cursor) > 512:
        raise CursorResetRequired("unreadable")
    body = cursor[len(_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        epoch, since, held, target, pos, floor = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise CursorResetRequired("unreadable") from None
    ints_ok = all(type(n) is int and n >= 0 for n in (since, pos, floor))
    if not (isinstance(epoch, str) and isinstance(held, str) and ints_ok):
        raise CursorResetRequired("unreadable")
    if target is not None and not isinstance(target, str):
        raise CursorResetRequired("unreadable")
    return CursorState(epoch, since, held, target, pos, floor)

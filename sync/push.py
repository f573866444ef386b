"""Push (SPEC §3.2): a device's queued mutations, applied in order, all in one transaction.

Invariants:
- per client_id, mutation ids are processed exactly once, in order: an id ≤ the
  client's ``last_mutation_id`` returns its stored original result (idempotent replay);
  id == last + 1 is processed; an id that skips ahead is ``out_of_order`` — not
  processed, nothing stored — and so is every later mutation in the batch;
- a ``rejected`` mutation still counts as processed (``last_mutation_id`` advances) and
  its raw JSON is quarantined with the errors: nothing sent is ever lost;
- the whole batch commits or nothing does; each mutation runs in a savepoint so a
  rejected one leaves no partial writes, and any exception inside one mutation (a
  character the database cannot store, a failing hook) is that mutation's ``rejected``
  result: one bad mutation never blocks a device's outbox;
- whole batches refused for an unsupported ``schema_version`` (426) or a malformed
  envelope (422) are quarantined raw; oversized ones (413) are not (the client splits
  them and keeps its outbox);
- with a ``QuarantineCap``, a push that would take its user's quarantine of the last
  24 hours over the cap is refused whole (429) and keeps nothing: quarantine cannot be
  used to fill the disk, and the device keeps its outbox and tries again later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sync.apply import apply_mutation
from sync.errors import MalformedRequest, QuarantineFull, UnsupportedSchemaVersion
from sync.protocol import (
    MutationResult,
    PushRequest,
    PushResponse,
    ReceivedMutation,
    body_text,
    parse_json,
    parse_push,
)
from sync.registry import Actor, NotPermitted, Registry, ValidationFailed
from sync.scope import ScopeCache
from sync.store import QuarantineEntry, Store

log = logging.getLogger("doorstep.sync")


@dataclass(frozen=True)
class QuarantineCap:
    """What one user may have quarantined in any 24 hours (entries, bytes of raw text)."""

    max_entries: int
    max_bytes: int


def apply_push(
    store: Store,
    registry: Registry,
    actor: Actor,
    body: bytes | str | Mapping[str, Any],
    *,
    cap: QuarantineCap | None = None,
) -> PushResponse:
    """Apply a push body (raw request bytes preferred) for ``actor``'s device.

    Call outside any open transaction. Raises ``BatchTooLarge`` (413),
    ``UnsupportedSchemaVersion`` (426, batch quarantined), ``MalformedRequest``
    (422, batch quarantined) and ``QuarantineFull`` (429: what would be quarantined
    exceeds ``cap``; nothing is applied or kept, the device tries again later).
    """
    text = body_text(body)
    try:
        obj = body if isinstance(body, Mapping) else parse_json(text)
        request = parse_push(obj)
        if request.client_id != actor.client_id:
            raise MalformedRequest({"client_id": ["Does not match the signed-in device."]})
    except UnsupportedSchemaVersion as error:
        quarantine_batch(
            store, actor, text, reason="unsupported_schema_version", errors=error.errors,
            cap=cap,
        )
        raise
    except MalformedRequest as error:
        quarantine_batch(
            store, actor, text, reason="malformed_batch", errors=error.errors, cap=cap
        )
        raise
    with store.write_transaction():
        return _apply_batch(store, registry, actor, request, cap)


def quarantine_batch(
    store: Store,
    actor: Actor | None,
    raw: str,
    *,
    reason: str,
    errors: Mapping[str, Any],
    cap: QuarantineCap | None = None,
) -> None:
    """Keep a refused request raw, in the caller's transaction or a new one."""
    entry = QuarantineEntry(
        reason=reason,
        client_id=actor.client_id if actor else None,
        user_id=actor.user_id if actor else None,
        raw=raw,
        errors=_storable(errors),
    )
    if store.in_transaction():
        _check_cap(store, cap, [entry])
        store.quarantine([entry])
    else:
        with store.write_transaction():
            _check_cap(store, cap, [entry])
            store.quarantine([entry])


def _check_cap(store: Store, cap: QuarantineCap | None, entries: list[QuarantineEntry]) -> None:
    """Raise ``QuarantineFull`` if keeping ``entries`` takes their user over ``cap``."""
    user_id = entries[0].user_id if entries else None
    if cap is None or user_id is None:
        return
    count, size = store.quarantine_usage(user_id, timedelta(days=1))
    count += len(entries)
    size += sum(len(entry.raw.encode()) for entry in entries)
    if count > cap.max_entries or size > cap.max_bytes:
        raise QuarantineFull()


def _apply_batch(
    store: Store, registry: Registry, actor: Actor, request: PushRequest,
    cap: QuarantineCap | None,
) -> PushResponse:
    client_id = actor.client_id
    last = store.last_mutation_id(client_id)
    first = min((m.mutation_id for m in request.mutations), default=last + 1)
    if first > last + 1 and store.restored_gap_allowed(client_id):
        # The database was restored from a backup older than this device's last push:
        # continue from where the device is (ids at or below ``last`` still replay).
        last = first - 1
    # Results stored by earlier batches, then this batch's own as it goes: a
    # mutation_id repeated inside one batch replays the earlier result (it was stored).
    replayed = store.stored_results(
        client_id, [m.mutation_id for m in request.mutations if m.mutation_id <= last]
    )
    scope = ScopeCache(store, registry, actor)
    results: list[MutationResult] = []
    stored: list[tuple[int, str]] = []
    quarantined: list[QuarantineEntry] = []
    blocked = False
    for received in request.mutations:
        mutation_id = received.mutation_id
        if blocked or mutation_id > last + 1:
            blocked = True
            results.append(MutationResult("out_of_order", mutation_id))
        elif mutation_id <= last:
            original = replayed.get(mutation_id)
            wire = json.loads(original) if original else {"status": "applied"}
            results.append(MutationResult.from_wire({**wire, "mutation_id": mutation_id}))
        else:
            result = _process(store, registry, actor, scope, received, quarantined)
            results.append(result)
            encoded = json.dumps(result.to_wire(), separators=(",", ":"))
            stored.append((mutation_id, encoded))
            replayed[mutation_id] = encoded
            last = mutation_id
    if stored:
        store.store_results(client_id, stored)
        store.set_last_mutation_id(client_id, actor.user_id, last)
    if quarantined:
        _check_cap(store, cap, quarantined)
        store.quarantine(quarantined)
    return PushResponse(last, tuple(results))


def _process(
    store: Store,
    registry: Registry,
    actor: Actor,
    scope: ScopeCache,
    received: ReceivedMutation,
    quarantined: list[QuarantineEntry],
) -> MutationResult:
    mutation = received.mutation
    errors: Mapping[str, Any]
    if mutation is None:
        reason, errors = "malformed", received.errors or {}
    else:
        try:
            with store.savepoint():
                return apply_mutation(store, registry, actor, mutation, scope=scope)
        except ValidationFailed as error:
            reason, errors = "invalid", error.errors
        except NotPermitted as error:
            reason, errors = "not_found", error.errors
        except Exception as error:  # one bad mutation must never block the outbox
            # Type only: the text may quote the values (identifiers).
            log.warning("push mutation failed with %s", type(error).__name__)
            reason, errors = "error", {"_": ["The server could not apply this change."]}
        # The savepoint rolled back: any scope read after its writes is stale.
        scope.forget()
    raw = received.raw if isinstance(received.raw, Mapping) else {}
    quarantined.append(
        QuarantineEntry(
            reason=reason,
            client_id=actor.client_id,
            user_id=actor.user_id,
            raw=_raw_text(received.raw),
            errors=_storable(errors),
            mutation_id=received.mutation_id,
            entity=_storable(raw.get("entity")) if isinstance(raw.get("entity"), str) else None,
            record_id=_storable(raw.get("id")) if isinstance(raw.get("id"), str) else None,
        )
    )
    return MutationResult("rejected", received.mutation_id, errors=errors)


def _raw_text(raw: Any) -> str:
    """The mutation as JSON text; lone UTF-16 surrogates stay \\u escapes (lossless)."""
    text = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(raw, separators=(",", ":"))
    return text


def _storable(value: Any) -> Any:
    """Error messages and labels with unstorable characters (lone surrogates) replaced."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, Mapping):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(v) for v in value]
    return value

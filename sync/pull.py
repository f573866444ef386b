"""Pull (SPEC §3.3): every record the actor may see that changed since the cursor.

One call = one page, read in one snapshot. Invariants:

- no change is skipped: the new cursor's ``since`` is either the last seq returned
  (more to come) or the snapshot's high-water mark, and seqs are commit-ordered
  (changelog.py), so anything committed later has a higher seq;
- each changed record is returned once, at its latest version (rows come from
  ``records`` by seq, not from the history);
- a patient entering scope arrives whole: a *sweep* first walks the new patients' live
  records as of the sweep's start (``floor``) in (patient_id, seq) order — each index
  entry read once, so a first sync is linear in its records — then catches up in seq
  order on everything after ``floor`` (new patients) or ``since`` (held ones); a record
  changed during the sweep moves past ``floor`` and is delivered by the catch-up;
- a patient leaving scope produces ``{"entity": "patient", "id": P}``; a record that
  became hidden to the actor (``redact`` → None) while the device may hold an earlier
  visible version produces ``{"entity": E, "id": X}``;
- a lost response is harmless: cursors are stateless apart from immutable,
  content-addressed patient sets, so re-sending the previous cursor repeats the page;
- an empty pull (no changes, no evictions) writes nothing; other pulls write at most
  the new patient sets they refer to, after the read snapshot ends.
"""

from __future__ import annotations

import bisect
import heapq
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.apply import entity_type
from sync.changelog import changes_since, current_cursor
from sync.cursor import CursorState, decode_cursor, encode_cursor
from sync.errors import CursorResetRequired, MalformedRequest
from sync.protocol import ChangeText, Eviction, PullResponse, RecordChange
from sync.registry import Actor, Registry
from sync.scope import EMPTY_REF, load_scope_set, save_scope_sets, scope_ref, visible_patient_ids
from sync.store import ChangedRow, Store
from sync.views import audience_of, stored_key

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
# A page whose rows are all hidden from the actor is followed by the next page in the
# same call, up to this many, so clients rarely get empty pages with has_more.
MAX_HIDDEN_PAGES = 50


@dataclass
class _Page:
    """The evolving state of one pull call."""

    since: int
    held: frozenset[str]
    target: frozenset[str] | None
    pos: int
    floor: int
    key: str | None
    key_seq: int
    changes: list[RecordChange] = field(default_factory=list)
    evictions: list[Eviction] = field(default_factory=list)
    patient_ids: set[str] = field(default_factory=set)
    more: bool = False
    # The audience whose stored views this actor's pull splices (None: redact each).
    audience: str | None = None
    views_key: str | None = None


def pull(
    store: Store,
    registry: Registry,
    actor: Actor,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    client_id: str | None = None,
) -> PullResponse:
    """One page of changes for ``actor``; call outside any open transaction.

    Raises ``CursorResetRequired`` (410) and ``MalformedRequest`` (422).
    """
    if client_id is not None and client_id != actor.client_id:
        raise MalformedRequest({"client_id": ["Does not match the signed-in device."]})
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise MalformedRequest({"limit": [f"Must be between 1 and {MAX_LIMIT}."]})
    with store.read_transaction():
        epoch = store.epoch()
        top = current_cursor(store)
        state = decode_cursor(cursor) if cursor else CursorState(epoch, 0, EMPTY_REF)
        if state.epoch != epoch:
            raise CursorResetRequired("cursor from another database epoch")
        if max(state.since, state.pos, state.floor) > top:
            raise CursorResetRequired("cursor ahead of this database")
        held = load_scope_set(store, state.held, actor.user_id)
        target = None
        if state.target is not None:
            target = load_scope_set(store, state.target, actor.user_id)
        visible = visible_patient_ids(store, registry, actor)
        if state.target is None and state.since >= top and visible == held:
            # The empty poll: nothing changed, no one entered or left scope.
            return _nothing_since(store, actor, state, top)
        page = _Page(state.since, held, target, state.pos, state.floor, state.key, state.key_seq)
        page.audience = audience_of(registry, actor.role)
        page.views_key = stored_key(registry) if page.audience is not None else None
        _apply_scope(page, visible, top)
        for _ in range(MAX_HIDDEN_PAGES):
            _read_page(store, registry, actor, page, limit, top)
            if page.changes or page.evictions or not page.more:
                break
        last_mutation_id = store.last_mutation_id(actor.client_id)
        server_time = store.now()
        empty = not page.changes and not page.evictions
        missing = _sets_to_save(store, actor, page, held, empty)
    if missing:
        save_scope_sets(store, actor.user_id, missing)
    has_more = page.more or (page.target is None and bool(visible - page.held) and not empty)
    new_state = CursorState(
        epoch=epoch,
        since=page.since,
        held=state.held if page.held == held else scope_ref(actor.user_id, page.held),
        target=scope_ref(actor.user_id, page.target) if page.target is not None else None,
        pos=page.pos,
        floor=page.floor,
        key=page.key,
        key_seq=page.key_seq,
    )
    return PullResponse(
        changes=tuple(page.changes),
        evictions=tuple(page.evictions),
        cursor=encode_cursor(new_state),
        has_more=has_more,
        last_mutation_id=last_mutation_id,
        server_time=server_time,
        patient_ids=frozenset(page.patient_ids),
    )


def _nothing_since(store: Store, actor: Actor, state: CursorState, top: int) -> PullResponse:
    """What the full path answers when nothing changed since the cursor (the same cursor
    a page reading no rows makes), from a few lookups in the pull's snapshot and with no
    scope-set hashing or saving."""
    new_state = CursorState(state.epoch, top, state.held, None, top, state.floor, state.key,
                            state.key_seq)
    return PullResponse(
        changes=(),
        evictions=(),
        cursor=encode_cursor(new_state),
        has_more=False,
        last_mutation_id=store.last_mutation_id(actor.client_id),
        server_time=store.now(),
    )


def _sets_to_save(
    store: Store, actor: Actor, page: _Page, cursor_held: frozenset[str], empty: bool
) -> list[frozenset[str]]:
    """The patient sets the new cursor names that are not stored yet (read in the pull's
    snapshot; the caller saves them after it).

    An empty pull must write nothing: if its only new set is the held set of a sweep
    that found nothing visible, the cursor keeps the stored held set instead, and the
    new patients are swept again next time (still finding nothing, cheaply).
    """

    def stored(ids: frozenset[str]) -> bool:
        if ids == cursor_held:  # the cursor's own set: stored, and no hashing needed
            return True
        ref = scope_ref(actor.user_id, ids)
        return ref == EMPTY_REF or store.has_scope_set(ref)

    if empty and page.target is None and not stored(page.held):
        page.held = cursor_held
    sets = [page.held] + ([page.target] if page.target is not None else [])
    return [ids for ids in sets if not stored(ids)]


def _apply_scope(page: _Page, visible: frozenset[str], top: int) -> None:
    """Evict patients that left scope; start a sweep for patients that entered it.

    Patients entering scope during a sweep wait for the next one: the current sweep's
    position is already past their older records.
    """
    covered = page.target if page.target is not None else page.held
    gone = covered - visible
    page.evictions.extend(Eviction("patient", patient_id) for patient_id in sorted(gone))
    page.held = page.held - gone
    if page.target is not None:
        page.target = page.target - gone
    elif visible - page.held:
        page.target, page.pos, page.floor = frozenset(visible), page.since, top
        page.key, page.key_seq = "", 0


def _read_page(
    store: Store, registry: Registry, actor: Actor, page: _Page, limit: int, top: int
) -> None:
    if page.target is not None and page.key is not None:
        limit -= _read_grants(store, registry, actor, page, limit)
        if page.key is not None or limit == 0:
            page.more = True
            return
    since = page.since
    if page.target is None:
        rows = _changes(store, page, page.held, since, limit + 1, top)
    else:
        granted = page.target - page.held
        held_rows = _changes(store, page, page.held, max(since, page.pos), limit + 1, top)
        granted_rows = _changes(store, page, granted, max(page.floor, page.pos), limit + 1, top)
        rows = list(heapq.merge(held_rows, granted_rows, key=lambda row: row.seq))[: limit + 1]
    page.more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        _deliver(store, registry, actor, page, row, since)
    if page.more:
        if page.target is None:
            page.since = rows[-1].seq
        else:
            page.pos = rows[-1].seq
    elif page.target is not None:
        page.held, page.target, page.since, page.pos, page.floor = page.target, None, top, 0, 0
    else:
        page.since = top
    if page.target is None:
        page.pos = page.since


def _changes(
    store: Store, page: _Page, patient_ids: frozenset[str], since: int, limit: int, top: int
) -> list[ChangedRow]:
    return changes_since(store, patient_ids, since, limit, high_water=top,
                         audience=page.audience, views_key=page.views_key)


def _read_grants(
    store: Store, registry: Registry, actor: Actor, page: _Page, limit: int
) -> int:
    """Phase 1 of a sweep: new patients' live records as of ``floor``, by patient.

    Returns how many rows it used; leaves ``page.key`` None when the phase is over.
    """
    assert page.target is not None and page.key is not None
    granted = sorted(page.target - page.held)
    remaining = granted[bisect.bisect_left(granted, page.key) :]
    rows = store.sweep_records(remaining, page.key, page.key_seq, page.floor, limit + 1,
                               audience=page.audience, views_key=page.views_key)
    for row in rows[:limit]:
        _deliver(store, registry, actor, page, row, page.since)
    if len(rows) > limit:
        page.key, page.key_seq = rows[limit - 1].patient_id, rows[limit - 1].seq
        return limit
    page.key, page.key_seq = None, 0  # phase 2 (the catch-up) from page.pos
    return len(rows)


def _deliver(
    store: Store, registry: Registry, actor: Actor, page: _Page, row: ChangedRow, since: int
) -> None:
    et = entity_type(registry, row.entity)
    if et is None:
        return
    shown: Mapping[str, Any] | None
    if row.viewed and et.view is not None and not et.personal:
        shown = None if row.view is None else ChangeText(row.view)  # made at write time
    else:
        shown = et.redact(actor, json.loads(row.data))
    if shown is None:
        # Hidden now. A held patient's device may have an earlier, visible version.
        if row.patient_id in page.held and _was_visible(store, registry, actor, row, since):
            page.evictions.append(Eviction(row.entity, row.id))
        return
    page.changes.append(
        RecordChange(row.entity, row.id, row.version, bool(row.deleted), row.updated_at, shown)
    )
    page.patient_ids.add(row.patient_id)


def _was_visible(
    store: Store, registry: Registry, actor: Actor, row: ChangedRow, since: int
) -> bool:
    before = store.history_at_or_before(row.entity, row.id, since)
    if before is None or before.deleted:
        return False
    et = entity_type(registry, row.entity)
    return et is not None and et.redact(actor, before.data) is not None

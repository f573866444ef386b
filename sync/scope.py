"""Who receives which records: patient scope per actor, and the patient sets cursors hold.

Scope is per patient: the server's ``ScopePolicy.visible_patient_ids(store, actor)``
decides which patients an actor sees; every record belongs to one patient. Within a
visible patient, ``EntityType.redact`` hides records or fields per actor.

A pull cursor must know which patients the device holds, so a patient entering scope is
sent whole and one leaving is evicted. Those sets can be large (a caseload), so the
cursor carries a *reference*: ``scope_ref`` = a hash of (user id, sorted patient ids),
stored once in ``sync_scope_sets`` (content-addressed: saving an existing set writes
nothing, and a set is bound to its user so another user's cursor is refused).

Invariants:
- the system actor sees every patient;
- ``ScopeCache`` (one push) re-asks the policy after any change to an entity that can
  change scope (``Registry.affects_scope``), so a patient created earlier in a batch is
  visible to later mutations and one moved away is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sync.errors import CursorResetRequired
from sync.registry import SYSTEM_ROLE, Actor, Registry
from sync.store import Store

EMPTY_REF = ""


class ScopeCache:
    """The visible-patient set of one actor during one write, refreshed when it may change."""

    def __init__(self, store: Store, registry: Registry, actor: Actor) -> None:
        self.store = store
        self.registry = registry
        self.actor = actor
        self._visible: set[str] | None = None

    def visible(self) -> set[str]:
        if self._visible is None:
            self._visible = set(self.registry.scope.visible_patient_ids(self.store, self.actor))
        return self._visible

    def can_see(self, patient_id: str) -> bool:
        if self.actor.role == SYSTEM_ROLE:
            return True
        return patient_id in self.visible()

    def forget(self) -> None:
        """Drop the cached set (after a rolled-back savepoint)."""
        self._visible = None

    def changed(self, entity: str) -> None:
        """A change to ``entity`` was written: forget the set if it may have moved."""
        if self.registry.affects_scope(entity):
            self._visible = None


def visible_patient_ids(store: Store, registry: Registry, actor: Actor) -> frozenset[str]:
    """Every patient this actor sees now (none for the system actor: it does not pull)."""
    return frozenset(registry.scope.visible_patient_ids(store, actor))


def scope_ref(user_id: str, patient_ids: Iterable[str]) -> str:
    """The content address of a held patient set; "" for the empty set."""
    ids = sorted(patient_ids)
    if not ids:
        return EMPTY_REF
    digest = hashlib.sha256(user_id.encode())
    for patient_id in ids:
        digest.update(b"\n" + patient_id.encode())
    return digest.hexdigest()[:32]


def load_scope_set(store: Store, ref: str, user_id: str) -> frozenset[str]:
    """The set a cursor refers to; a missing or another user's set needs a reset."""
    if ref == EMPTY_REF:
        return frozenset()
    found = store.load_scope_set(ref)
    if found is None:
        raise CursorResetRequired("scope set no longer stored")
    owner, ids = found
    if owner != user_id:
        raise CursorResetRequired("cursor belongs to another user")
    return frozenset(ids)


def save_scope_sets(store: Store, user_id: str, sets: Iterable[frozenset[str]]) -> None:
    """Store the sets a new cursor refers to, writing only those not stored yet.

    Which are missing is read in a read transaction; the write transaction opens only if
    one is, so a pull that names stored sets writes nothing.
    """
    wanted = {scope_ref(user_id, ids): ids for ids in sets}
    wanted.pop(EMPTY_REF, None)
    if not wanted:
        return
    with store.read_transaction():
        missing = [(ref, ids) for ref, ids in wanted.items() if not store.has_scope_set(ref)]
    if not missing:
        return
    with store.write_transaction():
        for ref, ids in missing:
            store.save_scope_set(ref, user_id, sorted(ids))

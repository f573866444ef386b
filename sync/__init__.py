"""Doorstep's sync engine: versioned changelog, push/pull, per-field conflicts, scopes.

It never imports Flask: the server hands it a store and a registry of entities.

API for the server (every name below is importable from ``sync``)
================================================================

Store: the server's storage gives it — ``storage.sync_store()`` (each transaction the
engine runs is a unit of work of its own) or ``uow.store`` (bound to the caller's unit of
work); inside a transaction ``store.unit`` is that unit of work, which scope policies and
hooks use for their own queries and ``on_commit`` side effects. Tests and benchmarks may
use a bare ``SqliteStore.open(path)``. Schema: migration
``storage/sqlite/migrations/0002_sync.py`` calls ``create_schema(conn)``; the indexes the
registry declares (``Registry.indexes()``) are made by ``store.ensure_indexes``.

Sync endpoints (each call manages its own transaction — call outside one):

- ``apply_push(store, registry, actor, body) -> PushResponse`` — ``body`` is the raw
  request bytes (preferred: size checked before parsing) or parsed JSON. Answer
  ``response.to_wire()`` with 200.
- ``pull(store, registry, actor, cursor=None, limit=500, client_id=None) -> PullResponse``
  — answer ``response.to_wire()``; then, only if ``response.patient_ids`` is non-empty,
  write one audit row per patient (an empty pull must write nothing).

Whole-request errors are ``SyncError`` subclasses carrying ``http_status``, ``message``
and ``errors``: ``BatchTooLarge`` 413, ``UnsupportedSchemaVersion`` 426 (batch already
quarantined), ``CursorResetRequired`` 410 (``errors == {"cursor": "reset_required"}``),
``MalformedRequest`` 422 (push batches already quarantined), ``ConflictAlreadyResolved``
409, ``QuarantineFull`` 429 (``apply_push(..., cap=QuarantineCap(...))``: nothing kept).
Map them with ``fail(e.http_status, e.message, e.errors)``.

Inside the caller's write transaction (``with database.write() as uow`` and ``uow.store``):

- ``apply_mutation(store, registry, actor, Mutation(entity, id, op, fields,
  base_version, mutation_id=None)) -> MutationResult`` — REST writes and server-made
  records (``actor=SYSTEM``); ``base_version=None`` = no conflict check. Raises the
  registry's ``ValidationFailed`` (422, ``e.errors``) and ``NotPermitted`` (404). A
  REST view that wants the raw input kept calls ``quarantine_batch`` after rolling back.
- ``resolve_conflict(store, registry, actor, conflict_id, resolution, value=MISSING)
  -> Resolution`` — resolution in ``kept_server | took_client | custom`` (``value``
  only for custom). Raises ``NotPermitted`` 404, ``ValidationFailed`` 422,
  ``ConflictAlreadyResolved`` 409.
- ``quarantine_batch(store, actor, raw_text, reason=..., errors=...)`` — keep a refused
  request (also works outside a transaction: it opens its own).

Reads (each in one read transaction, the caller's if open; redacted and scoped like
pulls; audit ``patient_ids``):
``get_record(store, registry, actor, entity, id) -> RecordChange | None`` and
``list_records(store, registry, actor, entity, patient_ids=None, where=None,
after=None, limit=100) -> RecordPage(items, next_after, patient_ids)``.

Registry hooks (sync/registry.py): per entity ``validate``, ``authorize``, ``derive``,
``redact``, ``after_apply``; registry-wide ``on_change`` (every applied change,
including conflicts and server-made records, in the transaction — audit rows go
here: ``change.actor`` wrote it, ``change.origin`` asked for it) and ``scope_entities``
(entities whose changes can move scope: set it to ``{"patient", "carer_link"}``).
Hooks get ``(ctx: ApplyContext, change: Change)``; ``ctx.apply(Mutation(...))`` writes
a server-made record as ``SYSTEM`` in the same transaction.
"""

from sync.apply import ApplyContext, Change, apply_mutation
from sync.conflict_entity import CONFLICT, RECORD_FIELD
from sync.conflicts import MISSING, Resolution, resolve_conflict
from sync.errors import (
    BatchTooLarge,
    ConflictAlreadyResolved,
    CursorResetRequired,
    MalformedRequest,
    QuarantineFull,
    SyncError,
    UnsupportedSchemaVersion,
)
from sync.protocol import (
    Eviction,
    Mutation,
    MutationResult,
    PullResponse,
    PushResponse,
    RecordChange,
)
from sync.pull import pull
from sync.push import QuarantineCap, apply_push, quarantine_batch
from sync.reads import RecordPage, get_record, list_records
from sync.registry import SYSTEM, Actor, EntityType, NotPermitted, Registry, ValidationFailed
from sync.store.sqlite import SqliteStore, create_schema

__all__ = [
    "CONFLICT",
    "MISSING",
    "RECORD_FIELD",
    "SYSTEM",
    "Actor",
    "ApplyContext",
    "BatchTooLarge",
    "Change",
    "ConflictAlreadyResolved",
    "CursorResetRequired",
    "QuarantineCap",
    "QuarantineFull",
    "EntityType",
    "Eviction",
    "MalformedRequest",
    "Mutation",
    "MutationResult",
    "NotPermitted",
    "PullResponse",
    "PushResponse",
    "RecordChange",
    "RecordPage",
    "Registry",
    "Resolution",
    "SqliteStore",
    "SyncError",
    "UnsupportedSchemaVersion",
    "ValidationFailed",
    "apply_mutation",
    "apply_push",
    "create_schema",
    "get_record",
    "list_records",
    "pull",
    "quarantine_batch",
    "resolve_conflict",
]

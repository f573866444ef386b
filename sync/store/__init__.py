"""The storage boundary of the sync engine: every query the engine needs, and nothing else.

The engine talks only to a :class:`Store`; ``sqlite.py`` implements it with SQLite and
a PostgreSQL store implements the same methods (see changelog.py for the one guarantee
that needs care there: no change skipped while writers commit concurrently).

Shared storage contract (each backend's record queries in ``storage/`` read it too): one
``records`` table for every synced entity — ``entity, id, version, deleted, updated_at,
patient_id, data (JSON of all fields incl. server-computed), seq (latest changelog
seq)`` — plus the engine's own ``meta`` column (per field: ``[version last changed,
client_id that changed it]``).
Each record row also keeps what each *audience* sees of it (``AUDIENCES``), as JSON text
made at write time from the registry's ``EntityType.view`` (NULL: hidden from that
audience), with the ``views_key`` of the rules that made them (NULL: not made). A pull
splices that text into its response instead of decoding and re-encoding each record, but
only from rows whose ``views_key`` is the registry's current one.
``changelog`` holds every version of every record, append-only; ``seq`` is its key.
Indexes on record fields are declared by the registry (``RecordIndex``) and made by
``Store.ensure_indexes``; no one else indexes these tables.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple, Protocol

# Per field: (version in which it last changed, client_id that changed it).
FieldStamp = tuple[int, str]
# The audiences whose view of each record the store keeps (one column each).
AUDIENCES = ("staff", "patient", "carer")


@dataclass(frozen=True)
class StoredRecord:
    """A record's current row, decoded."""

    entity: str
    id: str
    version: int
    deleted: bool
    updated_at: str
    patient_id: str
    data: dict[str, Any]
    seq: int
    meta: dict[str, FieldStamp]


class ChangedRow(NamedTuple):
    """A record row as read for pulls and lists; ``data`` is still JSON text."""

    entity: str
    id: str
    version: int
    deleted: int
    updated_at: str
    patient_id: str
    data: str
    seq: int
    # Read for one audience (``audience=`` of changed_since / sweep_records): whether the
    # row's stored views are current (the ``views_key`` asked for), and that audience's
    # view (None: hidden from it). Both meaningless unless ``viewed``.
    viewed: bool = False
    view: str | None = None


@dataclass(frozen=True)
class AudienceViews:
    """What each audience sees of one version (JSON text, None = hidden), and the key of
    the rules that made them."""

    key: str
    texts: Mapping[str, str | None]


@dataclass(frozen=True)
class HistoryEntry:
    """One version of one record from the changelog."""

    seq: int
    version: int
    deleted: bool
    data: dict[str, Any]
    client_id: str
    author_id: str
    mutation_id: int | None


@dataclass(frozen=True)
class NewVersion:
    """Everything written for one new version of a record."""

    entity: str
    id: str
    version: int
    deleted: bool
    patient_id: str
    data: Mapping[str, Any]
    meta: Mapping[str, FieldStamp]
    changed: Sequence[str]
    client_id: str
    author_id: str
    mutation_id: int | None
    at: str
    # None: no stored views (a pull decodes and redacts this record).
    views: AudienceViews | None = None


@dataclass(frozen=True)
class RecordIndex:
    """An index on one data field of one entity's records, as the registry declares it
    (``Registry.indexes()``): the server looks records up by that field."""

    name: str
    entity: str
    field: str
    # Only live (not deleted) records: the lookups that use it never want tombstones.
    live_only: bool = False


@dataclass(frozen=True)
class QuarantineEntry:
    """A refused mutation or batch, kept raw with why it was refused."""

    reason: str
    client_id: str | None
    user_id: str | None
    raw: str
    errors: Mapping[str, Any]
    mutation_id: int | None = None
    entity: str | None = None
    record_id: str | None = None


class Transactions(Protocol):
    """A caller's transactions a store can be bound to (``storage/``'s units of work)."""

    def current(self) -> Any:
        """The open unit of work, or None outside a transaction."""
        ...

    def write(self) -> AbstractContextManager[Any]: ...

    def read(self) -> AbstractContextManager[Any]: ...


class Store(Protocol):
    """What the engine needs from a database.

    ``unit`` is the caller's unit of work the current transaction belongs to (None for
    a bare store): the policies a caller gives the registry (scope, hooks) use it for
    their own queries and for side effects after commit. The engine itself never does.

    Every method but ``now``, ``in_transaction``, the transaction context managers and
    ``ensure_indexes`` (which opens its own write transaction) runs inside a transaction;
    a store bound to a caller's units of work raises outside one. Writes need
    ``write_transaction``; ``savepoint`` nests inside it (one mutation of a push).
    """

    @property
    def unit(self) -> Any: ...

    def now(self) -> str: ...

    def write_transaction(self) -> AbstractContextManager[None]: ...

    def read_transaction(self) -> AbstractContextManager[None]: ...

    def savepoint(self) -> AbstractContextManager[None]: ...

    def in_transaction(self) -> bool: ...

    # records and changelog
    def get_record(self, entity: str, record_id: str) -> StoredRecord | None: ...

    def write_version(self, version: NewVersion) -> int:
        """Append the version to the changelog and make it the record's current row;
        returns its seq, above every seq committed before (and above a restore's floor)."""
        ...

    def history_entry(self, entity: str, record_id: str, version: int) -> HistoryEntry | None: ...

    def history_at_or_before(
        self, entity: str, record_id: str, seq: int
    ) -> HistoryEntry | None: ...

    def max_seq(self) -> int:
        """The highest changelog seq in this transaction's snapshot (0 when empty)."""
        ...

    def changed_since(
        self,
        patient_ids: Collection[str],
        after: int,
        limit: int,
        *,
        by_patient: bool = True,
        audience: str | None = None,
        views_key: str | None = None,
    ) -> list[ChangedRow]:
        """Current rows (tombstones too) of these patients with seq > ``after``, in seq
        order, at most ``limit``; ``by_patient`` only hints which index is cheaper.
        With ``audience`` (one of ``AUDIENCES``), each row carries that audience's stored
        view, ``viewed`` when the row's views were made under ``views_key``."""
        ...

    def sweep_records(
        self,
        patient_ids: Sequence[str],
        after_patient: str,
        after_seq: int,
        upto: int,
        limit: int,
        *,
        audience: str | None = None,
        views_key: str | None = None,
    ) -> list[ChangedRow]:
        """Live rows of these patients with seq ≤ ``upto``, in (patient_id, seq) order,
        after the key (after_patient, after_seq), at most ``limit``; ``audience`` and
        ``views_key`` as for ``changed_since``."""
        ...

    def records_without_views(self, views_key: str, limit: int) -> list[StoredRecord]:
        """Up to ``limit`` current rows whose views were not made under ``views_key``."""
        ...

    def set_views(self, entity: str, record_id: str, views: AudienceViews | None) -> None:
        """Replace a current row's stored views (None: none stored); history untouched."""
        ...

    def list_records(
        self,
        entity: str,
        patient_ids: Collection[str],
        *,
        where: Mapping[str, Any],
        after_id: str | None,
        limit: int,
        include_deleted: bool,
    ) -> list[ChangedRow]:
        """Rows of ``entity`` of these patients in id order, ids > ``after_id``, at most
        ``limit``; ``where`` is field equality on ``data`` (None matches a null or
        missing field, booleans compare as JSON booleans); a ``where`` key that is not
        a plain field name raises ValueError."""
        ...

    # devices
    def last_mutation_id(self, client_id: str) -> int: ...

    def set_last_mutation_id(self, client_id: str, user_id: str, last: int) -> None: ...

    def stored_results(self, client_id: str, mutation_ids: Collection[int]) -> dict[int, str]: ...

    def store_results(self, client_id: str, results: Sequence[tuple[int, str]]) -> None: ...

    def quarantine(self, entries: Sequence[QuarantineEntry]) -> None: ...

    def quarantined(self, client_id: str | None = None) -> Iterator[dict[str, Any]]: ...

    def quarantine_usage(self, user_id: str, within: timedelta) -> tuple[int, int]:
        """(entries, UTF-8 bytes of raw text) quarantined for ``user_id`` within the
        last ``within`` of the store's clock."""
        ...

    # pull cursors
    def epoch(self) -> str: ...

    def load_scope_set(self, ref: str) -> tuple[str, list[str]] | None: ...

    def has_scope_set(self, ref: str) -> bool: ...

    def save_scope_set(self, ref: str, user_id: str, patient_ids: Sequence[str]) -> None:
        """Store a set under its content address; a ref already stored is left as it is."""
        ...

    # schema
    def ensure_indexes(self, indexes: Iterable[RecordIndex]) -> None:
        """Create the declared record-field indexes that are missing (idempotent; run by
        ``doorstep init``/``migrate``, outside any transaction)."""
        ...

    # restore from backup
    def restored_gap_allowed(self, client_id: str) -> bool:
        """Whether this device may once skip mutation ids: the database was restored and
        the device has not pushed since (``set_last_mutation_id`` after the restore)."""
        ...

    def version_floor(self) -> int:
        """Every new version must be above this (0 unless the database was restored)."""
        ...

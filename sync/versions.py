"""Record versions: which one comes next, and which base versions can be trusted.

The server's versions are the only clock for conflicts (merge.py). Two rules keep that
true across ``doorstep restore`` (sync/store/sqlite_restore.py):

- a new version is above both the record's current version and the store's
  ``version_floor`` (the highest version issued before the restore), so no version
  number is ever issued twice for different contents;
- a ``base_version`` this database never issued for the record — above its current
  version, or a pre-restore number the restored changelog does not hold — is stale:
  it counts as 0, so every field another device changed conflicts instead of being
  overwritten by an edit made on a copy the server no longer knows.
"""

from __future__ import annotations

from sync.store import Store, StoredRecord


def next_version(store: Store, current: StoredRecord | None) -> int:
    """The version the next write of this record gets."""
    return max(current.version if current is not None else 0, store.version_floor()) + 1


def trusted_base(store: Store, current: StoredRecord, base: int | None) -> int | None:
    """``base`` if this database issued it for the record, else 0 (stale)."""
    if not base or base == current.version:
        return base
    if base > current.version:
        return 0
    # Versions are contiguous unless a restore made a gap: only then ask the changelog.
    if store.version_floor() and store.history_entry(current.entity, current.id, base) is None:
        return 0
    return base

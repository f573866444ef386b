"""The changelog: every version of every record, ordered by ``seq``.

Invariants:
- ``seq`` is monotonic and commit-ordered: a reader that sees seq N sees every seq < N.
  On SQLite this holds because writes run in ``BEGIN IMMEDIATE`` (one writer at a time)
  and seq is the table's ``INTEGER PRIMARY KEY`` (max + 1, allocated inside the lock);
- the changelog is append-only; ``records.seq`` is the seq of the record's latest
  version, so "changed since S" reads ``records`` by seq — each changed record once, at
  its latest version, in time proportional to the changes, never to the history;
- a push is all-or-nothing: its versions commit together or not at all.

PostgreSQL (the next store) must keep the first invariant explicitly, because a
sequence hands out numbers at INSERT time while transactions commit in another order:
a pull could read seq 12 committed while seq 11 is still in flight, advance its cursor
to 12, and skip 11 forever. A PostgreSQL store must therefore do one of:

1. allocate seq under a transaction-scoped lock held until commit —
   ``SELECT pg_advisory_xact_lock(<sync key>)`` then ``nextval`` — which serialises the
   (short) write transactions exactly as SQLite's writer lock does; or
2. keep seq from a sequence but bound every pull by the oldest in-flight writer: each
   write transaction records its first seq in an ``in_flight`` table (deleted at
   commit) and a pull serves only ``seq < min(in_flight.seq)``, or uses
   ``pg_snapshot_xmin(pg_current_snapshot())`` with a per-row ``xid8`` column and serves
   rows whose xid is below the snapshot's xmin.

Option 1 is the simpler one and fits Doorstep's write volume (thousands of mutations
per second on one lock); the pull engine needs no change under either option, because
it only asks the store for ``max_seq()`` and rows ``seq > cursor`` in its snapshot.
"""

from __future__ import annotations

from collections.abc import Collection

from sync.store import ChangedRow, Store

# Walking the seq index costs about one row per change since the cursor, whoever's it
# is; seeking the per-patient index costs about one probe per patient plus the matches.
# Walk when fewer changes happened since the cursor than the actor has patients.
SEEK_PER_PATIENT_COST = 1


def current_cursor(store: Store) -> int:
    """The highest seq committed, as seen by the caller's snapshot."""
    return store.max_seq()


def changes_since(
    store: Store,
    patient_ids: Collection[str],
    since: int,
    limit: int,
    *,
    high_water: int | None = None,
    audience: str | None = None,
    views_key: str | None = None,
) -> list[ChangedRow]:
    """Records of these patients changed after ``since``, in seq order, at most ``limit``.

    Each record appears once, at its latest version. ``high_water`` (the snapshot's
    ``current_cursor``) lets the store pick the cheaper index; ``audience`` and
    ``views_key`` ask for that audience's stored views (``Store.changed_since``).
    """
    if not patient_ids:
        return []
    top = high_water if high_water is not None else store.max_seq()
    if top <= since:
        return []
    walk = (top - since) < SEEK_PER_PATIENT_COST * len(patient_ids)
    return store.changed_since(
        patient_ids, since, limit, by_patient=not walk, audience=audience, views_key=views_key
    )

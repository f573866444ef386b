"""What each audience sees of a record, made once at write time and spliced into pulls.

Invariants:
- a row's stored views are used only if made under the registry's current
  ``views_key``; any other row (made before views existed, or under older rules) is
  decoded and redacted per actor, exactly as without stored views, until
  :func:`refresh_views` remakes it (``doorstep migrate``/``init`` run it);
- an entity without ``view`` or with ``personal`` redaction is always redacted per actor
  (its rows carry the key and no texts);
- the text is the wire's JSON encoding (:func:`sync.protocol.wire_json`), so a pull that
  splices it sends the same bytes as one that encodes the redacted record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.protocol import wire_json
from sync.registry import EntityType, Registry
from sync.store import AUDIENCES, AudienceViews, Store

REFRESH_BATCH = 500


def views_of(registry: Registry, et: EntityType, data: Mapping[str, Any]) -> AudienceViews | None:
    """The stored views of one version (no texts for an entity whose records are
    redacted per actor); None when the registry keeps no views."""
    if registry.views_key is None:
        return None
    texts: dict[str, str | None] = {}
    if et.view is None or et.personal:
        return AudienceViews(registry.views_key, texts)
    record = dict(data)
    for audience in sorted(set(registry.audiences.values())):
        shown = et.view(audience, record)
        texts[audience] = None if shown is None else wire_json(shown)
    return AudienceViews(registry.views_key, texts)


def audience_of(registry: Registry, role: str) -> str | None:
    """The audience whose stored views ``role``'s pulls splice (None: redact each)."""
    if registry.views_key is None:
        return None
    audience = registry.audiences.get(role)
    if audience is not None and audience not in AUDIENCES:
        raise ValueError(f"not an audience: {audience!r}")
    return audience


def refresh_views(store: Store, registry: Registry, batch: int = REFRESH_BATCH) -> int:
    """Remake the stored views of every row not made under the current rules, a batch
    per write transaction; returns how many rows it remade."""
    from sync.apply import entity_type

    key = registry.views_key
    if key is None:
        return 0
    done = 0
    while True:
        with store.write_transaction():
            records = store.records_without_views(key, batch)
            for record in records:
                et = entity_type(registry, record.entity)
                # An unknown entity's row is marked with the key and no texts (pulls skip
                # it), like an entity redacted per actor.
                views = views_of(registry, et, record.data) if et is not None else None
                store.set_views(record.entity, record.id, views or AudienceViews(key, {}))
        done += len(records)
        if len(records) < batch:
            return done

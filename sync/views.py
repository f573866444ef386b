"""What each audience sees of a record, made once at write time and spliced into pulls.

Invariants:
- a row's stored views are used only if made under the registry's current
  ``views_key``; any other row (made before views existed, or under older rules) is
  decoded and redacted per actor, exactly as without stored views, until
  :func:`refresh_views` remakes it (``doorstep migrate``/``init`` run it);
- an entity without ``view`` or with ``personal`` redaction is always redacted per actor
  (its rows carry the key and no texts);
- the text is the whole change as the wire carries it (:func:`sync.protocol.change_text`:
  entity, id, version, deleted, updated_at and the redacted data, encoded as
  :func:`sync.protocol.wire_json` would), so a pull appends it as it is and sends the
  same bytes as one that encodes the redacted record;
- the key a row's views are stored under is :func:`stored_key`: the registry's rules
  and this module's text format, so rows stored in an older format are remade too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.protocol import change_text, wire_json
from sync.registry import EntityType, Registry
from sync.store import AUDIENCES, AudienceViews, Store

REFRESH_BATCH = 500
# What a stored view holds: the whole change (2; 1 held the data alone).
FORMAT = "change-2"


def stored_key(registry: Registry) -> str | None:
    """The key of views made under the registry's rules in this format (None: no views)."""
    return None if registry.views_key is None else f"{registry.views_key}/{FORMAT}"


def views_of(registry: Registry, et: EntityType, entity: str, record_id: str, version: int,
             deleted: bool, updated_at: str, data: Mapping[str, Any]) -> AudienceViews | None:
    """The stored views of one version (no texts for an entity whose records are
    redacted per actor); None when the registry keeps no views."""
    key = stored_key(registry)
    if key is None:
        return None
    texts: dict[str, str | None] = {}
    if et.view is None or et.personal:
        return AudienceViews(key, texts)
    record = dict(data)
    for audience in sorted(set(registry.audiences.values())):
        shown = et.view(audience, record)
        texts[audience] = None if shown is None else change_text(
            entity, record_id, version, deleted, updated_at, wire_json(shown))
    return AudienceViews(key, texts)


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

    key = stored_key(registry)
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
                views = None if et is None else views_of(
                    registry, et, record.entity, record.id, record.version, record.deleted,
                    record.updated_at, record.data)
                store.set_views(record.entity, record.id, views or AudienceViews(key, {}))
        done += len(records)
        if len(records) < batch:
            return done

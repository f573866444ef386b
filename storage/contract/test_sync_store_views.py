"""Contract: the audience views a store keeps on each record row (issue 13).

Through the Store interface only, so every backend runs the same tests: views written
with a version come back for the audience asked, ``viewed`` only under the key they were
made with; rows without current views are listed for a refresh and ``set_views``
replaces them without touching the history.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from storage.contract.test_sync_store import Stores, version, write
from storage.contract.test_sync_store import stores as stores  # noqa: F401  (the fixture)
from sync.store import AudienceViews, NewVersion

KEY = "rules-1"


def viewed(number: int, **data: Any) -> NewVersion:
    texts = {"staff": '{"notes":"x","secret":"s"}', "patient": '{"notes":"x"}', "carer": None}
    return replace(version("visit", "v1", number, "P1", **data),
                   views=AudienceViews(KEY, texts))


def test_each_audience_reads_its_view_under_the_current_key(stores: Stores) -> None:
    [seq] = write(stores, viewed(1, notes="x", secret="s"))
    with stores.read() as store:
        for audience, text in (("staff", '{"notes":"x","secret":"s"}'),
                               ("patient", '{"notes":"x"}'), ("carer", None)):
            [row] = store.changed_since(["P1"], 0, 10, audience=audience, views_key=KEY)
            assert (row.seq, row.viewed, row.view) == (seq, True, text)
            [swept] = store.sweep_records(["P1"], "", 0, seq, 10, audience=audience,
                                          views_key=KEY)
            assert (swept.viewed, swept.view) == (True, text)
        [stale] = store.changed_since(["P1"], 0, 10, audience="staff", views_key="rules-2")
        assert not stale.viewed
        assert json.loads(stale.data) == {"notes": "x", "secret": "s"}  # redacted per actor
        [plain] = store.changed_since(["P1"], 0, 10)
        assert json.loads(plain.data) == {"notes": "x", "secret": "s"}


def test_rows_without_current_views_are_listed_and_remade(stores: Stores) -> None:
    write(stores, version("visit", "v2", 1, "P1", notes="old"), viewed(1, notes="x",
                                                                      secret="s"))
    with stores.read() as store:
        assert [r.id for r in store.records_without_views(KEY, 10)] == ["v2"]
        assert {r.id for r in store.records_without_views("rules-2", 10)} == {"v1", "v2"}
    with stores.write() as store:
        store.set_views("visit", "v2", AudienceViews(KEY, {"staff": '{"notes":"old"}'}))
    with stores.read() as store:
        assert store.records_without_views(KEY, 10) == []
        rows = store.changed_since(["P1"], 0, 10, audience="staff", views_key=KEY)
        assert [(r.id, r.viewed, r.view) for r in rows] == [
            ("v2", True, '{"notes":"old"}'), ("v1", True, '{"notes":"x","secret":"s"}')]
        history = store.history_entry("visit", "v2", 1)
        assert history is not None and history.data == {"notes": "old"}

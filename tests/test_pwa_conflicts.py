"""End to end, two devices: the same field edited on both while offline becomes a
conflict the second device resolves on its Conflicts screen, after which both devices
and the server agree; and an edit made after a push whose pull never arrived is still
checked against the other device's change (never a silent overwrite).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import (
    demo_app,
    idb_count,
    live_server,
    new_device,
    open_app,
    query,
    records,
    reload_app,
    sign_in,
    status,
    sync_now,
    wait_controlled,
    wait_idle,
    wait_pushed,
)
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    app = demo_app(tmp_path_factory.mktemp("pwa-conflicts"))
    with live_server(app) as base:
        yield app, base


def north_goals(app: Flask) -> list[dict[str, Any]]:
    team_id = query(app, "SELECT id FROM teams WHERE name = 'North Locality'")[0]["id"]
    patients = {p["id"] for p in records(app, "patient", team_id=team_id)}
    return sorted((g for g in records(app, "goal") if g["patient_id"] in patients),
                  key=lambda g: g["id"])


def device_for(chromium: Browser, base: str, username: str) -> tuple[BrowserContext, Page]:
    device = new_device(chromium)
    page = device.new_page()
    sign_in(page, base, username)
    wait_controlled(page)
    return device, page


GOAL_LABELS = {"title": "Goal", "description": "Details (optional)",
               "times_per_week": "Times a week"}


def edit_goal(page: Page, base: str, goal_id: str, **changes: str) -> None:
    open_app(page, f"{base}/goals/{goal_id}")
    for field, value in changes.items():
        page.get_by_label(GOAL_LABELS[field], exact=True).fill(value)
    page.get_by_role("button", name="Save goal").click()
    expect(page.get_by_text("Goal saved on this device.")).to_be_visible()


def open_conflicts(page: Page, count: int) -> None:
    expect(status(page).get_by_role("link", name=re.compile(r"open conflict"))).to_have_text(
        re.compile(rf"^{count} open conflicts?$"))


def test_same_field_edited_offline_on_two_devices_is_resolved_and_converges(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    goal = north_goals(app)[0]
    first, page_a = device_for(chromium, base, "nurse.north1")
    second, page_b = device_for(chromium, base, "nurse.north2")

    first.set_offline(True)
    second.set_offline(True)
    edit_goal(page_a, base, goal["id"], title="Walk to the post box and back")
    edit_goal(page_b, base, goal["id"], title="Walk to the corner shop")

    first.set_offline(False)
    sync_now(page_a)
    assert records(app, "goal", id=goal["id"])[0]["title"] == "Walk to the post box and back"
    second.set_offline(False)
    sync_now(page_b)
    open_conflicts(page_b, 1)
    assert records(app, "goal", id=goal["id"])[0]["title"] == "Walk to the post box and back"

    status(page_b).get_by_role("link", name="1 open conflict").click()
    card = page_b.get_by_role("listitem").filter(
        has=page_b.get_by_role("heading", name="Goal: Title"))
    values = card.get_by_role("group", name="Values for Goal: Title")
    expect(values).to_contain_text("Your value (made offline)Walk to the corner shop")
    expect(values).to_contain_text(
        "Their value (already on the server)Walk to the post box and back")
    expect(values).to_contain_text(f"Value before both changes{goal['title']}")
    card.get_by_role("button", name="Keep mine").click()
    expect(page_b.get_by_text("No open conflicts.")).to_be_visible()
    wait_idle(page_b)
    open_conflicts(page_b, 0)

    sync_now(page_a)
    open_conflicts(page_a, 0)
    for page in (page_a, page_b):
        open_app(page, f"{base}/patients/{goal['patient_id']}/goals")
        link = page.locator(f'a[href="/goals/{goal["id"]}"]')
        expect(link).to_have_text("Walk to the corner shop")
    assert records(app, "goal", id=goal["id"])[0]["title"] == "Walk to the corner shop"
    [conflict] = records(app, "conflict", record_id=goal["id"])
    assert conflict["status"] == "resolved" and conflict["resolution"] == "took_client"
    assert conflict["resolved_value"] == "Walk to the corner shop"
    first.close()
    second.close()


def test_an_edit_made_after_a_push_whose_pull_failed_still_meets_the_other_change(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    """The push answer's version covers B's change, which A never pulled: A's next edit
    must still be sent on the version A holds, so the server sees the clash."""
    app, base = server
    goal = north_goals(app)[1]
    first, page_a = device_for(chromium, base, "nurse.north1")
    second, page_b = device_for(chromium, base, "nurse.north2")

    edit_goal(page_b, base, goal["id"], description="Use the frame outdoors")
    sync_now(page_b)

    first.route("**/api/v1/sync/pull?*", lambda route: route.abort())
    edit_goal(page_a, base, goal["id"], times_per_week="6")
    wait_idle(page_a)
    status(page_a).get_by_role("button", name="Sync now").click()
    wait_pushed(page_a)
    after_push = records(app, "goal", id=goal["id"])[0]
    assert after_push["times_per_week"] == 6
    assert after_push["description"] == "Use the frame outdoors"

    # A still shows the description it pulled, and edits that.
    reload_app(page_a)
    details = page_a.get_by_label(GOAL_LABELS["description"], exact=True)
    expect(details).to_have_value(goal.get("description") or "")
    edit_goal(page_a, base, goal["id"], description="Walk with a stick")
    first.unroute("**/api/v1/sync/pull?*")
    sync_now(page_a)
    assert idb_count(page_a, "outbox") == 0

    assert records(app, "goal", id=goal["id"])[0]["description"] == "Use the frame outdoors"
    [conflict] = records(app, "conflict", record_id=goal["id"], field="description")
    assert conflict["client_value"] == "Walk with a stick"
    assert conflict["server_value"] == "Use the frame outdoors"
    open_conflicts(page_a, 1)
    first.close()
    second.close()

"""axe-core on every main screen of the PWA at 360 px wide, with real (demo) data: no
serious or critical violation, and no sideways scrolling.

Each role signs in once on its own device; each screen is opened by its address (a full
load of the app, as after a notification or a bookmark).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser import (
    NARROW,
    answer_falls_history,
    axe_violations,
    demo_app,
    live_server,
    make_conflict,
    new_device,
    open_app,
    query,
    records,
    sign_in,
    user_id,
    write,
)
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app = demo_app(tmp_path_factory.mktemp("pwa-a11y"))
    team = query(app, "SELECT id FROM teams WHERE name = 'North Locality'")[0]["id"]
    patient = sorted(records(app, "patient", team_id=team), key=lambda p: p["id"])[0]
    start = datetime.now(ZoneInfo("Europe/London")).replace(minute=0, second=0, microsecond=0)
    visit = write(app, "visit", {
        "patient_id": patient["id"], "assigned_to": user_id(app, "nurse.north1"),
        "scheduled_start": start.isoformat(), "visit_type": "wound_care", "status": "scheduled",
        "scheduled_end": (start + timedelta(minutes=45)).isoformat()})
    make_conflict(app, next(g for g in records(app, "goal") if g["patient_id"] == patient["id"]))
    with live_server(app) as base:
        yield {"app": app, "base": base, "patient": patient["id"], "visit": visit}


@pytest.fixture(scope="module")
def devices(chromium: Browser, server: dict[str, Any]) -> Iterator[dict[str, Page]]:
    """One signed-in 360 px device per role, and one signed out."""
    pages = {}
    for role, username in (("nurse", "nurse.north1"), ("coordinator", "coord.north"),
                           ("patient", "patient2"), ("signed out", None)):
        page = new_device(chromium, NARROW).new_page()
        if username:
            sign_in(page, server["base"], username)
        pages[role] = page
    yield pages
    for page in pages.values():
        page.context.close()


def fill_falls_form(page: Page) -> None:
    answer_falls_history(page, 1)
    expect(page.locator(".result")).to_contain_text("Falls risk:")


SCREENS = [
    ("nurse", "/today", "Today", None),
    ("nurse", "/caseload", "Caseload", None),
    ("nurse", "/patients/{patient}", None, None),
    ("nurse", "/visits/{visit}", "Visit: Wound care", None),
    ("nurse", "/patients/{patient}/falls/new", "Falls assessment", fill_falls_form),
    ("coordinator", "/dashboard", "Team dashboard", None),
    ("coordinator", "/escalations", "Escalations", None),
    ("coordinator", "/conflicts", "Conflicts", None),
    ("patient", "/me", "My goals", None),
    ("patient", "/fall", "I’ve had a fall", None),
    ("signed out", "/login", "Sign in to Doorstep", None),
]


@pytest.mark.parametrize(("role", "path", "heading", "prepare"), SCREENS,
                         ids=[f"{s[0]} {s[1]}" for s in SCREENS])
def test_no_serious_accessibility_violations_at_360px(
    devices: dict[str, Page], server: dict[str, Any], role: str, path: str,
    heading: str | None, prepare: Any,
) -> None:
    page = devices[role]
    open_app(page, server["base"] + path.format(**server))
    title = page.get_by_role("heading", level=1)
    if heading:
        expect(title).to_have_text(heading)
    expect(title).not_to_have_text("Loading…")
    expect(page.locator("main")).not_to_contain_text("Loading…")
    if path == "/conflicts":
        expect(page.get_by_role("button", name="Keep offline value")).to_be_visible()
    if prepare:
        prepare(page)
    assert axe_violations(page) == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"

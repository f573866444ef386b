"""Patients and carers read everyday words (docs/pwa.md, "Words for patients and carers").

A patient and a carer, each on a 360 × 740 phone and on a tablet, walk every screen
they have: My goals and "Done today", history, the fall report, telling the team,
reminders, upcoming visits, what is not sent yet and their account, online and offline
once. On each screen the visible text holds none of the app's own jargon (sync,
conflict, outbox…), no "null" or "undefined" and no raw field name, and axe finds no
serious or critical violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import (
    NARROW,
    TABLET,
    axe_violations,
    demo_app,
    go,
    live_server,
    new_device,
    sign_in,
    status,
    sync_now,
    wait_controlled,
)
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")

BANNED = re.compile(
    r"\b(sync\w*|conflicts?|mutations?|rejected|outbox|entity|entities|null|undefined)\b"
    r"|\b[a-z]+_[a-z0-9_]+\b",  # a raw field name such as unable_to_get_up
    re.IGNORECASE)


@pytest.fixture
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh demo per walk: each one taps "Done today" as if for the first time."""
    with live_server(demo_app(tmp_path_factory.mktemp("pwa-words"))) as address:
        yield address


def plain(page: Page, screen: str) -> None:
    """The screen as it is now: no jargon in its text, nothing serious for axe."""
    text = page.inner_text("body")
    found = sorted({m.group(0) for m in BANNED.finditer(text)})
    assert not found, f"{screen}: {found} in {text!r}"
    assert axe_violations(page) == [], screen


def heading(page: Page, name: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


@pytest.mark.parametrize("viewport", [NARROW, TABLET], ids=["phone", "tablet"])
@pytest.mark.parametrize("username", ["patient1", "carer1"])
def test_every_screen_speaks_plainly(chromium: Browser, base: str, username: str,
                                     viewport: dict[str, int]) -> None:
    device = new_device(chromium, viewport)
    page = device.new_page()
    sign_in(page, base, username)
    carer = username.startswith("carer")
    goals = re.compile(r"^Goals: ") if carer else "My goals"
    heading(page, goals)
    expect(status(page)).to_contain_text("All sent")
    plain(page, "my goals")

    page.get_by_role("button", name=re.compile(r"^Done today")).first.click()
    expect(page.get_by_role("status").first).to_contain_text("done today at")
    plain(page, "done today")

    go(page, "/me/history")
    heading(page, "History")
    expect(page.locator("main")).to_contain_text("done")
    plain(page, "history")

    go(page, "/fall")
    heading(page, "Report a fall" if carer else "I’ve had a fall")
    page.get_by_role("group", name=re.compile(r"hurt\?$")).get_by_label("No", exact=True).check()
    page.get_by_role("group", name=re.compile(r"get up on (your|their) own\?$"))\
        .get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Tell the care team" if carer else "Tell my care team").click()
    expect(page.get_by_text("Saved and being sent to the care team now.")).to_be_visible()
    plain(page, "fall report")

    go(page, "/me/report")
    heading(page, "Tell the care team" if carer else "Tell my care team")
    plain(page, "tell the team")

    go(page, "/me/reminders")
    heading(page, "Reminders")
    page.get_by_label("Reminder", exact=True).fill("Evening walk")
    page.get_by_role("button", name="Add reminder").click()
    expect(page.locator("li.card", has=page.get_by_role("heading", name="Evening walk")))\
        .to_be_visible()
    plain(page, "reminders")

    go(page, "/me/visits")
    heading(page, "Upcoming visits")
    expect(page.locator("li.card").first).to_contain_text("Between")
    plain(page, "upcoming visits")

    go(page, "/account")
    heading(page, "Account")
    plain(page, "account")

    # Offline once: what was saved waits on the device, in everyday words.
    sync_now(page)
    wait_controlled(page)
    device.set_offline(True)
    page.reload()
    expect(status(page)).to_contain_text("Offline")
    go(page, "/me")
    heading(page, goals)
    page.get_by_role("button", name=re.compile(r"^Done today")).first.click()
    expect(status(page)).to_contain_text(re.compile(r"(?<!\d)1\s*thing not sent yet"))
    plain(page, "done today offline")
    go(page, "/me/history")
    expect(page.locator("main .badge--pending").first).to_contain_text("Not sent yet")
    plain(page, "history offline")
    go(page, "/sync")
    heading(page, "What is not sent yet")
    plain(page, "not sent yet, offline")

    device.set_offline(False)
    sync_now(page)
    expect(status(page)).to_contain_text("All sent")
    plain(page, "back online")
    device.close()

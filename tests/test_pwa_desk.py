"""Everyone's screens (issue 14): own actions show at once, honest sync state, unsent
work visible before it can be lost, plain words, the co-ordinator's inbox and conflicts.
Real server, Debian Chromium, phone and tablet size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import PHONE, TABLET, demo_app, go, live_server, new_device, sign_in
from flask import Flask
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")
SIZES = pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    app = demo_app(tmp_path_factory.mktemp("pwa-desk"))
    with live_server(app) as base:
        yield app, base


@SIZES
def test_done_today_counts_at_once_offline(chromium: Browser, server: tuple[Flask, str],
                                          viewport: dict[str, int]) -> None:
    _, base = server
    device = new_device(chromium, viewport)
    page = device.new_page()
    sign_in(page, base, "patient1")
    device.set_offline(True)
    goal = page.locator("li.goal").first
    before = int(goal.locator(".goal__progress strong").inner_text())
    goal.get_by_role("button", name="Done today").click()
    expect(goal.locator(".goal__progress strong")).to_have_text(str(before + 1))
    expect(goal).to_contain_text("done once today")
    device.close()


@SIZES
def test_new_reminder_and_pause_show_at_once_offline(
        chromium: Browser, server: tuple[Flask, str], viewport: dict[str, int]) -> None:
    _, base = server
    device = new_device(chromium, viewport)
    page = device.new_page()
    sign_in(page, base, "carer1")
    go(page, "/me/reminders")
    device.set_offline(True)
    title = f"Evening stretch {viewport['width']}"
    page.get_by_label("Reminder", exact=True).fill(title)
    page.get_by_role("button", name="Add reminder").click()
    card = page.locator("li.card", has=page.get_by_role("heading", name=title))
    expect(card).to_be_visible()
    card.get_by_role("button", name=f"Pause reminder {title}").click()
    expect(card).to_contain_text("paused")
    expect(card.get_by_role("button", name=f"Resume reminder {title}")).to_be_visible()
    device.close()

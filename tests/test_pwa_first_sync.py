"""A first sync of many pages in Chromium against the real server (issue 13): the nurse
sees the download's progress while pages arrive, and every record of her scope is stored,
sealed, exactly as the server sends it (pages stored with bulk writes, pwa/src/lib/
serverCopies.js)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from browser import (
    _OPEN_STORE,
    DEMO_PASSWORD,
    SYNCED_JUST_NOW,
    demo_app,
    live_server,
    new_device,
    set_pin,
    status,
)
from flask import Flask
from playwright.sync_api import Browser

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")

PAGE = 40  # records per pull page in this test (the app asks for 500)

# Records each progress text the status bar's live region shows, and whether it was
# visible (not the visually-hidden class) when it changed.
PROGRESS_RECORDER = """
window.__progress = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll('.statusbar [aria-live]')) {
    const text = el.textContent;
    const last = window.__progress.at(-1);
    if (text.startsWith('Downloading') && (!last || last.text !== text)) {
      window.__progress.push({ text, visible: !el.classList.contains('visually-hidden')
        && el.getBoundingClientRect().height > 0 });
    }
  }
}).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
"""

# Every row of the person's records store, read raw (no Dexie, no decryption).
RAW_RECORDS = f"""async () => {{
  const db = await ({_OPEN_STORE})();
  try {{
    return await new Promise((resolve, reject) => {{
      const request = db.transaction('records').objectStore('records').getAll();
      request.onsuccess = () => resolve(request.result.map((row) => ({{
        entity: row.entity, id: row.id, version: row.version,
        sealed: row._sealed instanceof Uint8Array, plain: 'data' in row || 'base' in row,
      }})));
      request.onerror = () => reject(request.error);
    }});
  }} finally {{
    db.close();
  }}
}}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    app = demo_app(tmp_path_factory.mktemp("pwa-first-sync"), patients=12)
    with live_server(app) as base:
        yield app, base


def server_download(base: str, username: str) -> dict[tuple[str, str], int]:
    """Every record the user's first sync brings, {(entity, id): version}, pulled from the
    server by a second device (the same scope and redaction)."""
    http = requests.Session()
    login = http.post(f"{base}/api/v1/auth/login", json={
        "username": username, "password": DEMO_PASSWORD, "device_name": "check"})
    login.raise_for_status()
    http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    client_id, cursor, records = login.json()["client_id"], None, {}
    while True:
        params: dict[str, Any] = {"client_id": client_id, "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        body = http.get(f"{base}/api/v1/sync/pull", params=params).json()
        for change in body["changes"]:
            if not change["deleted"]:
                records[(change["entity"], change["id"])] = change["version"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return records


def test_a_multi_page_first_sync_shows_progress_and_stores_every_record_sealed(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    _, base = server
    device = new_device(chromium)
    pulls: list[str] = []

    # Pages wait until the PIN is chosen: the download runs behind the PIN step, where
    # the status bar is not on screen, and could otherwise end before it is.
    held: list[tuple[Any, str]] = []
    pin_chosen = False

    def small_pages(route: Any) -> None:
        pulls.append(route.request.url)
        url = route.request.url.replace("limit=500", f"limit={PAGE}")
        if pin_chosen:
            route.continue_(url=url)
        else:
            held.append((route, url))

    device.route("**/api/v1/sync/pull?*", small_pages)
    device.add_init_script(PROGRESS_RECORDER)
    page = device.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("coord.north")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Choose a PIN for this device").wait_for()
    set_pin(page)
    pin_chosen = True
    for route, url in held:
        route.continue_(url=url)
    status(page).get_by_text(SYNCED_JUST_NOW).wait_for()

    expected = server_download(base, "coord.north")
    assert len(expected) > 4 * PAGE  # several pages
    assert len(pulls) >= len(expected) // PAGE

    progress = page.evaluate("window.__progress")
    assert all(p["text"].startswith("Downloading your caseload") for p in progress), progress
    # ("starting…" and "0 so far" come first, until the download's size is known.)
    shown = [m for p in progress
             if (m := re.fullmatch(r"Downloading your caseload: ([\d,]+) of ([\d,]+)", p["text"]))]
    counts = [int(m[1].replace(",", "")) for m in shown]
    # Counts rise page by page while records arrive, shown in view, and end at the total.
    assert len({c for c in counts if 0 < c < len(expected)}) >= 3, progress
    assert counts == sorted(counts) and counts[-1] == len(expected), progress
    assert {m[2] for m in shown} == {f"{len(expected):,}"}, progress
    assert any(p["visible"] for p in progress), progress

    stored = page.evaluate(RAW_RECORDS)
    assert {(r["entity"], r["id"]): r["version"] for r in stored} == expected
    assert all(r["sealed"] and not r["plain"] for r in stored)
    device.close()

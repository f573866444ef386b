"""End to end, offline first: the PWA in Chromium against the real server.

A nurse's first sync shows its progress and fills the caseload; visits and falls
assessments recorded offline (app reloaded from the service worker, page closed and
reopened) reach the server exactly once, with the server's falls stratification equal
to the one shown live; a patient's "Done today" made offline arrives when back online;
the 999 advice shows offline, signed in or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser import (
    PHONE,
    answer,
    demo_app,
    idb_count,
    idb_meta,
    live_server,
    new_device,
    open_app,
    query,
    records,
    reload_app,
    sign_in,
    status,
    sync_now,
    user_id,
    wait_controlled,
)
from flask import Flask
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")

# Records the first-sync progress line each time it changes, from the first paint on.
PROGRESS_RECORDER = """
window.__progress = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll('[aria-live]')) {
    const text = el.textContent;
    if (text.startsWith('Downloading') && window.__progress.at(-1) !== text) {
      window.__progress.push(text);
    }
  }
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    app = demo_app(tmp_path_factory.mktemp("pwa-offline"))
    with live_server(app) as base:
        yield app, base


def team_patients(app: Flask, team: str) -> list[dict[str, Any]]:
    team_id = query(app, "SELECT id FROM teams WHERE name = ?", team)[0]["id"]
    return sorted(records(app, "patient", team_id=team_id),
                  key=lambda p: (p["family_name"], p["given_name"], p["id"]))


def waiting(page: Page, count: int) -> None:
    expect(status(page)).to_contain_text(
        re.compile(rf"(?<!\d){count}\s*changes? waiting to sync"))


def test_first_sync_shows_progress_then_lists_the_caseload(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    device = new_device(chromium)
    # Pages of 25 instead of 500, so this small caseload arrives in several pages.
    device.route("**/api/v1/sync/pull?*", lambda route: route.continue_(
        url=route.request.url.replace("limit=500", "limit=25")))
    device.add_init_script(PROGRESS_RECORDER)
    page = device.new_page()
    sign_in(page, base, "nurse.north1")

    progress = page.evaluate("window.__progress")
    assert progress, "the first sync showed no progress"
    # "Downloading your caseload: 25 of 117" (issue 14: N of the download's size).
    assert all(line.startswith("Downloading your caseload") for line in progress), progress
    lines = [m for line in progress
             if (m := re.fullmatch(r"Downloading your caseload: ([\d,]+) of ([\d,]+)", line))]
    counts = [int(m[1].replace(",", "")) for m in lines]
    assert {m[2] for m in lines} == {f"{idb_count(page, 'records'):,}"}, progress
    assert 25 in counts and len(set(counts) - {0}) >= 3 and counts == sorted(counts), progress
    assert counts[-1] == idb_count(page, "records")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    expected = team_patients(app, "North Locality")
    expect(page.get_by_text(f"{len(expected)} of {len(expected)} patients")).to_be_visible()
    names = page.locator(".card__title").all_inner_texts()
    assert names == [f"{p['given_name']} {p['family_name']}" for p in expected]
    device.close()


def test_offline_visit_and_falls_assessment_reach_the_server_as_shown(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    nurse = user_id(app, "nurse.north1")
    patient = team_patients(app, "North Locality")[0]
    before = {e: {r["id"] for r in records(app, e, patient_id=patient["id"])}
              for e in ("visit", "falls_assessment")}
    device = new_device(chromium)
    page = device.new_page()
    sign_in(page, base, "nurse.north1")
    wait_controlled(page)
    client_id = idb_meta(page, "client_id")

    device.set_offline(True)
    reload_app(page)  # the app now comes from the service worker's precache; the PIN unlocks
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    expect(status(page)).to_contain_text("Offline")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    page.locator(f'a[href="/patients/{patient["id"]}"]').click()
    page.get_by_role("link", name="New visit").click()
    page.get_by_label("Visit type").select_option("wound_care")
    page.get_by_role("button", name="Book visit").click()
    page.get_by_role("button", name="Start visit").click()
    notes = "Leg ulcer redressed offline; edges healthy."
    page.get_by_label("Visit notes").fill(notes)
    page.get_by_role("group", name="Interventions").get_by_label("Wound care").check()
    page.get_by_role("button", name="Complete visit").click()
    expect(page.get_by_text("Visit completed.")).to_be_visible()

    page.get_by_role("link", name="Falls assessment at this visit").click()
    result = page.locator(".result")
    expect(result).to_contain_text("Answer the questions above")
    page.get_by_label("Falls in the last 12 months").fill("0")
    answer(page, "Feels unsteady when standing or walking?", "Yes")
    answer(page, "Worried about falling?", "No")
    page.get_by_label("Timed Up and Go (seconds)").fill("18")
    expect(result).to_contain_text("Falls risk: Intermediate")  # live, as answers change
    page.get_by_label("Falls in the last 12 months").fill("1")
    answer(page, "Injured in a fall?", "Yes")
    answer(page, "Unable to get up after a fall without help?", "No")
    answer(page, "Lost consciousness or suspected blackout with a fall?", "No")
    expect(result).to_contain_text("Falls risk: High")
    shown = re.search(r"Falls risk: (\w+)", result.inner_text())[1]
    page.get_by_role("button", name="Save assessment").click()
    name = f"{patient['given_name']} {patient['family_name']}"
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text(f"Falls risk: {shown} (not yet synced)")).to_be_visible()

    # Close the app and open it again, still offline: the changes wait on the device.
    page.close()
    page = device.new_page()
    open_app(page, f"{base}/patients/{patient['id']}")
    expect(status(page)).to_contain_text("Offline")
    waiting(page, 4)  # the visit booked, started and completed; the assessment
    assert {r["id"] for r in records(app, "visit", patient_id=patient["id"])} == before["visit"]

    device.set_offline(False)
    sync_now(page)
    waiting(page, 0)

    visits = [r for r in records(app, "visit", patient_id=patient["id"])
              if r["id"] not in before["visit"]]
    falls = [r for r in records(app, "falls_assessment", patient_id=patient["id"])
             if r["id"] not in before["falls_assessment"]]
    assert len(visits) == 1 and len(falls) == 1
    visit, assessment = visits[0], falls[0]
    assert visit["status"] == "completed" and visit["notes"] == notes
    assert visit["interventions"] == ["Wound care"] and visit["visit_type"] == "wound_care"
    assert visit["assigned_to"] == nurse and visit["started_at"] and visit["ended_at"]
    assert assessment["visit_id"] == visit["id"]
    assert assessment["falls_last_12_months"] == 1 and assessment["fall_injury"] is True
    assert assessment["risk_level"] == shown.lower()
    # Nothing else was written by this device, and nothing twice.
    written = query(app, "SELECT entity, id, version FROM changelog WHERE client_id = ? "
                         "AND author_id = ? ORDER BY seq", client_id, nurse)
    assert {(w["entity"], w["id"]) for w in written} == {
        ("visit", visit["id"]), ("falls_assessment", assessment["id"])}
    assert [w["version"] for w in written if w["entity"] == "visit"] == [1, 2, 3]
    # The device now shows the server's result, no longer the local one.
    badge = page.locator(".badge", has_text="Falls risk:").first
    expect(badge).to_have_text(re.compile(rf"Falls risk: {shown}$"))
    device.close()


def test_the_999_advice_shows_offline_before_signing_in(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    _, base = server
    device = new_device(chromium, PHONE)
    page = device.new_page()
    page.goto(f"{base}/login")
    wait_controlled(page)
    device.set_offline(True)
    page.goto(f"{base}/fall")
    expect(page.get_by_role("heading", name="I’ve had a fall")).to_be_visible()
    expect(page.get_by_text("If you are hurt or cannot get up, call 999.")).to_be_visible()
    expect(page.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")
    device.close()


def test_patient_logs_done_today_offline_and_it_reaches_the_server(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    patient_id = query(app, "SELECT patient_id FROM users WHERE username = ?",
                       "patient1")[0]["patient_id"]
    goal = sorted(records(app, "goal", patient_id=patient_id, status="active"),
                  key=lambda g: g["title"])[0]
    before = {r["id"] for r in records(app, "goal_log", goal_id=goal["id"])}
    device = new_device(chromium, PHONE)
    page = device.new_page()
    sign_in(page, base, "patient1")
    expect(page.get_by_role("heading", name="My goals")).to_be_visible()
    wait_controlled(page)

    device.set_offline(True)
    page.reload()
    expect(status(page)).to_contain_text("Offline")
    done = re.compile(rf"^Done today\s*: {re.escape(goal['title'])}$")
    page.get_by_role("button", name=done).click()
    expect(page.get_by_role("status")).to_contain_text(f"Saved: “{goal['title']}” done today")
    # A patient's status bar says it in everyday words (no "sync").
    expect(status(page)).to_contain_text(re.compile(r"(?<!\d)1\s*thing not sent yet"))
    # The fall screen's advice needs nothing from the network either.
    page.get_by_role("link", name="I’ve had a fall").click()
    expect(page.get_by_text("If you are hurt or cannot get up, call 999.")).to_be_visible()
    assert {r["id"] for r in records(app, "goal_log", goal_id=goal["id"])} == before

    device.set_offline(False)
    sync_now(page)
    logs = [r for r in records(app, "goal_log", goal_id=goal["id"]) if r["id"] not in before]
    today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    assert [(log["date"], log["done"], log["patient_id"]) for log in logs] == [
        (today, True, patient_id)]
    device.close()

"""The nurse's screens of issue 14 in Chromium against the real server, at phone
(360×740) and tablet (820×1180) size: the patient banner on every patient, visit and
assessment screen, Today, and History — offline (reloaded from the service worker), as
in a patient's home without signal. axe finds nothing serious or critical on them.

The browser's clock is 13:00 today (London), so which visits are overdue or missed is
fixed; the server keeps real time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browser import (
    axe_violations,
    go,
    live_server,
    new_device,
    records,
    reload_app,
    sign_in,
    status,
)
from conftest import PASSWORD
from nurse_factories import VIEWPORTS, fake_now, nurse_day_app, today
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app, ids = nurse_day_app(tmp_path_factory.mktemp("pwa-nurse"))
    with live_server(app) as base:
        yield {"app": app, "base": base, **ids}


@pytest.fixture(scope="module", params=list(VIEWPORTS), ids=list(VIEWPORTS))
def nurse(request: pytest.FixtureRequest, chromium: Browser,
          server: dict[str, Any]) -> Iterator[Page]:
    """Nina's device at the viewport, signed in and synced, its shell precached."""
    device = new_device(chromium, VIEWPORTS[request.param])
    device.clock.set_system_time(fake_now())
    page = device.new_page()
    sign_in(page, server["base"], "nina", PASSWORD)
    page.wait_for_function(
        "() => Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)")
    yield page
    device.close()


@pytest.fixture
def offline(nurse: Page) -> Iterator[Page]:
    """The signed-in device with no connection, the app reloaded from the precache."""
    nurse.context.set_offline(True)
    reload_app(nurse)
    expect(status(nurse)).to_contain_text("Offline")
    yield nurse
    nurse.context.set_offline(False)


def no_serious_violations_and_no_sideways_scroll(page: Page) -> None:
    assert axe_violations(page) == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def fact(term: str, value: str) -> re.Pattern[str]:
    """A banner fact: the term (its colon is drawn by CSS) then the value."""
    return re.compile(rf"{re.escape(term)}:?\s*{re.escape(value)}")


def banner(page: Page) -> Any:
    return page.get_by_role("region", name="Patient banner")


def test_the_banner_shows_who_and_what_to_know_on_every_patient_screen_offline(
    offline: Page, server: dict[str, Any]
) -> None:
    page, s = offline, server
    born = today()
    age = born.year - 1941 - ((born.month, born.day) < (3, 2))
    open_rules = sorted(e["rule"] for e in records(s["app"], "escalation", patient_id=s["edith"])
                        if e["status"] == "open")
    assert open_rules == ["activation_low", "falls_risk_high"]
    screens = [f"/patients/{s['edith']}", f"/visits/{s['todo']}",
               f"/patients/{s['edith']}/falls/new", f"/patients/{s['edith']}/activation/new",
               f"/patients/{s['edith']}/goals", f"/goals/{s['goal']}",
               f"/patients/{s['edith']}/visits/new", f"/falls/{s['falls_latest']}",
               f"/activation/{s['score_latest']}", f"/patients/{s['edith']}/invite"]
    for path in screens:
        go(page, path)
        shown = banner(page)
        expect(shown).to_contain_text("CRAWLEY, Edith")
        expect(shown).to_contain_text(fact("Born", f"2 Mar 1941 ({age} years)"))
        expect(shown).to_contain_text(fact("NHS number", "999 000 0018"))
        expect(shown).to_contain_text(fact("Address", "4 Mill Lane, Testtown, TE1 4ST"))
        expect(shown).to_contain_text(fact("Access", "Key safe 1234; dog"))
        expect(shown).to_contain_text("Falls risk: High")
        expect(shown).to_contain_text("Activation level 3")
        expect(shown).to_contain_text("2 open escalations")
        expect(shown.get_by_role("link", name="High falls risk")).to_be_visible()
        expect(shown.get_by_role("link", name="Low or falling activation")).to_be_visible()
    call = banner(page).get_by_role("link", name="Call 01632 960123")
    expect(call).to_have_attribute("href", "tel:01632960123")
    box = call.bounding_box()
    assert box and box["height"] >= 44, box
    no_serious_violations_and_no_sideways_scroll(page)


def test_today_lists_my_visits_in_time_order_with_overdue_missed_and_no_access_marked(
    offline: Page
) -> None:
    page = offline
    go(page, "/today")
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    expect(page.get_by_text("5 visits: 1 completed, 1 no access, 1 missed, 1 overdue, 1 to do."))\
        .to_be_visible()
    rows = page.locator("main ol.cards > li")
    expect(rows).to_have_count(5)
    titles = [t.split(" · ") for t in rows.locator(".card__title").all_inner_texts()]
    assert titles == [["08:00–08:30", "Arthur Bell"], ["09:00–09:45", "Mabel Ames"],
                      ["10:00–10:30", "Edith Crawley"], ["12:00–12:30", "Arthur Bell"],
                      ["15:00–15:45", "Edith Crawley"]]
    expect(rows.nth(0)).to_contain_text("Medication · 9 Church Row, Testtown, TE2 9CR")
    expect(rows.nth(0)).to_contain_text("Completed")
    expect(rows.nth(1)).to_contain_text("No access")
    expect(rows.nth(2)).to_contain_text("Missed: not started 2 hours after its end")
    expect(rows.nth(3)).to_contain_text("Overdue: past its booked time")
    expect(rows.nth(4)).to_contain_text("Wound care · 4 Mill Lane, Testtown, TE1 4ST")
    expect(rows.nth(4)).to_contain_text("Access: Key safe 1234; dog")
    for row in (rows.nth(0), rows.nth(4)):
        expect(row).not_to_contain_text("Overdue")
        expect(row).not_to_contain_text("Missed")
    no_serious_violations_and_no_sideways_scroll(page)

    page.get_by_role("link", name="Yesterday").click()
    yesterday = today() - timedelta(days=1)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{yesterday:%a} {yesterday.day} {yesterday:%b}")
    expect(page.locator("main ol.cards > li")).to_have_count(1)
    expect(page.locator("main .card__title")).to_have_text("11:00–11:30 · Mabel Ames")
    page.get_by_role("link", name="Next day").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    page.get_by_role("link", name="Tomorrow").click()
    expect(page.locator("main .card__title")).to_have_text("09:30–10:00 · Edith Crawley")
    expect(page.locator("main ol.cards > li")).to_contain_text("Scheduled")
    page.get_by_role("link", name="Today").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    later = today() + timedelta(days=9)
    page.get_by_label("Go to a date").fill(later.isoformat())
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{later:%a} {later.day} {later:%b}")
    expect(page.get_by_text(f"No visits booked for you on {later:%a} {later.day} {later:%b}."))\
        .to_be_visible()
    page.get_by_role("link", name="Today").first.click()

    page.get_by_role("link", name="Book a visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a visit")
    page.get_by_role("link", name=re.compile(r"^Mabel Ames\W+book a visit")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New visit")
    expect(banner(page)).to_contain_text("AMES, Mabel")
    expect(page.get_by_role("button", name="Book visit")).to_be_visible()


def test_history_opens_past_assessments_and_visits_read_only_with_trends(
    offline: Page, server: dict[str, Any]
) -> None:
    page, s = offline, server
    go(page, f"/patients/{s['edith']}")
    expect(page.get_by_role("img", name=re.compile(r"^Activation scores: 2 scores, latest 60\.2")))\
        .to_be_visible()
    expect(page.get_by_role("img", name=re.compile(
        r"^Falls risk stratification: 2 assessments, latest High"))).to_be_visible()
    past = page.locator("#assessments-heading").locator("..")
    past.get_by_role("link", name=re.compile("High falls risk")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Falls assessment, ")
    expect(page.get_by_text("Read only: a falls assessment is never changed.")).to_be_visible()
    table = page.get_by_role("table", name="Answers compared with the previous assessment")
    expect(table.get_by_role("columnheader", name=re.compile("^Previous"))).to_be_visible()
    falls_row = table.get_by_role("row", name=re.compile("^Falls in the last 12 months"))
    expect(falls_row).to_have_text(re.compile(r"Falls in the last 12 months\s*0\s*2 \(changed\)"))
    tug_row = table.get_by_role("row", name=re.compile("^Timed Up and Go"))
    expect(tug_row).to_contain_text("19.5 (changed)")
    worried = table.get_by_role("row", name=re.compile("^Worried about falling"))
    expect(worried).not_to_contain_text("changed")
    no_serious_violations_and_no_sideways_scroll(page)
    page.get_by_role("link", name="Open the previous assessment").click()
    expect(page.get_by_role("heading", name="Answers (first assessment)")).to_be_visible()
    expect(page.get_by_role("columnheader", name=re.compile("^Previous"))).to_have_count(0)

    go(page, f"/patients/{s['edith']}")
    past = page.locator("#assessments-heading").locator("..")
    past.get_by_role("link", name=re.compile("score 60.2, level 3")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Activation score, ")
    expect(page.locator("main .summary")).to_contain_text("Score60.2")
    expect(page.get_by_text("Read only: an activation score is never changed.")).to_be_visible()
    no_serious_violations_and_no_sideways_scroll(page)

    go(page, f"/visits/{s['yesterday']}")
    expect(page.get_by_text("This visit is signed and read-only.")).to_be_visible()
    expect(page.get_by_role("button", name="Start visit")).to_have_count(0)

    go(page, f"/patients/{s['edith']}/falls/new")  # a reassessment: the last answers at hand
    previous = page.locator(".previous-answers")
    expect(previous.locator("summary")).to_have_text(
        re.compile(r"^Previous assessment \(.*falls risk high\)"))
    expect(previous.get_by_role("row", name=re.compile("^Falls in the last 12 months")))\
        .to_contain_text("2")
    questions = page.get_by_label("Falls in the last 12 months").bounding_box()
    beside = previous.bounding_box()
    assert questions and beside
    if page.viewport_size and page.viewport_size["width"] >= 768:  # two columns: beside
        assert beside["x"] > questions["x"] + questions["width"], (questions, beside)


# Every visible control in the screen's main part, and how big its target is (a radio or
# checkbox is targeted through its label).
TARGETS = """() => [...document.querySelectorAll(
    'main a, main button, main input, main select, main summary')]
  .filter((e) => e.offsetParent !== null)
  .map((e) => ['radio', 'checkbox'].includes(e.type) ? e.closest('label') : e)
  .map((e) => [e.tagName, e.textContent.trim().slice(0, 40), e.getBoundingClientRect().height])
  .filter(([, , height]) => height < 44)"""


def test_every_control_on_the_nurse_screens_is_at_least_44px_tall(
    nurse: Page, server: dict[str, Any]
) -> None:
    s = server
    for path in ("/today", "/caseload", f"/patients/{s['edith']}", f"/falls/{s['falls_latest']}",
                 f"/activation/{s['score_latest']}", f"/patients/{s['edith']}/invite"):
        go(nurse, path)
        expect(nurse.locator("main")).not_to_contain_text("Loading")
        assert nurse.evaluate(TARGETS) == [], path


def test_at_320px_the_nurse_screens_do_not_scroll_sideways(
    nurse: Page, server: dict[str, Any]
) -> None:
    s = server
    size = nurse.viewport_size
    nurse.set_viewport_size({"width": 320, "height": 640})
    try:
        for path in ("/today", "/caseload", f"/patients/{s['edith']}",
                     f"/falls/{s['falls_latest']}", f"/patients/{s['edith']}/invite"):
            go(nurse, path)
            expect(nurse.get_by_role("heading", level=1)).not_to_have_text("Loading…")
            expect(nurse.locator("main")).not_to_contain_text("Loading")
            overflow = nurse.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320px"
    finally:
        if size:
            nurse.set_viewport_size(size)

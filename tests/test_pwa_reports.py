"""The co-ordinator's Reports screen and Team dashboard in Chromium, at phone (360 px) and
tablet (768 px) size, over the known data set of tests/test_reports.py (the server's
clock held at its "now", Tue 24 Nov 2026 09:00 UTC): the report shows those numbers,
offers CSV downloads and says plainly when it cannot load offline; a dashboard number
opens the list behind it, leaving out patients who opted out of risk profiling; axe finds
no serious or critical violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import NARROW, axe_violations, go, live_server, new_device, sign_in
from conftest import PASSWORD, Clock, migrated_app, test_config
from playwright.sync_api import Browser, Page, expect
from test_reports import NOW, build_world

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")

TABLET_PORTRAIT = {"width": 768, "height": 1024}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    clock = Clock(NOW)
    app = migrated_app(test_config(tmp_path_factory.mktemp("pwa-reports"), clock))
    world = build_world(app, clock)
    with live_server(app) as base:
        yield {"base": base, "username": world["coordinator"].username}


@pytest.fixture(scope="module", params=[NARROW, TABLET_PORTRAIT], ids=["phone", "tablet"])
def page(request: pytest.FixtureRequest, chromium: Browser,
         server: dict[str, Any]) -> Iterator[Page]:
    context = new_device(chromium, request.param, accept_downloads=True)
    page = context.new_page()
    sign_in(page, server["base"], server["username"], PASSWORD)
    yield page
    context.close()


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"scrolls sideways by {overflow}px"


def test_the_report_screen_shows_the_known_numbers(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    falls = page.get_by_role("list", name="Caseload by falls risk: now")
    expect(falls).to_contain_text("1High falls risk")
    expect(falls).to_contain_text("1Intermediate falls risk")
    expect(falls).to_contain_text("1Low falls risk")
    expect(falls).to_contain_text("1Not assessed")
    expect(page.get_by_text("4 patients counted. 1 patient who has opted out of risk "
                            "profiling is left out.")).to_be_visible()
    activation = page.get_by_role("list", name="Caseload by activation level: now")
    expect(activation).to_contain_text("1Activation level 2")
    expect(activation).to_contain_text("1Activation level 4")
    expect(activation).to_contain_text("2Not assessed")

    acknowledge = page.get_by_role("table", name="Time to acknowledge, last 12 weeks")
    expect(acknowledge.get_by_role("row", name="Urgent")).to_have_text("Urgent4330 min")
    expect(acknowledge.get_by_role("row", name="Routine")).to_have_text("Routine312 h")
    expect(acknowledge.get_by_role("row", name="Emergency")).to_contain_text("none acknowledged")

    visits = page.locator("#visits-heading").locator("..")
    visits.get_by_text("Visits completed and no access per week as a table").click()
    week = visits.get_by_role("row", name="16 Nov").first
    expect(week).to_have_text("16 Nov314")  # completed 3, no access 1, total 4
    chart = visits.get_by_role("img", name="Visits completed and no access per week")
    expect(chart).to_have_attribute("aria-label", "Visits completed and no access per week: "
                                    "4 completed and 1 no access in 12 weeks; this week 0 "
                                    "completed, 0 no access.")
    assert axe_violations(page) == []
    no_sideways_scroll(page)


def test_each_report_downloads_as_csv(page: Page) -> None:
    go(page, "/reports")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download visits report (CSV)").click()
    path = download.value.path()
    assert download.value.suggested_filename == "doorstep-visits-2026-11-24.csv"
    text = Path(path).read_text(encoding="utf-8")
    assert text.splitlines()[0] == "teams,week,start,end,completed,no_access,late_synced"
    assert "North,2026-W47,2026-11-16,2026-11-22,3,1,2" in text


def test_a_dashboard_number_opens_the_list_behind_it(page: Page) -> None:
    go(page, "/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team dashboard")
    # Dora is high (sharing objection does not matter here); Cora opted out of profiling.
    high = page.get_by_role("link", name="high falls risk")
    expect(high).to_contain_text("1")
    # Trends from the reports API, with their text alternatives.
    expect(page.get_by_role("img", name="Escalations raised per week")).to_be_visible()
    assert axe_violations(page) == []
    no_sideways_scroll(page)
    high.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients at high falls risk")
    expect(page.get_by_role("link", name="Dora Crawley")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Cora")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Dora Crawley").click()
    expect(page).to_have_url(re.compile(r"/patients/[0-9a-f-]+$"))


def test_offline_the_report_says_it_needs_a_connection(page: Page) -> None:
    go(page, "/dashboard")
    page.context.set_offline(True)
    try:
        go(page, "/reports")
        expect(page.get_by_text("Reports need a connection")).to_be_visible()
        assert axe_violations(page) == []
    finally:
        page.context.set_offline(False)
    # Back online, the report loads by itself.
    expect(page.get_by_role("list", name="Caseload by falls risk: now")).to_be_visible()

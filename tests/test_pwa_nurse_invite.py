"""Enrolment in the app (issue 14, Nurse), in Chromium against the real server at phone
(360×740) and tablet (820×1180) size: a nurse makes a carer invite (relationship and
consent basis), sees the code in large characters, its expiry and a QR code of the
set-up address; the carer enrols from that address; the enrol screen says what is
wrong (password too short, code used or expired). Making a code offline says it needs
a connection. axe finds nothing serious or critical on these screens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dbtools as db
import pytest
from browser import axe_violations, live_server, new_device, open_app, sign_in, status
from conftest import PASSWORD, login
from nurse_factories import VIEWPORTS, nurse_day_app, today
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")

CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app, ids = nurse_day_app(tmp_path_factory.mktemp("pwa-invite"))
    with live_server(app) as base:
        yield {"app": app, "base": base, **ids}


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return VIEWPORTS[request.param]


def clean(page: Page) -> None:
    assert axe_violations(page) == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def enrol(page: Page, username: str, password: str) -> None:
    page.get_by_label("Your name").fill("Sue Ames")
    page.get_by_label("Choose a username").fill(username)
    page.get_by_label("Choose a password").fill(password)
    page.get_by_role("button", name="Set up account").click()


def test_a_nurse_invites_a_carer_who_enrols_from_the_qr_address(
    chromium: Browser, server: dict[str, Any], viewport: dict[str, int]
) -> None:
    s = server
    nurse_device = new_device(chromium, viewport)
    nurse = nurse_device.new_page()
    sign_in(nurse, s["base"], "nina", PASSWORD)
    open_app(nurse, f"{s['base']}/patients/{s['mabel']}")
    nurse.get_by_role("link", name="Invite to the app").click()
    expect(nurse.get_by_role("heading", level=1)).to_have_text("Invite to the app")
    nurse.get_by_role("group", name="Who is the invitation for?").get_by_label(
        re.compile("^A carer")).check()
    nurse.get_by_role("button", name="Make invitation code").click()
    expect(nurse.get_by_role("alert").first).to_contain_text("There is a problem")
    expect(nurse.get_by_text("Say how the carer is related to the patient.").last).to_be_visible()
    clean(nurse)
    nurse.get_by_label("Relationship to the patient").fill("daughter")
    nurse.get_by_role("group", name="Basis for sharing with this carer").get_by_label(
        "The patient consents").check()
    nurse.get_by_role("button", name="Make invitation code").click()

    expect(nurse.get_by_role("heading", name="Invitation code")).to_be_visible()
    code = nurse.locator(".invite-code").inner_text()
    assert CODE.match(code), code
    size = nurse.locator(".invite-code").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 28, size  # large enough to read out or copy down
    expires = today() + timedelta(days=7)
    expect(nurse.get_by_text("Valid until")).to_contain_text(
        f"{expires.day} {expires:%b} {expires.year}")
    expect(nurse.get_by_role("img", name="QR code that opens the set-up page with this code"))\
        .to_be_visible()
    address = nurse.locator(".invite-url").inner_text()
    assert address == f"{s['base']}/enrol?code={code}"
    clean(nurse)
    nurse.set_viewport_size({"width": 320, "height": 640})  # the code still fits on one line
    assert nurse.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    lines = nurse.locator(".invite-code").evaluate(
        "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)")
    assert round(lines) == 1, lines
    nurse.set_viewport_size(viewport)

    carer = new_device(chromium, viewport).new_page()
    carer.goto(address)  # where the QR code leads
    expect(carer.get_by_label("Invitation code")).to_have_value(code)
    enrol(carer, f"sue.ames.{viewport['width']}", "short")
    expect(carer.get_by_role("alert")).to_contain_text("Password: must be at least 8 characters.")
    expect(carer.locator(".field--error")).to_contain_text("Must be at least 8 characters.")
    clean(carer)
    carer.get_by_label("Choose a password").fill("sunflowers7")
    carer.get_by_role("button", name="Set up account").click()
    expect(carer.get_by_role("heading", level=1)).to_have_text("Goals: Mabel Ames")
    expect(status(carer)).to_be_visible()

    again = new_device(chromium, viewport).new_page()
    again.goto(address)
    enrol(again, f"someone.{viewport['width']}", "sunflowers7")
    expect(again.get_by_role("alert")).to_contain_text(
        "This code has already been used. Ask for a new one.")
    expect(again.locator(".field--error")).to_contain_text("already been used")

    nurse.context.set_offline(True)
    nurse.get_by_role("button", name="Make another invitation").click()
    nurse.get_by_role("button", name="Make invitation code").click()
    expect(nurse.get_by_role("alert")).to_contain_text("Making a code needs a connection.")
    for page in (nurse, carer, again):
        page.context.close()


def test_an_expired_code_says_so_and_what_to_do(
    chromium: Browser, server: dict[str, Any], viewport: dict[str, int]
) -> None:
    s = server
    made = login(s["app"].test_client(), "nina").post(
        f"/api/v1/patients/{s['arthur']}/invites", json={"role": "patient"})
    assert made.status_code == 201
    with s["app"].app_context():
        conn = db.get_db()
        with db.write_transaction(conn):
            conn.execute("UPDATE invites SET expires_at = '2000-01-01T00:00:00+00:00'"
                         " WHERE used_at IS NULL")
    page = new_device(chromium, viewport).new_page()
    page.goto(f"{s['base']}/enrol?code={made.json['code']}")
    enrol(page, f"arthur.{viewport['width']}", "sunflowers7")
    expect(page.get_by_role("alert")).to_contain_text(
        "This code has expired. Ask your nurse for a new one.")
    clean(page)
    page.context.close()

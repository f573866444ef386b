"""Locked and encrypted on shared tablets (issue 15), in Chromium against the real server.

After a first sync nothing identifying is readable in any IndexedDB object store; every
page load opens locked and the PIN unlocks, also offline; 5 wrong PINs leave only a
password sign-in, after which the waiting outbox is still pushed; a revoked device shows
nothing even with the right PIN, and once its offline window has passed its data needs
the server's (destroyed) secret; two staff on one tablet never see or send each other's
data; the app locks itself after the idle time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import (
    STAFF_PIN,
    demo_app,
    idb_count,
    idb_meta,
    live_server,
    new_device,
    open_app,
    query,
    records,
    set_pin,
    sign_in,
    status,
    sync_now,
    wait_controlled,
    wait_pushed,
)
from conftest import login
from flask import Flask
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")

# Every value of every object store of every IndexedDB database of the origin, as text
# (binary values as Latin-1, so a plain-text copy inside them would show).
DUMP_ALL_STORES = """async () => {
  const text = (value) => JSON.stringify(value, (k, v) => {
    if (v instanceof Uint8Array) return String.fromCharCode(...v);
    if (v instanceof ArrayBuffer) return String.fromCharCode(...new Uint8Array(v));
    if (typeof CryptoKey !== 'undefined' && v instanceof CryptoKey) return '[CryptoKey]';
    return v;
  });
  const out = [];
  for (const { name } of await indexedDB.databases()) {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    for (const store of db.objectStoreNames) {
      const rows = await new Promise((resolve) => {
        const request = db.transaction(store).objectStore(store).getAll();
        request.onsuccess = () => resolve(request.result);
      });
      out.push(`${name}/${store}: ${text(rows)}`);
    }
    db.close();
  }
  return out.join('\\n');
}"""

LOCKED = "Doorstep is locked"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    app = demo_app(tmp_path_factory.mktemp("pwa-lock"))
    with live_server(app) as base:
        yield app, base


def team_id(app: Flask, name: str) -> str:
    return str(query(app, "SELECT id FROM teams WHERE name = ?", name)[0]["id"])


def identifying_texts(app: Flask, team: str) -> set[str]:
    """Names, NHS numbers, addresses, access notes and visit notes of a team's patients."""
    patients = records(app, "patient", team_id=team_id(app, team))
    found = set()
    for p in patients:
        for field in ("given_name", "family_name", "nhs_number", "address", "access_notes",
                      "postcode", "phone"):
            if p.get(field):
                found.add(str(p[field]))
    for p in patients:
        for visit in records(app, "visit", patient_id=p["id"]):
            if visit.get("notes"):
                found.add(visit["notes"])
    return found


def unlock(page: Page, pin: str = STAFF_PIN) -> None:
    page.get_by_label("PIN or passphrase").fill(pin)
    page.get_by_role("button", name="Unlock", exact=True).click()


def edit_goal_title(page: Page, base: str, goal_id: str, title: str,
                    pin: str = STAFF_PIN) -> None:
    open_app(page, f"{base}/goals/{goal_id}", pin)
    page.get_by_label("Goal", exact=True).fill(title)
    page.get_by_role("button", name="Save goal").click()
    expect(status(page)).to_contain_text(re.compile(r"1\s*change waiting"))


def a_goal(app: Flask, team: str) -> dict[str, Any]:
    tid = team_id(app, team)
    patients = {p["id"] for p in records(app, "patient", team_id=tid)}
    return sorted((g for g in records(app, "goal", status="active")
                   if g["patient_id"] in patients), key=lambda g: g["id"])[0]


def test_after_a_first_sync_no_store_holds_identifying_text(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    page = new_device(chromium).new_page()
    sign_in(page, base, "nurse.north1")
    assert idb_count(page, "records") > 20
    goal = a_goal(app, "North Locality")
    edit_goal_title(page, base, goal["id"], "Walk to the bus stop with Mrs Quenby")
    secrets = identifying_texts(app, "North Locality") | {"Walk to the bus stop with Mrs Quenby"}
    assert len(secrets) > 20
    dump = page.evaluate(DUMP_ALL_STORES)
    assert "records" in dump and "outbox" in dump
    leaked = sorted(s for s in secrets if len(s) >= 4 and s in dump)
    assert leaked == []


def test_reload_locks_and_the_right_pin_unlocks_offline(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    device = new_device(chromium)
    page = device.new_page()
    sign_in(page, base, "nurse.north1")
    wait_controlled(page)
    device.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name=LOCKED)).to_be_visible()
    expect(page.get_by_text("Unlock as Nina Patel.")).to_be_visible()
    patients = records(app, "patient", team_id=team_id(app, "North Locality"))
    expect(page.locator("body")).not_to_contain_text(patients[0]["family_name"])
    unlock(page, "000000")
    expect(page.get_by_role("alert")).to_contain_text("That PIN is not right. 4 tries left.")
    unlock(page)
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    expect(status(page)).to_contain_text("Offline")


def test_five_wrong_pins_need_a_sign_in_and_the_outbox_is_still_pushed(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    goal = a_goal(app, "North Locality")
    device = new_device(chromium)
    page = device.new_page()
    sign_in(page, base, "nurse.north2")
    wait_controlled(page)
    device.set_offline(True)
    edit_goal_title(page, base, goal["id"], "Walk round the park twice")
    page.reload()
    for left in ("4 tries", "3 tries", "2 tries", "1 try"):
        unlock(page, "111111")
        expect(page.get_by_role("alert")).to_contain_text(f"{left} left")
    unlock(page, "111111")
    expect(page.get_by_role("alert")).to_contain_text("5 wrong PINs: the PIN is switched off")
    expect(page.get_by_label("PIN or passphrase")).to_have_count(0)
    page.reload()  # reloading does not bring the PIN back
    expect(page.get_by_text("The PIN was switched off")).to_be_visible()
    assert idb_count(page, "outbox") == 1
    assert records(app, "goal", id=goal["id"])[0]["title"] != "Walk round the park twice"

    device.set_offline(False)
    page.get_by_label("Username").fill("nurse.north2")
    page.get_by_label("Password").fill("doorstep-demo")
    page.get_by_role("button", name="Sign in").click()
    set_pin(page, "739104")
    wait_pushed(page)
    assert records(app, "goal", id=goal["id"])[0]["title"] == "Walk round the park twice"


def test_a_revoked_device_cannot_unlock_online_even_with_the_right_pin(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    page = new_device(chromium).new_page()
    sign_in(page, base, "nurse.north3")
    client_id = idb_meta(page, "client_id")
    coordinator = login(app.test_client(), "coord.north", "doorstep-demo")
    assert coordinator.post(f"/api/v1/devices/{client_id}/revoke").status_code == 204
    assert query(app, "SELECT 1 FROM device_secrets WHERE client_id = ?", client_id) == []
    page.reload()
    unlock(page)
    expect(page.get_by_role("heading", name="This device was revoked")).to_be_visible()
    patients = records(app, "patient", team_id=team_id(app, "North Locality"))
    expect(page.locator("body")).not_to_contain_text(patients[0]["family_name"])
    assert page.evaluate(DUMP_ALL_STORES).count("_sealed") == 0  # the store was wiped


def test_offline_past_the_window_the_pin_alone_opens_nothing(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    app.config["DEVICE_OFFLINE_UNLOCK_HOURS"] = 2 / 3600  # two seconds, for this test
    try:
        device = new_device(chromium)
        page = device.new_page()
        sign_in(page, base, "coord.north")
        wait_controlled(page)
        client_id = idb_meta(page, "client_id")
        device.set_offline(True)  # stolen: it never comes online again
        coordinator = login(app.test_client(), "coord.north", "doorstep-demo")
        assert coordinator.post(f"/api/v1/devices/{client_id}/revoke").status_code == 204
        page.wait_for_timeout(2500)
        page.reload()
        expect(page.get_by_text("has not been online for a while")).to_be_visible()
        expect(page.get_by_role("heading", name="Sign in to Doorstep")).to_be_visible()
        dump = page.evaluate(DUMP_ALL_STORES)
        # Only the server-wrapped data key is left, and its secret is destroyed.
        assert '"cached":null' in dump
        secrets = identifying_texts(app, "North Locality")
        assert not [s for s in secrets if len(s) >= 4 and s in dump]
    finally:
        app.config["DEVICE_OFFLINE_UNLOCK_HOURS"] = 24.0


def test_two_staff_on_one_tablet_never_see_or_send_each_others_data(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    north_goal = a_goal(app, "North Locality")
    north_patient = records(app, "patient", id=north_goal["patient_id"])[0]
    device = new_device(chromium)
    page = device.new_page()
    sign_in(page, base, "nurse.north1", pin="111222")
    wait_controlled(page)
    device.set_offline(True)
    edit_goal_title(page, base, north_goal["id"], "Stand up from the chair ten times", "111222")
    page.reload()
    device.set_offline(False)
    # Someone else takes the tablet and signs in with their own password and PIN.
    sign_in(page, base, "nurse.south1", pin="333444")
    sync_now(page)
    open_app(page, f"{base}/caseload", pin="333444")
    expect(page.get_by_role("heading", name="Caseload")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(north_patient["family_name"])
    assert idb_count(page, "outbox") == 0
    assert records(app, "goal", id=north_goal["id"])[0]["title"] != \
        "Stand up from the chair ten times"
    # Back to the first: their own PIN opens their own store, and their change goes out.
    page.reload()
    page.get_by_role("button", name="Unlock as Nina Patel").click()
    expect(page.get_by_text("Unlock as Nina Patel.")).to_be_visible()
    unlock(page, "333444")
    expect(page.get_by_role("alert")).to_contain_text("not right")
    unlock(page, "111222")
    wait_pushed(page)
    assert records(app, "goal", id=north_goal["id"])[0]["title"] == \
        "Stand up from the chair ten times"


def test_locks_after_the_idle_time(chromium: Browser, server: tuple[Flask, str]) -> None:
    app, base = server
    app.config["STAFF_IDLE_LOCK_MINUTES"] = 3 / 60  # three seconds, for this test
    try:
        page = new_device(chromium).new_page()
        sign_in(page, base, "coord.south")
        page.reload()
        unlock(page)  # the policy comes with the secret at unlock
        expect(status(page)).to_be_visible()
        expect(page.get_by_role("heading", name=LOCKED)).to_be_visible(timeout=15_000)
    finally:
        app.config["STAFF_IDLE_LOCK_MINUTES"] = 5.0


def test_locks_when_hidden_longer_than_the_hidden_limit(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    app.config["HIDDEN_LOCK_SECONDS"] = 1.0
    try:
        page = new_device(chromium).new_page()
        sign_in(page, base, "nurse.south2")
        page.reload()
        unlock(page)
        expect(status(page)).to_be_visible()
        set_visibility = """(state) => {
          Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
          document.dispatchEvent(new Event('visibilitychange'));
        }"""
        page.evaluate(set_visibility, "hidden")  # the tablet goes to sleep
        page.wait_for_timeout(1500)
        page.evaluate(set_visibility, "visible")
        expect(page.get_by_role("heading", name=LOCKED)).to_be_visible()
    finally:
        app.config["HIDDEN_LOCK_SECONDS"] = 60.0


def test_a_patient_has_no_pin_unless_they_choose_one_with_large_keys(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    _, base = server
    page = new_device(chromium).new_page()
    sign_in(page, base, "patient1")
    page.reload()
    expect(page.get_by_role("heading", name="My goals")).to_be_visible()  # no lock, no PIN
    open_app(page, f"{base}/account")
    page.get_by_role("button", name="Lock with a PIN").click()
    keypad = page.get_by_role("group", name="Keypad for New PIN")
    box = keypad.get_by_role("button", name="7").bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    for key in "271828":
        keypad.get_by_role("button", name=key, exact=True).click()
    page.get_by_label("Repeat the PIN", exact=True).fill("271828")
    page.get_by_role("button", name="Save PIN").click()
    expect(page.get_by_role("status").filter(has_text="Your new PIN is saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name=LOCKED)).to_be_visible()
    keypad = page.get_by_role("group", name="Keypad for PIN")
    for key in "271828":
        keypad.get_by_role("button", name=key, exact=True).click()
    page.get_by_role("button", name="Unlock", exact=True).click()
    expect(page.get_by_role("heading", name="Account")).to_be_visible()

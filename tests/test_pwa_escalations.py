"""End to end: a carer's fall report (with injury) becomes an emergency escalation on
the co-ordinator's screen, at the address its push notification opens; a push message
delivered to the service worker shows a notification; a reminder's push address opens
the patient's goals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from browser import (
    PHONE,
    answer,
    demo_app,
    live_server,
    new_device,
    open_app,
    poll,
    query,
    records,
    sign_in,
    sync_now,
    wait_controlled,
)
from flask import Flask
from playwright.sync_api import Browser, expect

from server.notifications.escalation_notices import payload_for
from server.notifications.reminders import Occurrence, Reminder, reminder_payload

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="Chromium is not installed (make browser)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    app = demo_app(tmp_path_factory.mktemp("pwa-escalations"))
    with live_server(app) as base:
        yield app, base


def test_a_carers_fall_report_with_injury_reaches_the_coordinators_screen(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    patient_id = query(app, "SELECT patient_id FROM users WHERE username = ?",
                       "patient1")[0]["patient_id"]
    patient = records(app, "patient", id=patient_id)[0]
    name = f"{patient['given_name']} {patient['family_name']}"
    coordinator = new_device(chromium)
    desk = coordinator.new_page()
    sign_in(desk, base, "coord.north")  # patient1 is on the first nurse's team (demo)
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Escalations").click()
    expect(desk.get_by_role("heading", name="Escalations", exact=True)).to_be_visible()
    reported = desk.get_by_role("listitem").filter(
        has=desk.get_by_role("heading", name="Fall reported")).filter(has_text=name)
    expect(reported).to_have_count(0)

    carer = new_device(chromium, PHONE)
    phone = carer.new_page()
    sign_in(phone, base, "carer1")
    phone.get_by_role("link", name="Report a fall").click()
    expect(phone.get_by_text("If you are hurt or cannot get up, call 999.")).to_be_visible()
    answer(phone, f"Was {patient['given_name']} hurt?", "Yes")
    # Asked without a double negative; "Yes" is stored as unable_to_get_up false.
    answer(phone, f"Could {patient['given_name']} get up on their own?", "Yes")
    phone.get_by_label("What happened? (optional)").fill("Slipped in the bathroom, cut to arm.")
    phone.get_by_role("button", name="Tell the care team").click()  # a carer's words
    expect(phone.get_by_text("Saved and being sent to the care team now.")).to_be_visible()
    sync_now(phone)

    [report] = records(app, "self_report", patient_id=patient_id, kind="fall")
    assert report["injured"] is True and report["unable_to_get_up"] is False
    [escalation] = records(app, "escalation", rule="fall_reported", source_id=report["id"])
    assert escalation["severity"] == "emergency" and escalation["status"] == "open"

    sync_now(desk)
    expect(reported).to_have_count(1)
    expect(reported).to_contain_text("Emergency")
    expect(reported.get_by_role("link", name=name)).to_have_attribute(
        "href", f"/patients/{patient_id}")

    # The escalation's push notification opens this address: it must show the escalation.
    open_app(desk, base + payload_for(escalation["id"], "emergency", ["opened"])["url"])
    expect(desk.get_by_role("heading", name="Fall reported")).to_be_visible()
    expect(desk.get_by_role("listitem").filter(has_text=name)).to_contain_text("Emergency")
    desk.get_by_role("button", name="Acknowledge").click()
    sync_now(desk)
    assert records(app, "escalation", id=escalation["id"])[0]["status"] == "acknowledged"
    coordinator.close()
    carer.close()


def test_a_reminders_push_address_opens_the_patients_goals(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    app, base = server
    patient_id = query(app, "SELECT patient_id FROM users WHERE username = ?",
                       "patient1")[0]["patient_id"]
    [record] = records(app, "reminder", patient_id=patient_id)
    reminder = Reminder.from_record(record["id"], record)
    today = datetime.now(reminder.zone)
    payload = reminder_payload(Occurrence(reminder, today.date(), today))
    device = new_device(chromium, PHONE)
    page = device.new_page()
    sign_in(page, base, "patient1")
    page.goto(base + payload["url"])
    expect(page.get_by_role("heading", name="My goals")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Done today"))).not_to_have_count(0)
    device.close()


def notifications(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate("""async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).map((n) => ({
        title: n.title, body: n.body, tag: n.tag, data: n.data,
        requireInteraction: n.requireInteraction }));
    }"""))


def test_a_push_message_runs_the_service_workers_handler(
    chromium: Browser, server: tuple[Flask, str]
) -> None:
    _, base = server
    device = new_device(chromium)
    device.grant_permissions(["notifications"], origin=base)
    page = device.new_page()
    page.goto(f"{base}/login")
    wait_controlled(page)
    cdp = device.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    ours = f"{base}/"
    for _ in range(50):  # the event arrives while Playwright talks to the browser
        if any(r["scopeURL"] == ours for r in registrations):
            break
        page.wait_for_timeout(100)
    registration = next(r for r in registrations if r["scopeURL"] == ours)
    assert notifications(page) == []

    payload = payload_for("e-123", "urgent", ["opened"])
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": base, "registrationId": registration["registrationId"],
        "data": json.dumps(payload)})
    poll(page, """async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).length > 0;
    }""", message="no notification was shown")
    [shown] = notifications(page)
    assert shown["title"] == payload["title"] and shown["body"] == payload["body"]
    assert shown["tag"] == "escalation:e-123" and shown["requireInteraction"] is True
    assert shown["data"] == {"url": payload["url"], "type": "escalation", "id": "e-123"}
    device.close()

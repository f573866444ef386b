"""Browser-test support: the real server on 127.0.0.1 in a thread, Debian's Chromium,
and the few steps every PWA test takes (sign in, wait for a sync, read the device's
IndexedDB, run axe-core).

Playwright cannot download browsers here, so tests launch /usr/bin/chromium with the
flags this machine needs (no background networking: the network is closed).

Waiting: helpers wait for visible UI state or for IndexedDB values, never for a fixed
time. Predicates for `wait_for_function` are written as functions: a bare expression is
evaluated with eval() in the page, which the app's CSP (rightly) refuses. A sync
pressed for is "done" when a run ended after the press, the outbox is empty and no run
is going (see `sync_now`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--lang=en-GB",
]
# Date and time inputs in British order, as users here see them (needs Debian's
# chromium-l10n for the en-GB locale; without it Chromium falls back to en-US).
CHROMIUM_ENV = {"LANG": "en_GB.UTF-8", "LANGUAGE": "en_GB"}
AXE = ROOT / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "doorstep-demo"  # server/services/demo.py
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 360, "height": 740}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log in test output
        pass


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on an ephemeral 127.0.0.1 port; stops when the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def launch_args() -> dict[str, Any]:
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True,
            "env": {**os.environ, **CHROMIUM_ENV}}


def pwa_built() -> bool:
    return (ROOT / "pwa" / "dist" / "index.html").is_file()


def demo_app(tmp_path: Path, patients: int = 6) -> Flask:
    """A fresh app on the real clock, seeded with ``doorstep demo`` data (small), with
    VAPID keys as `doorstep init` makes them (escalation notices are tried at once)."""
    from conftest import migrated_app, test_config

    from server.notifications import vapid
    from server.services import demo

    app = migrated_app(test_config(tmp_path))
    vapid.ensure_vapid_keys(app.config["INSTANCE"])
    with app.app_context():
        demo.seed(patients=patients)
    return app


def query(app: Flask, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows of a read-only SQL query against the server's database, as dicts."""
    import dbtools as db

    with app.app_context():
        cursor = db.get_db().execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def records(app: Flask, entity: str, **where: Any) -> list[dict[str, Any]]:
    """Live records of ``entity`` as {id, version, patient_id, **data}, filtered by data."""
    rows = query(app, "SELECT id, version, patient_id, data FROM records "
                      "WHERE entity = ? AND deleted = 0 ORDER BY id", entity)
    out = []
    for row in rows:
        data = json.loads(row["data"])
        item = {**data, "id": row["id"], "version": row["version"],
                "patient_id": row["patient_id"]}
        if all(item.get(k) == v for k, v in where.items()):
            out.append(item)
    return out


def write(app: Flask, entity: str, fields: dict[str, Any]) -> str:
    """Write a record as the server does (system actor, through the engine); its id."""
    from server import database
    from server.records.engine import write_as_system
    from sync.registry import SYSTEM

    with app.app_context(), database.write() as uow:
        return write_as_system(uow, SYSTEM, entity, fields)


def make_conflict(app: Flask, goal: dict[str, Any]) -> None:
    """nurse.north1's and nurse.north2's devices change one goal's title from the same
    version: an open conflict for the Conflicts screen."""
    from conftest import login

    for n, title in ((1, "Walk to the post box and back"), (2, "Walk to the corner shop")):
        device = login(app.test_client(), f"nurse.north{n}", DEMO_PASSWORD)
        response = device.post("/api/v1/sync/push", json={
            "client_id": device.client_id, "schema_version": 1,
            "mutations": [{"mutation_id": 1, "entity": "goal", "id": goal["id"], "op": "update",
                           "base_version": goal["version"], "fields": {"title": title}}]})
        assert response.status_code == 200, response.json


def user_id(app: Flask, username: str) -> str:
    return str(query(app, "SELECT id FROM users WHERE username = ?", username)[0]["id"])


def new_device(browser: Any, viewport: dict[str, int] | None = None, **kw: Any) -> Any:
    """A browser context = one device: its own IndexedDB, service worker and storage."""
    return browser.new_context(
        viewport=viewport or TABLET, locale="en-GB", timezone_id="Europe/London", **kw)


STAFF_PIN = "482915"  # the PIN every browser test's staff member chooses after signing in


def sign_in(page: Any, base: str, username: str, password: str = DEMO_PASSWORD,
            pin: str = STAFF_PIN, load: bool = True) -> None:
    """Sign in through the login screen, choose the PIN when asked (staff are, patients
    and carers are not) and wait until the first sync has finished. ``load=False`` signs
    in on the sign-in screen already shown, as a person would after being signed out."""
    if load:
        page.goto(f"{base}/login")
    locked = page.get_by_role("heading", name="Doorstep is locked")
    locked.or_(page.get_by_label("Username")).first.wait_for()
    if locked.is_visible():  # a shared tablet, locked for someone else
        page.get_by_role("button", name="Sign in with your password").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    pin_step = page.get_by_role("heading", name="Choose a PIN for this device")
    pin_step.or_(status(page)).first.wait_for()
    if pin_step.is_visible():
        set_pin(page, pin)
    status(page).get_by_text(SYNCED_JUST_NOW).wait_for()
    wait_idle(page)


def set_pin(page: Any, pin: str = STAFF_PIN) -> None:
    """Fill in the "Choose a PIN" step and save it."""
    page.get_by_label("New PIN").fill(pin)
    page.get_by_label("Repeat the PIN").fill(pin)
    page.get_by_role("button", name="Save PIN").click()
    status(page).wait_for()


def unlock_if_locked(page: Any, pin: str = STAFF_PIN) -> None:
    """After a page load: the app opens locked for anyone with a PIN; unlock it."""
    locked = page.get_by_role("heading", name="Doorstep is locked")
    signed_out = page.get_by_role("heading", name="Sign in to Doorstep")
    locked.or_(status(page)).or_(signed_out).first.wait_for()
    if locked.is_visible():
        page.get_by_label("PIN or passphrase").fill(pin)
        page.get_by_role("button", name="Unlock", exact=True).click()
        status(page).wait_for()


def open_app(page: Any, url: str, pin: str = STAFF_PIN) -> None:
    """Load ``url`` in a signed-in device (a full page load) and unlock it."""
    page.goto(url)
    unlock_if_locked(page, pin)


def reload_app(page: Any, pin: str = STAFF_PIN) -> None:
    page.reload()
    unlock_if_locked(page, pin)


# The status bar in staff words and in patients' and carers' words (StatusBar.jsx).
STATUS_BAR = re.compile(r"^(Sync status|Connection)$")
SYNC_BUTTON = re.compile(r"^(Sync now|Update now)$")
SYNCED_JUST_NOW = re.compile(r"^(Last sync: |Updated )just now$")


def status(page: Any) -> Any:
    """The always-visible status bar."""
    return page.get_by_role("region", name=STATUS_BAR)


def wait_idle(page: Any) -> None:
    """Wait until no sync is running (the button reads "Sync now" and is enabled)."""
    button = status(page).get_by_role("button", name=SYNC_BUTTON)
    button.wait_for()
    page.wait_for_function("() => !document.querySelector('#sync-now').disabled")


def wait_controlled(page: Any) -> None:
    """Wait until the service worker controls the page (so the app shell is precached)."""
    page.wait_for_function(
        "() => Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)")


# The signed-in person's own database: the device directory names it (pwa/src/lib/db.js).
_STORE_NAME = """async () => {
  const dir = await new Promise((resolve, reject) => {
    const request = indexedDB.open('doorstep-device');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    return await new Promise((resolve, reject) => {
      const request = dir.transaction('settings').objectStore('settings').get('current');
      request.onsuccess = () => resolve(request.result ? request.result.value : null);
      request.onerror = () => reject(request.error);
    });
  } finally {
    dir.close();
  }
}"""

# The signed-in person's database, opened raw (no Dexie, no decryption).
_OPEN_STORE = f"""async () => {{
  const name = await ({_STORE_NAME})();
  return await new Promise((resolve, reject) => {{
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  }});
}}"""

_IDB = f"""async ([store, key]) => {{
  const db = await ({_OPEN_STORE})();
  try {{
    return await new Promise((resolve, reject) => {{
      const objects = db.transaction(store).objectStore(store);
      const request = key === null ? objects.count() : objects.get(key);
      request.onsuccess = () => resolve(request.result === undefined ? null : request.result);
      request.onerror = () => reject(request.error);
    }});
  }} finally {{
    db.close();
  }}
}}"""


_PUT_CLEAR_META = f"""async ([key, value]) => {{
  const db = await ({_OPEN_STORE})();
  try {{
    await new Promise((resolve, reject) => {{
      const tx = db.transaction('meta', 'readwrite');
      tx.objectStore('meta').put({{ key, value }});
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    }});
  }} finally {{
    db.close();
  }}
}}"""


def idb_set_clear_meta(page: Any, key: str, value: Any) -> None:
    """Write a meta value the sealed store keeps readable (CLEAR_META in crypto-store.js),
    as another tab or an expired clock would leave it."""
    page.evaluate(_PUT_CLEAR_META, [key, value])


def idb_meta(page: Any, key: str) -> Any:
    row = page.evaluate(_IDB, ["meta", key])
    return row["value"] if row else None


def idb_count(page: Any, store: str) -> int:
    return int(page.evaluate(_IDB, [store, None]))


def poll(page: Any, predicate: str, arg: Any = None, timeout: float = 15.0,
         message: str = "") -> None:
    """Evaluate an (async) predicate every 100 ms until it is truthy.

    `page.wait_for_function` does not await a predicate's promise (a promise is truthy),
    so predicates that read IndexedDB are polled from here.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate, arg):
        if time.monotonic() > deadline:
            raise AssertionError(message or f"timed out waiting for {predicate}")
        page.wait_for_timeout(100)


_PUSHED_AND_IDLE = f"""async (pressedAt) => {{
  const read = {_IDB};
  const last = await read(['meta', 'last_sync_at']);
  return (pressedAt === null || (Boolean(last) && last.value > pressedAt))
    && (await read(['outbox', null])) === 0
    && !document.querySelector('#sync-now').disabled;
}}"""


def sync_now(page: Any) -> None:
    """Press "Sync now" and wait until everything waiting has been pushed and a run that
    ended after the press has pulled.

    Runs may already be going (start-up, 1.5 s after an edit); the press then only asks
    for one more. So: some run ended after the press (`last_sync_at`), the outbox is
    empty and no run is going (the button is enabled again).
    """
    wait_idle(page)
    pressed_at = page.evaluate("() => new Date().toISOString()")
    status(page).get_by_role("button", name=SYNC_BUTTON).click()
    poll(page, _PUSHED_AND_IDLE, pressed_at, message="sync did not finish with an empty outbox")


def wait_pushed(page: Any) -> None:
    """Wait until the outbox is empty and no sync is running (whether or not it pulled)."""
    poll(page, _PUSHED_AND_IDLE, None, message="changes still waiting to be pushed")


def answer(page: Any, question: str, choice: str) -> None:
    """Pick "Yes" or "No" in the yes/no question (a radio group) named ``question``."""
    page.get_by_role("group", name=question).get_by_label(choice, exact=True).check()


def answer_falls_history(page: Any, falls: int) -> None:
    """Fill the falls assessment's history: ``falls`` falls, one with injury, unsteady and
    worried (with 1 fall that is intermediate or high by gait; with 2, high)."""
    page.get_by_label("Falls in the last 12 months").fill(str(falls))
    answer(page, "Injured in a fall?", "Yes")
    answer(page, "Unable to get up after a fall without help?", "No")
    answer(page, "Lost consciousness or suspected blackout with a fall?", "No")
    answer(page, "Feels unsteady when standing or walking?", "Yes")
    answer(page, "Worried about falling?", "Yes")


def go(page: Any, path: str) -> None:
    """Navigate inside the app without reloading it (the router listens to clicks)."""
    page.evaluate("""(path) => {
      const a = document.createElement('a');
      a.href = path;
      document.body.appendChild(a);
      a.click();
      a.remove();
    }""", path)


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of the given impacts on the page as it is now, readable."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Not add_script_tag: that injects an inline <script>, which the app's CSP refuses.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in result["violations"] if v["impact"] in impacts
    ]

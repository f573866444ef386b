"""A first sync in the browser: a co-ordinator's first download of about 4,000 and
10,000 records, and opening the Caseload screen after it, with the PWA built with
encryption on (the release) and off (a bench-only build), in Debian's Chromium against
the real server on 127.0.0.1.

    .venv/bin/python bench/browser_first_sync.py                  # 4,000 and 10,000 records
    .venv/bin/python bench/browser_first_sync.py --records 4000 --runs 5

The two builds go to /tmp (``npm run build`` with DOORSTEP_ENCRYPTION=on/off; the switch
only exists for this benchmark, see pwa/src/lib/crypto-store.js). Each size is a fresh
``doorstep demo`` database with enough patients for the co-ordinator (coord.north) to see
about that many records (RECORDS_PER_PATIENT). Each run is a fresh browser context (an
empty IndexedDB): sign in, choose the PIN when asked (both builds ask: the key handling
is the same, only sealing differs), and time from pressing "Sign in" until the pull has
stored its last page (``meta.last_sync_at``). Then the app is reloaded and unlocked (a
cold start) and the Caseload opened and timed until its list shows. Runs alternate
between the builds.
Goals: first sync at most 20 % slower with encryption on; at most 2 s (issue 13).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import (  # noqa: E402
    DEMO_PASSWORD,
    demo_app,
    go,
    idb_count,
    idb_meta,
    launch_args,
    live_server,
    new_device,
    reload_app,
    set_pin,
)
from playwright.sync_api import sync_playwright  # noqa: E402

BUILDS = {"on": Path("/tmp/doorstep-bench-dist-on"), "off": Path("/tmp/doorstep-bench-dist-off")}
USER = "coord.north"
# Records coord.north downloads per demo patient (4,108 records at 250 patients).
RECORDS_PER_PATIENT = 16.4


def build(mode: str, out: Path) -> None:
    env = {**os.environ, "DOORSTEP_ENCRYPTION": mode}
    subprocess.run(["npx", "vite", "build", "--outDir", str(out), "--emptyOutDir"],
                   cwd=ROOT / "pwa", env=env, check=True, capture_output=True)


def first_sync(browser: object, base: str) -> tuple[float, float, int]:
    """(seconds to first sync, seconds to open the Caseload, records stored)."""
    context = new_device(browser)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(USER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    started = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Choose a PIN for this device").wait_for()
    set_pin(page)
    while not idb_meta(page, "last_sync_at"):
        page.wait_for_timeout(20)
    synced = time.perf_counter() - started
    records = idb_count(page, "records")
    reload_app(page)  # a cold start: nothing opened in memory yet
    opened = time.perf_counter()
    go(page, "/caseload")
    page.locator('main a[href^="/patients/"]').first.wait_for()
    caseload = time.perf_counter() - opened
    context.close()
    return synced, caseload, records


def measure(records: int, runs: int, launch: dict[str, object]) -> dict[str, tuple[float, float]]:
    """Median (first sync s, caseload open s) per build on a demo of about ``records``."""
    patients = max(10, round(records / RECORDS_PER_PATIENT))
    started = time.perf_counter()
    app = demo_app(Path(tempfile.mkdtemp(prefix="doorstep-bench-")), patients=patients)
    print(f"about {records:,} records: demo of {patients} patients made in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    results: dict[str, list[tuple[float, float, int]]] = {mode: [] for mode in BUILDS}
    with live_server(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch)
        for _ in range(runs):
            for mode, out in BUILDS.items():
                app.config["PWA_DIST"] = str(out)
                results[mode].append(first_sync(browser, base))
                print(f"  encryption {mode}: first sync {results[mode][-1][0]:.2f} s, "
                      f"caseload {results[mode][-1][1] * 1000:.0f} ms", flush=True)
        browser.close()
    medians = {}
    for mode, done in results.items():
        sync_s = statistics.median(r[0] for r in done)
        open_s = statistics.median(r[1] for r in done)
        medians[mode] = (sync_s, open_s)
        print(f"encryption {mode}: {done[0][2]:,} records; first sync median {sync_s:.2f} s "
              f"({', '.join(f'{r[0]:.2f}' for r in done)}); caseload open median "
              f"{open_s * 1000:.0f} ms ({', '.join(f'{r[1] * 1000:.0f}' for r in done)})")
    cost = medians["on"][0] / medians["off"][0] - 1
    print(f"first sync with encryption: {cost:+.0%} (goal: at most +20 %) — "
          f"{'meets' if cost <= 0.20 else 'misses'}; at most 2 s — "
          f"{'meets' if medians['on'][0] <= 2 else 'misses'}; caseload open "
          f"{medians['on'][1] / medians['off'][1] - 1:+.0%}", flush=True)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--records", default="4000,10000",
                        help="about how many records the co-ordinator downloads, comma-separated")
    args = parser.parse_args()
    for mode, out in BUILDS.items():
        print(f"building the PWA with encryption {mode} …", flush=True)
        build(mode, out)
    table = {int(n): measure(int(n), args.runs, launch_args())
             for n in args.records.replace("_", "").split(",")}
    print("\n| records (about) | first sync, encryption on | off | caseload open, on | off |")
    print("| --- | --- | --- | --- | --- |")
    for records, medians in table.items():
        print(f"| {records:,} | {medians['on'][0]:.2f} s | {medians['off'][0]:.2f} s "
              f"| {medians['on'][1] * 1000:.0f} ms | {medians['off'][1] * 1000:.0f} ms |")
    print(f"machine: {os.cpu_count()} CPU, {platform.platform()}, "
          f"Python {platform.python_version()}")


if __name__ == "__main__":
    main()

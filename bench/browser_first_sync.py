"""A first sync in the browser (issue 13): a nurse's first download of about 4,000 and
10,000 records, and opening the Caseload screen after it, with the PWA built with
encryption on (the release) and off (a bench-only build), in Debian's Chromium against
the production server (``doorstep serve``: granian) on 127.0.0.1.

    .venv/bin/python bench/browser_first_sync.py                  # 4,000 and 10,000 records
    .venv/bin/python bench/browser_first_sync.py --records 4000 --runs 5
    .venv/bin/python bench/browser_first_sync.py --role coordinator
    .venv/bin/python bench/browser_first_sync.py --also before=/tmp/dist-of-an-older-commit

The two builds go to /tmp (``npx vite build`` with DOORSTEP_ENCRYPTION=on/off; the switch
only exists for this benchmark, see pwa/src/lib/crypto-store.js); ``--also label=dir``
adds a PWA built elsewhere (an older commit, for before/after). Each size is a fresh
instance (``doorstep init``, ``doorstep demo --patients N``) with enough patients for the
user (nurse.north1, or coord.north: the same team, the same records) to download about
that many records (RECORDS_PER_PATIENT). Each build is served by its own ``doorstep
serve --workers 2`` on that instance (the PWA's directory is per process). Each run is a
fresh browser context (an empty IndexedDB): sign in, choose the PIN when asked (every
build asks: the key handling is the same, only sealing differs), and time from pressing
"Sign in" until the pull has stored its last page (``meta.last_sync_at``). The server's
part is the sum over pull pages of request sent → first response byte (Chromium's
resource timing). Then the app is reloaded and unlocked (a cold start) and the Caseload
opened and timed until its list shows. Runs alternate between the builds.
Goals: first sync at most 20 % slower with encryption on; at most 2 s (issue 13).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from browser import (  # noqa: E402
    DEMO_PASSWORD,
    go,
    idb_count,
    idb_meta,
    launch_args,
    new_device,
    reload_app,
    set_pin,
)
from http_common import free_port, running  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

BUILDS = {"on": Path("/tmp/doorstep-bench-dist-on"), "off": Path("/tmp/doorstep-bench-dist-off")}
USERS = {"nurse": "nurse.north1", "coordinator": "coord.north"}
# Records nurse.north1 (and coord.north) download per demo patient (4,400 at 250).
RECORDS_PER_PATIENT = 17.6
DOORSTEP = [sys.executable, "-c", "from server.cli import main; main()"]


def build(mode: str, out: Path) -> None:
    env = {**os.environ, "DOORSTEP_ENCRYPTION": mode}
    subprocess.run(["npx", "vite", "build", "--outDir", str(out), "--emptyOutDir"],
                   cwd=ROOT / "pwa", env=env, check=True, capture_output=True)


def instance_env(instance: Path, dist: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DOORSTEP_INSTANCE": str(instance),
           # Sign-in cost is not what is timed here: cheap password hashing.
           "DOORSTEP_PASSWORD_HASH_MEMORY_KIB": "256", "DOORSTEP_PASSWORD_HASH_TIME_COST": "1"}
    if dist:
        env["DOORSTEP_PWA_DIST"] = str(dist)
    return env


def demo_instance(workdir: Path, patients: int) -> Path:
    instance = workdir / "doorstep"
    env = instance_env(instance)
    for command in (["init"], ["demo", "--patients", str(patients)]):
        subprocess.run([*DOORSTEP, *command], env=env, check=True, capture_output=True, cwd=ROOT)
    return instance


@contextlib.contextmanager
def servers(instance: Path, dists: dict[str, Path], workdir: Path) -> Iterator[dict[str, str]]:
    """One ``doorstep serve`` per build on the same instance: {build: base URL}."""
    with contextlib.ExitStack() as stack:
        bases = {}
        for label, dist in dists.items():
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            stack.enter_context(running([*DOORSTEP, "serve", "--port", str(port), "--workers", "2"],
                                        instance_env(instance, dist), f"{base}/login",
                                        workdir / f"serve-{label}.log"))
            bases[label] = base
        yield bases


def first_sync(browser: Any, base: str, user: str) -> dict[str, float]:
    """Seconds to first sync, server seconds in its pull pages, seconds to open the
    Caseload, records stored, pages."""
    context = new_device(browser)
    page = context.new_page()
    pulls: list[float] = []
    page.on("requestfinished", lambda request: pulls.append(
        request.timing["responseStart"] - request.timing["requestStart"])
        if "/api/v1/sync/pull" in request.url else None)
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    started = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Choose a PIN for this device").wait_for()
    set_pin(page)
    while not idb_meta(page, "last_sync_at"):
        page.wait_for_timeout(20)
    synced = time.perf_counter() - started
    server = sum(pulls) / 1000  # this download's pages only (a later run's pull is not counted)
    pages = len(pulls)
    records = idb_count(page, "records")
    reload_app(page)  # a cold start: nothing opened in memory yet
    opened = time.perf_counter()
    go(page, "/caseload")
    page.locator('main a[href^="/patients/"]').first.wait_for()
    caseload = time.perf_counter() - opened
    context.close()
    return {"sync": synced, "server": server, "caseload": caseload, "records": records,
            "pages": pages}


def measure(records: int, runs: int, user: str, dists: dict[str, Path]
            ) -> dict[str, dict[str, float]]:
    """Medians per build on a demo of about ``records``."""
    patients = max(10, round(records / RECORDS_PER_PATIENT))
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-bench-"))
    started = time.perf_counter()
    instance = demo_instance(workdir, patients)
    print(f"about {records:,} records: demo of {patients} patients made in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    results: dict[str, list[dict[str, float]]] = {label: [] for label in dists}
    with servers(instance, dists, workdir) as bases, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_args())
        for _ in range(runs):
            for label in dists:
                done = first_sync(browser, bases[label], user)
                results[label].append(done)
                print(f"  {label}: first sync {done['sync']:.2f} s (server {done['server']:.2f} s "
                      f"in {done['pages']:.0f} pages), caseload {done['caseload'] * 1000:.0f} ms",
                      flush=True)
        browser.close()
    medians = {}
    for label, done in results.items():
        medians[label] = {key: statistics.median(r[key] for r in done) for key in done[0]}
        syncs = ", ".join(f"{r['sync']:.2f}" for r in done)
        opens = ", ".join(f"{r['caseload'] * 1000:.0f}" for r in done)
        print(f"{label}: {done[0]['records']:,} records; first sync median "
              f"{medians[label]['sync']:.2f} s ({syncs}); server {medians[label]['server']:.2f} s; "
              f"caseload open median {medians[label]['caseload'] * 1000:.0f} ms ({opens})")
    cost = medians["on"]["sync"] / medians["off"]["sync"] - 1
    print(f"first sync with encryption: {cost:+.0%} (goal: at most +20 %) — "
          f"{'meets' if cost <= 0.20 else 'misses'}; at most 2 s — "
          f"{'meets' if medians['on']['sync'] <= 2 else 'misses'}", flush=True)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--records", default="4000,10000",
                        help="about how many records the user downloads, comma-separated")
    parser.add_argument("--role", choices=sorted(USERS), default="nurse")
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=DIR",
                        help="also measure a PWA built elsewhere (e.g. an older commit)")
    args = parser.parse_args()
    dists = dict(BUILDS)
    for mode, out in BUILDS.items():
        print(f"building the PWA with encryption {mode} …", flush=True)
        build(mode, out)
    for extra in args.also:
        label, _, path = extra.partition("=")
        dists[label] = Path(path)
    table = {int(n): measure(int(n), args.runs, USERS[args.role], dists)
             for n in args.records.replace("_", "").split(",")}
    print(f"\n{args.role} ({USERS[args.role]}), median of {args.runs} runs")
    print("| records | PWA | first sync | of it server (pull pages) | caseload open (cold) |")
    print("| --- | --- | --- | --- | --- |")
    for medians in table.values():
        for label, m in medians.items():
            print(f"| {m['records']:,.0f} | {label} | {m['sync']:.2f} s | {m['server']:.2f} s "
                  f"| {m['caseload'] * 1000:.0f} ms |")
    print(f"machine: {os.cpu_count()} CPU, {platform.platform()}, "
          f"Python {platform.python_version()}")


if __name__ == "__main__":
    main()

"""What bench/http_bench.py and bench/http_kinto.py share: the servers' processes and
their CPU, the records both servers are given, and timing a row with concurrent devices."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
DEVICES = 20
SNAPSHOT_DEVICES = 2
BATCH = 25
CHANGED = 100
SNAPSHOT = 10_000
PAGE = 500
TEAM = 100  # patients per team
PASSWORD = "bench-password-1"


# -- processes ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited early; its log:\n{log.read_text()[-3000:]}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"server did not answer at {url}; its log:\n{log.read_text()[-3000:]}")


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU of a server process and all its children (the HTTP server's workers)."""
    total = 0.0
    for proc in (process, *process.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


class HostSteal:
    """The share of the machine's CPU time the hypervisor gave to other guests while the
    block ran (``steal`` in /proc/stat, from psutil; 0 on bare metal).

    The CPU a request costs here moves by 2–3× within an hour, for both servers alike, on
    a shared virtual machine. Steal is the part of the host's load a guest can see; it
    stayed under 2 % in some of those slow hours (docs/benchmarks.md), so a high figure
    explains a slow run and a low one explains nothing."""

    def __init__(self) -> None:
        self._start = psutil.cpu_times()
        self.share = 0.0

    def stop(self) -> None:
        end = psutil.cpu_times()
        total = sum(end) - sum(self._start)
        self.share = (end.steal - self._start.steal) / total if total > 0 else 0.0


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], url: str, log: Path
            ) -> Iterator[psutil.Process]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=ROOT)
    try:
        wait_until_up(url, process, log)
        yield psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_NHS = iter(range(1, 10**6))


def nhs_number() -> str:
    """A Modulus-11-valid NHS test number (999 range), different on every call."""
    while True:
        first = f"999{next(_NHS):06d}"
        total = sum(int(d) * (10 - i) for i, d in enumerate(first))
        digit = 11 - total % 11
        if digit == 11:
            digit = 0
        if digit != 10:
            return f"{first}{digit}"


def patient(team_id: str) -> dict[str, Any]:
    return {"nhs_number": nhs_number(), "given_name": "Edith", "family_name": "Crawley",
            "date_of_birth": "1941-03-02", "sex": "female", "address": "4 Mill Lane, Testtown",
            "postcode": "TE1 4ST", "phone": "01632 960123", "team_id": team_id,
            "gp_practice": "Testtown Surgery", "named_gp": "Dr Okafor",
            "complexity_tier": "moderate", "risk_profiling_opt_out": False,
            "sharing_objection": False, "access_notes": "Key safe 1234; dog"}


def visit(patient_id: str) -> dict[str, Any]:
    """A visit done within the hour: the late-sync rule raises nothing for it."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return {"patient_id": patient_id, "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(minutes=30)).isoformat(),
            "visit_type": "wound_care",
            "status": "completed", "notes": "Dressing changed, healing well.",
            "interventions": ["dressing"]}


# -- measuring --------------------------------------------------------------------------

D = TypeVar("D")  # a device, of either server


@dataclass
class Row:
    name: str = ""
    latencies: list[float] = field(default_factory=list)  # seconds per request
    cpu: float = 0.0  # server CPU seconds
    pg_cpu: float = 0.0  # CPU seconds of the server's PostgreSQL backends (0 on SQLite)
    pg_background: float = 0.0  # PostgreSQL's own processes meanwhile (not counted)
    ops: int = 0  # operations (records pushed, polls, pulls, snapshots)


@dataclass
class Meter:
    """Whose CPU a phase costs: the server's processes and, on PostgreSQL, the backends
    serving its database (``pg``: CPU seconds so far of those, and of the cluster's
    background processes); ``watch(row name)`` wraps a phase (pg_stat_statements)."""

    process: psutil.Process
    pg: Callable[[], tuple[float, float]] | None = None
    watch: Callable[[str], contextlib.AbstractContextManager[None]] | None = None

    @contextlib.contextmanager
    def phase(self, row: Row) -> Iterator[None]:
        with self.watch(row.name) if self.watch else contextlib.nullcontext():
            before = cpu_seconds(self.process)
            pg_before = self.pg() if self.pg else (0.0, 0.0)
            yield
            row.cpu += cpu_seconds(self.process) - before
            if self.pg:
                backends, background = self.pg()
                row.pg_cpu += backends - pg_before[0]
                row.pg_background += background - pg_before[1]


def measure(row: Row, meter: Meter, devices: Sequence[D],
            task: Callable[[D], int]) -> None:
    """Run ``task`` for every device at once (one thread each), timing each call; the
    task returns how many operations it did."""
    lock = threading.Lock()

    def timed(device: D) -> int:
        started = time.perf_counter()
        ops = task(device)
        took = time.perf_counter() - started
        with lock:
            row.latencies.append(took)
        return ops

    with meter.phase(row), ThreadPoolExecutor(len(devices)) as pool:
        row.ops += sum(pool.map(timed, devices))



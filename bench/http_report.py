"""The table bench/http_bench.py prints per size: latency and server CPU per operation,
Doorstep beside Kinto, against issue 13's goals."""

from __future__ import annotations

import statistics

from http_common import Row

ROWS = ("push", "empty poll", "incremental pull", "snapshot pull")
# Issue 13's goals for Doorstep's server CPU per operation, ms.
GOALS = {"push": 0.6, "empty poll": 1.0, "incremental pull": 3.0, "snapshot pull": 100.0}
UNITS = {"push": "record", "empty poll": "request", "incremental pull": "pull of 100",
         "snapshot pull": "snapshot of 10,000"}


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def summary(row: Row) -> tuple[float, float, float]:
    ordered = sorted(row.latencies)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95, row.cpu / max(row.ops, 1)


def report(patients: int, doorstep: dict[str, Row], kinto: dict[str, Row],
           kinto_label: str, postgres: bool) -> None:
    """The table; on PostgreSQL each CPU cell is "server + its PostgreSQL backends", and
    the ratio and the goal compare the sums (on SQLite the database works inside the
    server's processes, so the sum is the like-for-like figure)."""
    print(f"\n{patients:,} patients in the database")
    plus = " + PG" if postgres else ""
    print(f"| work | Doorstep median / p95 ms | Doorstep{plus} CPU ms per op | {kinto_label} "
          f"median / p95 ms | {kinto_label}{plus} CPU ms per op | CPU ratio (Kinto ÷ Doorstep)"
          " | goal |")
    print("| --- | --- | --- | --- | --- | --- | --- |")

    def cpu(row: Row) -> tuple[str, float]:
        own, pg = row.cpu / max(row.ops, 1), row.pg_cpu / max(row.ops, 1)
        return (f"{ms(own)} + {ms(pg)}" if postgres else ms(own)), own + pg

    for name in ROWS:
        (d_med, d_p95, _), (d_text, d_cpu) = summary(doorstep[name]), cpu(doorstep[name])
        (k_med, k_p95, _), (k_text, k_cpu) = summary(kinto[name]), cpu(kinto[name])
        goal = GOALS[name] / 1000
        print(f"| {name} (CPU per {UNITS[name]}) | {ms(d_med)} / {ms(d_p95)} | {d_text} "
              f"| {ms(k_med)} / {ms(k_p95)} | {k_text} | {k_cpu / d_cpu:.2f} "
              f"| ≤ {ms(goal)}: {'meets' if d_cpu <= goal else 'misses'} |", flush=True)
    if postgres:
        print("PostgreSQL's background processes and other databases' clients during the "
              "phases (not counted above), s: Doorstep's phases "
              + ", ".join(f"{n} {doorstep[n].pg_background:.2f}" for n in ROWS)
              + "; Kinto's " + ", ".join(f"{n} {kinto[n].pg_background:.2f}" for n in ROWS))

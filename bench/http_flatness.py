"""Does a Doorstep request cost the same with 16,000 patients in the database as with 120
(issue 13: the empty poll and the incremental pull within ±20 %)? Both sizes at once,
rounds alternating between them, so both see the same machine load.

bench/http_bench.py measures the sizes one after another, minutes apart; on a shared
machine whose speed drifts by ±30 % within minutes, its 120 and 16,000 rows can differ
by more than the size does. Here two ``doorstep serve --workers 2`` run side by side on
fresh instances seeded as http_bench.py seeds them (one with each size); each round runs
http_bench.py's rows on one and then on the other (``doorstep_round``: push, empty poll,
incremental pull, snapshot), first the small one in odd rounds and the large one in even
ones. Prints server CPU per operation for each size and the ratio large ÷ small.

    .venv/bin/python bench/http_flatness.py                  # 120 and 16,000 patients, 6 rounds
    .venv/bin/python bench/http_flatness.py --sizes 120,2000 --rounds 4
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
from pathlib import Path

from http_bench import doorstep_round, doorstep_server, seed_doorstep
from http_common import HostSteal, Meter, Row
from http_report import GOALS, ROWS, UNITS, ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="120,16000", help="two patient counts")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--pushes", type=int, default=1, help="push batches per device/round")
    parser.add_argument("--polls", type=int, default=5, help="empty polls per device/round")
    args = parser.parse_args()
    small, large = (int(s.replace("_", "")) for s in args.sizes.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-flatness-"))
    try:
        with contextlib.ExitStack() as stack:
            for size in (small, large):
                (workdir / str(size)).mkdir()
            servers = {size: stack.enter_context(doorstep_server(workdir / str(size), None))
                       for size in (small, large)}
            worlds = {size: seed_doorstep(base, size) for size, (base, _) in servers.items()}
            meters = {size: Meter(proc) for size, (_, proc) in servers.items()}
            rows = {size: {name: Row(name) for name in ROWS} for size in servers}
            steal = HostSteal()
            for n in range(args.rounds):
                for size in (small, large) if n % 2 == 0 else (large, small):
                    doorstep_round(worlds[size], meters[size], rows[size], args.pushes,
                                   args.polls)
                print(f"  round {n + 1}/{args.rounds} done", flush=True)
            steal.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nServer CPU ms per operation, {small:,} and {large:,} patients, "
          f"{args.rounds} interleaved rounds; host steal {steal.share:.1%} of the CPU time")
    print(f"| work | {small:,} patients | {large:,} patients | {large:,} ÷ {small:,} | goal |")
    print("| --- | --- | --- | --- | --- |")
    for name in ROWS:
        per_op = {size: rows[size][name].cpu / max(rows[size][name].ops, 1)
                  for size in (small, large)}
        print(f"| {name} (per {UNITS[name]}) | {ms(per_op[small])} | {ms(per_op[large])} | "
              f"{per_op[large] / per_op[small]:.2f} | ≤ {GOALS[name]:g} ms |")


if __name__ == "__main__":
    main()

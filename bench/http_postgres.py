"""PostgreSQL for bench/http_bench.py --postgres: one throwaway cluster for the run, a
database per server and size, and whose CPU each backend process spends.

The cluster is tests/postgres_cluster.py's (initdb and postgres as the ``postgres`` OS
user when we are root, a free 127.0.0.1 port, removed at exit), started ``durable``:
fsync, synchronous commit and full-page writes on (PostgreSQL's defaults, unlike the
test cluster), its data on disk rather than /dev/shm, so a commit costs what it costs
on a server. ``pg_stat_statements`` is preloaded to show which statements a row spends
its time in.

Both servers share the cluster, and phases run one server at a time; even so a
backend's CPU is attributed by the database it serves, which its process title names
("postgres: postgres doorstep_2000 127.0.0.1(40312) idle"), not by the phase alone: the
checkpointer, WAL writer, autovacuum and the benchmark's own connections (to the
``postgres`` database) are counted apart, as background, and not charged to a server.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import psutil
from http_common import ROOT, Meter

sys.path.insert(0, str(ROOT / "tests"))
from postgres_cluster import Cluster, throwaway_cluster  # noqa: E402

# PostgreSQL's default shared_buffers (the test cluster's 64 MB is for many clusters)
BENCH_SETTINGS = {"shared_buffers": "128MB",
                  "shared_preload_libraries": "pg_stat_statements",
                  "pg_stat_statements.max": "5000"}
ROWS_WATCHED = ("empty poll", "snapshot pull")
# "postgres: <user> <database> <host>(<port>) <state>": a client connection's title
_CLIENT = re.compile(r"^postgres: (\S+) (\S+) [0-9.]+\(\d+\)")


def _title(proc: psutil.Process) -> str:
    return " ".join(proc.cmdline())


@dataclass
class BenchCluster:
    cluster: Cluster
    postmaster: psutil.Process
    # (database, row) -> statement -> [calls, total ms]
    statements: dict[tuple[str, str], dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: [0.0, 0.0])))
    seen: dict[int, str] = field(default_factory=dict)  # backend pid -> database
    exited: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last: dict[int, float] = field(default_factory=dict)  # pid -> CPU seconds last seen
    totals: dict[str, float] = field(  # database ("" background) -> CPU seconds seen
        default_factory=lambda: defaultdict(float))

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.cluster.url()) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def database(self, name: str) -> str:
        """A new, empty database ``name``; its URL."""
        self.cluster.execute(f'CREATE DATABASE "{name}"')
        return self.cluster.url(name)

    def drop(self, name: str) -> None:
        self.cluster.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def cpu(self, database: str) -> tuple[float, float]:
        """CPU seconds so far of the client backends serving ``database``, and of the
        cluster's other processes (background workers, other databases' clients).
        Counted per process as the increase since the last call, so the totals only grow:
        a process that exited took only its CPU since then with it (a client backend that
        did is counted in ``exited``, so the report can say whether any was lost)."""
        alive: set[int] = set()
        for proc in (self.postmaster, *self.postmaster.children()):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                spent = times.user + times.system
                match = _CLIENT.match(_title(proc))
                if match:
                    self.seen.setdefault(proc.pid, match.group(2))
                owner = match.group(2) if match else ""
                self.totals[owner] += spent - self.last.get(proc.pid, 0.0)
                self.last[proc.pid] = spent
                alive.add(proc.pid)
        for pid in [p for p in self.last if p not in alive]:
            del self.last[pid]
            if pid in self.seen:
                self.exited[self.seen.pop(pid)] += 1
        return (self.totals[database],
                sum(v for k, v in self.totals.items() if k != database))

    def meter(self, process: psutil.Process, database: str) -> Meter:
        """What a phase of the server ``process`` on ``database`` costs."""
        return Meter(process, pg=lambda: self.cpu(database),
                     watch=lambda row: self.watch(database, row))

    @contextlib.contextmanager
    def watch(self, database: str, row: str) -> Iterator[None]:
        """For the rows in ROWS_WATCHED: the statements run on ``database`` during the
        phase (reset before, read after, added up over rounds)."""
        if row not in ROWS_WATCHED:
            yield
            return
        import psycopg

        with psycopg.connect(self.cluster.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
            yield
            found = conn.execute(
                "SELECT s.query, s.calls, s.total_exec_time FROM pg_stat_statements s"
                " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s",
                (database,)).fetchall()
        for query, calls, total in found:
            entry = self.statements[(database, row)][" ".join(query.split())]
            entry[0] += calls
            entry[1] += total

    def top_statements(self, database: str, label: str, count: int = 5) -> None:
        for row in ROWS_WATCHED:
            found = self.statements.get((database, row), {})
            if not found:
                continue
            calls_all = sum(c for c, _ in found.values())
            print(f"\n{label}, {row}: top {count} statements by total time (pg_stat_statements,"
                  f" all rounds; all statements: {calls_all:.0f} calls, "
                  f"{sum(t for _, t in found.values()):.0f} ms)")
            print("| total ms | calls | mean ms | statement |")
            print("| --- | --- | --- | --- |")
            ranked = sorted(found.items(), key=lambda item: -item[1][1])[:count]
            for query, (calls, total) in ranked:
                text = (query if len(query) <= 160 else query[:157] + "…").replace("|", r"\|")
                print(f"| {total:.0f} | {calls:.0f} | {total / max(calls, 1):.3f} | `{text}` |")


@contextlib.contextmanager
def bench_cluster() -> Iterator[BenchCluster]:
    cluster = throwaway_cluster(durable=True, settings=BENCH_SETTINGS)
    try:
        assert cluster.process is not None
        # runuser is our child; postgres (the postmaster) is runuser's
        runner = psutil.Process(cluster.process.pid)
        postmaster = next((p for p in (runner, *runner.children())
                           if p.name() == "postgres"), runner)
        cluster.execute("CREATE EXTENSION pg_stat_statements")
        yield BenchCluster(cluster, postmaster)
    finally:
        cluster.stop()

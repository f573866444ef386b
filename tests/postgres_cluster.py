"""A throwaway PostgreSQL 15 cluster for tests, and a fresh migrated database per test.

One cluster per test process: ``initdb`` into a temporary directory (on /dev/shm when
there is one), ``postgres`` on a free port of 127.0.0.1 (and a unix socket in the same
directory), ``fsync`` off — a test cluster only (``throwaway_cluster(durable=True)`` is
the same cluster with fsync, synchronous commit and full-page writes on, on disk, for
bench/http_postgres.py). The schema is migrated once into a template database; each test
gets ``CREATE DATABASE … TEMPLATE`` of it (a file copy, a few milliseconds) and drops it
after. The cluster stops and its directory is removed at session end (a pytest
finalizer) or at exit (``atexit``, which also runs after Ctrl-C); a cluster left by a
run that was killed outright is stopped and removed by the next run (its ``owner.pid``
process is gone).

``initdb`` and ``postgres`` refuse to run as root: as root they run as the ``postgres``
OS user (Debian's package creates it) through ``runuser``. The binaries are looked up
in ``$DOORSTEP_PG_BIN``, ``/usr/lib/postgresql/15/bin``, then ``$PATH``. Without them the
PostgreSQL tests skip, loudly — except under ``CI=true``, where they fail: CI must never
pass by silently skipping a backend.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin",)
TEMPLATE = "doorstep_template"
# What every cluster here runs with; tests add TEST_ONLY (durability off: a crash loses
# nothing a test needs), a benchmark runs without it (PostgreSQL's defaults: durable).
SETTINGS = {
    "listen_addresses": "127.0.0.1", "max_connections": "200", "shared_buffers": "64MB",
    "max_locks_per_transaction": "128", "dynamic_shared_memory_type": "mmap",
}
TEST_ONLY = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
_counter = itertools.count(1)


def pg_bin() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``, or None."""
    candidates = [os.environ.get("DOORSTEP_PG_BIN", ""), *PG_BIN_CANDIDATES]
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).parent
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A running PostgreSQL server owned by this process."""

    bin: Path
    root: Path
    port: int
    user: str | None  # the OS user postgres runs as (None: ourselves)
    settings: dict[str, str] = field(default_factory=lambda: {**SETTINGS, **TEST_ONLY})
    process: subprocess.Popen[bytes] | None = None
    templates: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _as_owner(self, *argv: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", *argv] if self.user else list(argv)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.root, self.user)
        subprocess.run(
            self._as_owner(
                str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            ),
            check=True, capture_output=True,
        )
        log = open(self.root / "postgres.log", "wb")  # noqa: SIM115 - lives with the server
        self.process = subprocess.Popen(
            self._as_owner(
                str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-c", f"unix_socket_directories={self.root}",
                *(arg for key, value in self.settings.items() for arg in ("-c", f"{key}={value}")),
            ),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    "postgres exited at start:\n" + (self.root / "postgres.log").read_text()
                )
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]  # test-only DDL from literals

    def template(self, name: str, build: Callable[[str], None]) -> str:
        """A template database ``name`` built once by ``build(url)``."""
        if name not in self.templates:
            self.execute(f'CREATE DATABASE "{name}"')
            build(self.url(name))
            self.templates[name] = name
        return name

    def create_database(self, template: str | None = None) -> str:
        """A fresh database (a copy of ``template``, else empty); returns its URL."""
        name = f"t{os.getpid()}_{next(_counter)}"
        source = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{source}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                # SIGINT: "fast" shutdown (roll back, close clients, stop)
                os.killpg(process.pid, 2)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, 9)
                except ProcessLookupError:
                    pass
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap_stale(folder: Path) -> None:
    """Stop and remove clusters left by test runs that were killed (SIGKILL skips atexit):
    those whose ``owner.pid`` process is gone. Only a ``postgres`` process is signalled."""
    for root in folder.glob("doorstep-pg-*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        try:
            server = int((root / "data" / "postmaster.pid").read_text().split()[0])
            if b"postgres" in Path(f"/proc/{server}/cmdline").read_bytes():
                os.kill(server, 3)  # SIGQUIT: immediate shutdown
        except (OSError, ValueError, IndexError):
            pass
        shutil.rmtree(root, ignore_errors=True)


def _scratch_dir() -> str | None:
    """/dev/shm when it is a writable tmpfs (copying a database there takes a few
    milliseconds, not a few hundred on a disk); else the system's temp folder."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


_cluster: list[Cluster] = []
_failure: list[str] = []


def _os_user() -> str | None:
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root, and no 'postgres' OS user to run initdb/postgres as"
        ) from None
    return "postgres"


def throwaway_cluster(*, durable: bool = False, settings: dict[str, str] | None = None
                      ) -> Cluster:
    """A started cluster of this process, stopped and removed at exit (or by ``stop()``).
    ``durable``: fsync, synchronous commit and full-page writes on (PostgreSQL's
    defaults) and the data on disk, not /dev/shm, so commits cost what they cost in
    production; else the test cluster. ``settings`` are added to the server's."""
    folder = pg_bin()
    if folder is None:
        raise FileNotFoundError("PostgreSQL 15 binaries not found")
    scratch = None if durable else _scratch_dir()
    _reap_stale(Path(scratch or tempfile.gettempdir()))
    root = Path(tempfile.mkdtemp(prefix="doorstep-pg-", dir=scratch))
    (root / "owner.pid").write_text(str(os.getpid()))
    cluster = Cluster(folder, root, _free_port(), _os_user(),
                      {**SETTINGS, **({} if durable else TEST_ONLY), **(settings or {})})
    atexit.register(cluster.stop)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def shared_cluster() -> Cluster:
    """This process's test cluster, started on first use; stopped at exit."""
    if _failure:
        raise RuntimeError(_failure[0])
    if not _cluster:
        try:
            _cluster.append(throwaway_cluster())
        except FileNotFoundError:
            raise
        except BaseException as exc:
            _failure.append(f"the throwaway PostgreSQL cluster did not start: {exc}")
            raise
    return _cluster[0]


def stop_shared_cluster() -> None:
    while _cluster:
        _cluster.pop().stop()


_skipped: list[str] = []


def require_cluster() -> Cluster:
    """The cluster, or skip the test (fail under ``CI=true``) when PostgreSQL is absent."""
    try:
        return shared_cluster()
    except FileNotFoundError:
        reason = (
            "no PostgreSQL 15 binaries (initdb, postgres) in $DOORSTEP_PG_BIN, "
            "/usr/lib/postgresql/15/bin or $PATH; install them with: "
            "apt-get install -y postgresql-15 (or run `make postgres`)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"PostgreSQL tests cannot run under CI=true: {reason}", pytrace=False)
        _skipped.append(reason)
        pytest.skip(f"PostgreSQL TESTS SKIPPED: {reason}")


def report_skips(terminalreporter: Any) -> None:
    """A loud line at the end of the run when the PostgreSQL pass was skipped."""
    if _skipped:
        count = sum(
            "PostgreSQL TESTS SKIPPED" in str(report.longrepr)
            for report in terminalreporter.stats.get("skipped", [])
        )
        terminalreporter.write_sep(
            "!", f"{count} PostgreSQL tests SKIPPED: {_skipped[0]}", red=True, bold=True
        )


def migrated_template(cluster: Cluster) -> str:
    """The template database with Doorstep's PostgreSQL schema, migrated once, with the
    record-field indexes the entities declare (as ``doorstep init`` leaves it)."""

    def build(url: str) -> None:
        from server.records.entities import build_registry
        from storage.postgres import PostgresStorage

        storage = PostgresStorage(url, pool_min_size=1, pool_max_size=1)
        try:
            storage.migrate()
            storage.sync_store().ensure_indexes(build_registry().indexes())
        finally:
            storage.close()

    return cluster.template(TEMPLATE, build)


def fresh_database(cluster: Cluster, *, migrated: bool = True) -> Iterator[str]:
    """A new database for one test (migrated from the template, or empty); dropped after."""
    url = cluster.create_database(migrated_template(cluster) if migrated else None)
    if migrated:  # a copy of the template gets its own epoch, as a fresh `doorstep init`
        cluster.execute(
            "UPDATE sync_meta SET value = substr(md5(random()::text), 1, 16)"
            " WHERE key = 'epoch'",
            url.rsplit("/", 1)[1],
        )
    try:
        yield url
    finally:
        cluster.drop_database(url)


@pytest.fixture(scope="session")
def postgres_cluster(request: pytest.FixtureRequest) -> Cluster:
    cluster = require_cluster()
    request.addfinalizer(stop_shared_cluster)
    return cluster


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test."""
    yield from fresh_database(postgres_cluster)


@pytest.fixture
def empty_postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """A fresh database with no schema (for migration tests)."""
    yield from fresh_database(postgres_cluster, migrated=False)

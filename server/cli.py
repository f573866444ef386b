"""The ``doorstep`` command line (SPEC §8).

Every command works on the instance folder ($DOORSTEP_INSTANCE, default ``instance/``)
and database ($DOORSTEP_DB, default ``instance/doorstep.db``).
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click
from flask import Flask

from server import database
from server.services import accounts


def _app(*, migrating: bool = False) -> Flask:
    """The app from the environment's configuration; every command but ``init`` and
    ``migrate`` refuses to run on a database whose schema is not current."""
    from server.app import create_app
    from storage import UnsupportedDatabase

    try:
        app = create_app()
    except UnsupportedDatabase as exc:
        raise click.ClickException(str(exc)) from exc
    if not migrating:
        pending = database.storage(app).pending_migrations()
        if pending:
            raise click.ClickException(
                f"The database schema is not current ({len(pending)} migration(s) pending):"
                " run `doorstep migrate` (or `doorstep init` on a new instance) first."
            )
    return app


@click.group()
def main() -> None:
    """Doorstep: offline-first integrated community care."""


@main.command()
def init() -> None:
    """Create the instance folder, the database schema and the VAPID keys."""
    app = _app(migrating=True)
    instance = Path(app.config["INSTANCE"])
    instance.mkdir(parents=True, exist_ok=True)
    instance.chmod(0o700)
    database.migrate(app)
    from server.notifications import vapid

    vapid.ensure_vapid_keys(instance)
    click.echo(f"Instance ready: {instance} (database {database.describe(app.config)})")


@main.command()
def migrate() -> None:
    """Apply pending database migrations (stop `serve` and `scheduler` first)."""
    applied = database.migrate(_app(migrating=True))
    click.echo(f"Applied migrations: {', '.join(map(str, applied))}" if applied
               else "The database schema is current.")


# Seconds an idle keep-alive connection stays open: longer than a request burst (a sync
# run is a push and one or more pulls in a row), shorter than the devices' 60 s poll, so
# 5,000 polling phones do not hold 5,000 idle sockets open between polls.
KEEPALIVE_SECONDS = 5


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int,
              help="Request threads per worker.")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the API and the PWA with granian.

    granian parses HTTP and keeps connections alive in Rust, and runs the WSGI app on a
    few threads per worker process: a device's push and pulls reuse one connection, and
    an empty poll's HTTP handling costs a fraction of what gunicorn's Python parser did
    (docs/benchmarks.md, "Why granian"). Threads fit this app: a unit of work borrows
    the worker's kept SQLite connection given back last (storage/sqlite/connection.py),
    SQLite and fsync release the GIL, a slow client or push service holds one thread,
    not the worker, and nothing is monkey-patched. Workers give the CPU parallelism; each
    builds its own app (``factory``, server/wsgi.py), so no connection crosses a process
    boundary.
    """
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    _app()  # refuses a database whose schema is not current, before any worker starts
    os.environ.setdefault("DOORSTEP_ACCESS_LOG", "1")  # read by each worker's app
    click.echo(f"Doorstep on http://{host}:{port}/ (API docs at /api/v1/docs)")
    Granian(
        "server.wsgi:serving_app", factory=True, interface=Interfaces.WSGI,
        address=host, port=port, workers=workers, blocking_threads=threads,
        # An idle keep-alive connection is closed after this long without a request.
        http1_settings=HTTP1Settings(header_read_timeout=KEEPALIVE_SECONDS * 1000),
        log_access=False,  # the app writes its own, with routes instead of paths
        websockets=False,
        # A worker that has not stopped this long after a stop signal is killed: with
        # the scheduler beside it (`make run`), one worker sometimes misses the Ctrl-C
        # that reaches the whole process group. A lost answer is harmless to a device
        # (it repeats the request; docs/sync-protocol.md).
        respawn_failed_workers=True, workers_kill_timeout=3,
    ).serve()


@main.command()
def scheduler() -> None:
    """Run reminders, escalation re-notification and other timed jobs (own process)."""
    from server.jobs.scheduler import run_scheduler

    run_scheduler(_app())


@main.command()
@click.option("--patients", default=200, show_default=True, type=int)
def demo(patients: int) -> None:
    """Fill a new database with realistic synthetic data and print the demo logins."""
    from server.services import demo as demo_data

    app = _app()
    with app.app_context():
        logins = demo_data.seed(patients=patients)
        with database.read() as uow:
            lines = demo_data.login_lines(uow)
    if logins is None:
        click.echo("The database already has users: demo data not added.")
    if lines:
        click.echo(f"Demo logins (synthetic data, NHS test numbers 999…), password "
                   f"{demo_data.PASSWORD} for each:")
        click.echo("\n".join(lines))


@main.group()
def user() -> None:
    """Manage accounts."""


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise click.ClickException("The passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\n")


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(accounts.STAFF_ROLES))
@click.option("--team", "teams", multiple=True, help="Team name (repeat for several).")
@click.option("--display-name", default=None)
def user_add(name: str, role: str, teams: tuple[str, ...], display_name: str | None) -> None:
    """Create a staff account; the password is read from standard input."""
    password = _read_password()
    app = _app()
    with app.app_context():
        # Hashed before the write unit of work: argon2 must not hold the write lock.
        password_hash = accounts.hash_ahead(role, password)
        with database.write() as uow:
            team_ids = []
            for team_name in teams:
                team = accounts.team_by_name(uow, team_name)
                if team is None:
                    raise click.ClickException(f"No team named {team_name!r}.")
                team_ids.append(team["id"])
            try:
                created = accounts.create_user(
                    uow, username=name, password=password, role=role,
                    display_name=display_name or name, team_ids=tuple(team_ids),
                    password_hash=password_hash,
                )
            except accounts.AccountError as exc:
                raise click.ClickException(_describe(exc.errors)) from exc
    click.echo(f"Created {created.role} {created.username} ({created.id})")


@main.group()
def team() -> None:
    """Manage teams."""


@team.command("add")
@click.argument("name")
def team_add(name: str) -> None:
    """Create a team."""
    app = _app()
    with app.app_context():
        with database.write() as uow:
            try:
                created = accounts.create_team(uow, name)
            except accounts.AccountError as exc:
                raise click.ClickException(_describe(exc.errors)) from exc
    click.echo(f"Created team {created['name']} ({created['id']})")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def backup(path: Path, force: bool) -> None:
    """Take a consistent online backup of the live database to PATH."""
    from storage import BackupFailed

    app = _app()
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it.")
    try:
        size = database.storage(app).backup(path)
    except BackupFailed as exc:
        raise click.ClickException(str(exc)) from exc
    if database.is_postgres(app.config):
        click.echo(f"Backed up {database.describe(app.config)} to {path} ({size} bytes,"
                   " pg_dump custom format; pg_restore --list: ok)")
    else:
        click.echo(f"Backed up {size} pages to {path} (integrity check: ok)")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: replace the live database.")
def restore(path: Path, yes: bool) -> None:
    """Replace the database with a backup (stop `serve` and `scheduler` first)."""
    if not yes:
        raise click.ClickException("This replaces the live database. Add --yes to confirm.")
    from storage import RestoreFailed

    # The database may be missing or behind (a new machine): restoring migrates it.
    app = _app(migrating=True)
    try:
        database.storage(app).restore(path)
    except RestoreFailed as exc:
        raise click.ClickException(str(exc)) from exc
    database.migrate(app)  # the record indexes the entities declare
    kept = (f"schema doorstep_pre_restore of {database.describe(app.config)}"
            if database.is_postgres(app.config) else f"{app.config['DB']}.pre-restore")
    click.echo(
        f"Restored {path}. Devices will re-pull; their unsent changes are kept. Accounts,"
        f" devices and sessions are as they were just before; the replaced database is"
        f" kept as {kept}."
    )


def _describe(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())


if __name__ == "__main__":
    main()

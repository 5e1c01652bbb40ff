"""The ``zoufang`` command: Flask's CLI bound to the app factory, plus Zoufang's own commands."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup

from backend.errors import AppError
from backend.extensions import db


def main() -> None:
    from backend import create_app

    FlaskGroup(create_app=create_app, help="Zoufang 走访: administration commands.")()


def register_commands(app: Flask) -> None:
    app.cli.add_command(areas_group)
    app.cli.add_command(users_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(sync_group)
    app.cli.add_command(storage_group)
    app.cli.add_command(jobs_group)


def _fail(exc: AppError) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(exc.message)


@click.group("areas", help="The administrative tree.")
def areas_group() -> None:
    pass


@areas_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_areas_command(csv_file: Path) -> None:
    """Import areas from a UTF-8 CSV with columns code,name,level,parent_code.

    Idempotent: existing areas are renamed if their name changed, nothing else. A file
    with any bad line imports nothing.
    """
    from backend.areas import service as areas_service

    try:
        with csv_file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{csv_file} is not UTF-8 (byte {exc.start}); save it as UTF-8 and retry.") from exc
    try:
        report = areas_service.import_areas(actor=None, header=header, rows=rows)
    except AppError as exc:
        raise _fail(exc) from exc
    db.session.commit()
    click.echo(f"{report.created} created, {report.renamed} renamed, {report.unchanged} unchanged.")


@click.group("users", help="User accounts.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["cadre", "inspector", "supervisor", "admin"]), help="Repeat for several roles.")
@click.option("--area", "area_code", required=True, help="12-digit code of the user's home area.")
@click.option("--display-name", default=None, help="Name shown in the app (default: the username).")
@click.option("--phone", default=None, help="Mainland mobile number.")
def create_user_command(username: str, roles: tuple[str, ...], area_code: str,
                        display_name: str | None, phone: str | None) -> None:
    """Create a user; the password is read from standard input."""
    from backend.accounts import service as accounts_service

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts_service.create_user(actor=None, username=username, password=password, roles=roles,
                                            area_code=area_code, display_name=display_name, phone=phone)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    except AppError as exc:
        raise _fail(exc) from exc
    db.session.commit()
    click.echo(f"Created user {user.username} (id {user.id}) in {user.area_code}.")


@users_group.command("prune-sign-ins")
def prune_sign_ins_command() -> None:
    """Drop login-throttle rows that hold no lock and no recent failure, and ended rate-limit windows.

    Sign-ins prune as they fail; run this (cron) so a quiet server sheds a burst of guessed names too.
    """
    from backend.accounts import rate_limit
    from backend.accounts import service as accounts_service

    throttles = accounts_service.prune_login_throttles()
    counters = rate_limit.prune_counters()
    db.session.commit()
    click.echo(f"Dropped {throttles} login-throttle rows and {counters} ended rate-limit windows.")


@click.group("sync", help="The offline sync change log.")
def sync_group() -> None:
    pass


@sync_group.command("prune")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Keep this many days (default: ZOUFANG_SYNC_RETENTION_DAYS).")
def prune_command(days: int | None) -> None:
    """Drop old change-log entries no fresh phone needs; run it daily (cron)."""
    from datetime import timedelta

    from flask import current_app

    from backend.models_base import utcnow
    from backend.sync import service as sync_service

    days = days or current_app.config["SYNC_RETENTION_DAYS"]
    dropped = sync_service.prune(older_than=utcnow() - timedelta(days=days))
    db.session.commit()
    click.echo(f"Dropped {dropped} change-log entries older than {days} days.")


@click.group("storage", help="Where photo files are kept.")
def storage_group() -> None:
    pass


@storage_group.command("check")
def storage_check_command() -> None:
    """Check that photo storage answers; create the S3 bucket when it is missing."""
    from backend.storage import S3Storage, StorageError, get_storage

    storage = get_storage()
    try:
        if isinstance(storage, S3Storage):
            created = storage.ensure_bucket()
            click.echo(f"S3 bucket {storage.bucket}: {'created' if created else 'present'}.")
        storage.put(".check", b"ok")
        storage.delete(".check")
    except (StorageError, OSError) as exc:
        raise click.ClickException(f"Photo storage does not work: {exc}") from exc
    click.echo("Photo storage answers: writes and deletes work.")


@storage_group.command("expire-uploads")
def expire_uploads_command() -> None:
    """Drop uploads past their expiry with their bytes (also done as new uploads start)."""
    from backend.evidence import uploads

    dropped = uploads.expire_old()
    db.session.commit()
    click.echo(f"Dropped {dropped} expired uploads.")


@click.group("jobs", help="Background jobs (huey).")
def jobs_group() -> None:
    pass


@jobs_group.command("worker")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Jobs run at once (threads).")
@click.option("--no-periodic", is_flag=True, help="Run queued jobs only, not the schedule.")
def jobs_worker_command(workers: int, no_periodic: bool) -> None:
    """Run queued jobs and the schedule until stopped (Ctrl-C or SIGTERM finish the running jobs first)."""
    import logging

    from flask import current_app
    from huey.consumer import Consumer

    queue = current_app.extensions["zoufang_jobs"]
    # What ran, retried or failed, on standard error as gunicorn's log is.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"))
    for name in ("huey", "backend"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(current_app.config["LOG_LEVEL"])
    # At most two seconds between looks at an idle SQLite queue; Redis wakes the worker at once.
    Consumer(queue.huey, workers=workers, periodic=not no_periodic, max_delay=2.0).run()


@jobs_group.command("run")
@click.argument("kind")
def jobs_run_command(kind: str) -> None:
    """Run one of the scheduler's jobs here and now (sync_prune, upload_expiry, rates_snapshot, …), as a job."""
    from backend.jobs import periodic, service, tasks

    if kind not in periodic.SCHEDULE:
        raise click.ClickException(f"Not a scheduled job: {kind}. Known: {', '.join(periodic.SCHEDULE)}.")
    job = service.start(actor=None, kind=kind, params={}, area_code=None)
    db.session.commit()
    try:
        tasks.run_job(job.id, final=True, separately=False)
    except Exception:  # kept on the job: shown below
        pass
    db.session.refresh(job)
    click.echo(f"{kind}: {job.state} {job.result or job.last_error}")


@click.command("seed-demo")
@click.option("--reset-passwords", is_flag=True, help="Give the demo accounts new passwords and print them.")
@click.option("--no-records", is_flag=True, help="Only the areas and accounts, no demo month of field work.")
def seed_demo_command(reset_passwords: bool, no_records: bool) -> None:
    """Create the demo county 示范县, one account per role and a month of its field work (idempotent)."""
    from backend.seed import DEMO_COUNTY, seed_demo
    from backend.seed_records import seed_demo_records

    accounts = seed_demo(reset_passwords=reset_passwords)
    db.session.commit()
    click.echo(f"Demo county 示范县 ({DEMO_COUNTY}) is in place.")
    if not no_records:
        visits = seed_demo_records(DEMO_COUNTY)
        db.session.commit()
        if visits:
            click.echo(f"Demo field work written: households in six villages, {visits} visits, hotspots.")
    if any(account.password for account in accounts):
        click.echo("Demo accounts (passwords are shown only now):")
    for account in accounts:
        password = account.password or "(unchanged; --reset-passwords prints new ones)"
        click.echo(f"  {account.role:<11} {account.username:<16} {password:<14} area {account.area_code}")

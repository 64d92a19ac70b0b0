"""The service's own commands (serve, worker, create-token, tokens, create-organizer,
organizer-link, bounce), registered on the app's
CLI by the factory; `eventsvc` (eventsvc.edges.cli) is the console script that runs them."""

from __future__ import annotations

import logging
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from eventsvc.db import db, unit_of_work
from eventsvc.domain import admin_tokens, bounces, organizers
from eventsvc.domain.errors import DomainError
from eventsvc.edges.common import links, now
from eventsvc.mail import bounce_parsing
from eventsvc.mail.addresses import bounce_address
from eventsvc.schema import CURRENT, UPGRADE_HINT, schema_state

log = logging.getLogger(__name__)


def eventsvc_version() -> str:
    try:
        return version("eventsvc")
    except PackageNotFoundError:
        return "unknown (not installed)"


def require_current_schema() -> None:
    with unit_of_work(writes=False) as session:
        state = schema_state(session.connection())
    if state != CURRENT:
        raise click.ClickException(f"The database schema is {state}: {UPGRADE_HINT}.")


def _describe(app: Flask, base_url: str) -> str:
    database = app.config["DATABASE_URL"]
    shown = db.engine.url.render_as_string(hide_password=True) if not database.startswith("sqlite") else database
    mail = (
        f"SMTP {app.config['MAIL_SERVER']}:{app.config['MAIL_PORT']}"
        if app.config.get("MAIL_SERVER")
        else f"written as files to {Path(app.config['MAIL_DIR'])}"
    )
    return (
        f"instance folder: {app.instance_path}\n"
        f"database:        {shown}\n"
        f"email:           {mail}\n"
        f"links start with {base_url}"
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Apply pending migrations, then serve HTTP with the scheduler in the same process."""
    from werkzeug.serving import run_simple

    from eventsvc.scheduler import start_background, stop_background

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["BASE_URL_GIVEN"]:
        shown_host = f"[{host}]" if ":" in host else host
        app.config["BASE_URL"] = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else shown_host}:{port}"
    upgrade()
    scheduler, clockwork = start_background(app)
    click.echo(
        f"eventsvc {eventsvc_version()} on http://{host}:{port} "
        f"(scheduler every {app.config['TICK_SECONDS']} s)\n{_describe(app, app.config['BASE_URL'])}"
    )
    if str(app.config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://"):
        click.echo(
            "rate limits are kept in this process's memory: fine for `serve`; with several web "
            "processes set EVENTSVC_RATELIMIT_STORAGE_URI=redis://…"
        )
    # Ctrl-C and SIGTERM both end the server loop, whatever the signals' disposition this
    # process inherited (a shell starts background jobs with SIGINT ignored); then the
    # sender finishes the email in flight and hands the rest back.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _interrupt)
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    except KeyboardInterrupt:
        pass
    finally:
        stop_background(scheduler, clockwork)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


@click.command("worker")
@click.option("--migrate/--no-migrate", default=False, help="Apply pending migrations first.")
@with_appcontext
def worker(migrate: bool) -> None:
    """Run the scheduler alone (beside a WSGI server serving eventsvc.wsgi:app)."""
    from eventsvc.scheduler import run_blocking

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if migrate:
        upgrade()
    require_current_schema()
    click.echo(
        f"eventsvc worker: looking for due work every {app.config['TICK_SECONDS']} s\n"
        f"{_describe(app, app.config['BASE_URL'])}"
    )
    run_blocking(app)


@click.command("create-token")
@click.argument("name")
@with_appcontext
def create_token(name: str) -> None:
    """Make an admin API token; it is printed once and stored only as a hash."""
    try:
        with unit_of_work() as session:
            token = admin_tokens.create_token(session, name, now())
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    click.echo(token)


@click.command("create-organizer")
@click.argument("email")
@click.option("--name", required=True, help="the organizer's name, as the console and the audit log show it")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input instead")
@with_appcontext
def create_organizer(email: str, name: str, password_stdin: bool) -> None:
    """Make an organizer account for the console at /admin/. Prints a one-time link to set
    the password (valid three days), or takes the password from standard input."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        with unit_of_work() as session:
            organizer, secret = organizers.create_organizer(session, email, name, now())
            if password is not None:
                organizers.set_password(session, organizer, password)
    except DomainError as error:
        raise click.ClickException(_first_message(error)) from error
    if password is None:
        click.echo(links().console_setup(secret))
    else:
        click.echo(f"Organizer {email} can sign in at {links().console()}")
    _say_where_links_point()


def _say_where_links_point() -> None:
    """Without EVENTSVC_BASE_URL a link points at the default address; say so, in case the
    service runs elsewhere (another port of `eventsvc serve`, a proxy)."""
    if not current_app.config.get("BASE_URL_GIVEN"):
        click.echo(
            f"(The link starts with {links().base}; if the service answers elsewhere, set EVENTSVC_BASE_URL "
            "to its public address, e.g. EVENTSVC_BASE_URL=http://127.0.0.1:8000, and run "
            "`eventsvc organizer-link EMAIL` for a new link.)",
            err=True,
        )


@click.command("organizer-link")
@click.argument("email")
@with_appcontext
def organizer_link(email: str) -> None:
    """A new one-time link for an organizer to set a (forgotten) password."""
    try:
        with unit_of_work() as session:
            secret = organizers.new_setup_link(session, email, now())
    except DomainError as error:
        raise click.ClickException(_first_message(error)) from error
    click.echo(links().console_setup(secret))
    _say_where_links_point()


def _first_message(error: DomainError) -> str:
    errors = getattr(error, "errors", None)
    return next(iter(errors.values()))[0] if errors else error.detail


@click.group("tokens")
def tokens() -> None:
    """List and revoke admin API tokens."""


@tokens.command("list")
@with_appcontext
def list_tokens() -> None:
    """Every token's name, when it was made and whether it is revoked."""
    with unit_of_work(writes=False) as session:
        for token in admin_tokens.list_tokens(session):
            state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
            click.echo(f"{token.name}\t{token.created_at:%Y-%m-%d %H:%M}\t{state}")


@tokens.command("revoke")
@click.argument("name")
@with_appcontext
def revoke_token(name: str) -> None:
    """Revoke the token NAME: it answers 401 from now on."""
    try:
        with unit_of_work() as session:
            admin_tokens.revoke(session, name, now())
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"revoked {name}")


@click.command("bounce")
@with_appcontext
def bounce() -> None:
    """Read one bounce (a delivery status notification or a plain bounce) from standard
    input, as a mail server's pipe alias delivers it. Always exits 0: a mail server must
    never be told to retry or bounce a bounce; what is not understood is logged and ignored."""
    raw = sys.stdin.buffer.read()
    try:
        found = bounce_parsing.parse(raw, bounce_address(current_app.config))
        if not found.is_permanent():
            log.info("bounce ignored: no permanent failure (%d bytes, tag %s)", len(raw), found.message_key or "-")
            return
        with unit_of_work() as session:
            marked = bounces.learn_from_bounce(
                session, found.message_key, found.permanent | set(found.statuses), found.reason(), now()
            )
        log.info("bounce: %d address(es) marked undeliverable", marked)
    except Exception:
        log.exception("bounce not understood (%d bytes); ignored", len(raw))


def register_commands(app: Flask) -> None:
    for command in (serve, worker, create_token, create_organizer, organizer_link, tokens, bounce):
        app.cli.add_command(command)

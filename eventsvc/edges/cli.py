"""The `eventsvc` command: Flask's CLI (run, routes, db …) plus serve, worker, create-token."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from eventsvc.db import db


def _create_app() -> Flask:
    from eventsvc import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli() -> None:
    """eventsvc: events, registrations, waitlists, invites, reminders, documentation."""


def register_commands(app: Flask) -> None:
    app.cli.add_command(serve)
    app.cli.add_command(worker)
    app.cli.add_command(create_token)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Apply pending migrations, then serve HTTP with the scheduler in the same process."""
    from werkzeug.serving import run_simple

    from eventsvc.scheduler import start_background

    app = current_app._get_current_object()
    upgrade()
    scheduler = start_background(app)
    click.echo(f"eventsvc on http://{host}:{port} (scheduler every {app.config['TICK_SECONDS']} s)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        scheduler.shutdown(wait=False)


@click.command("worker")
@click.option("--migrate/--no-migrate", default=False, help="Apply pending migrations first.")
@with_appcontext
def worker(migrate: bool) -> None:
    """Run the scheduler alone (beside a WSGI server serving wsgi:app)."""
    from eventsvc.scheduler import run_blocking

    app = current_app._get_current_object()
    if migrate:
        upgrade()
    click.echo(f"eventsvc worker: looking for due work every {app.config['TICK_SECONDS']} s")
    run_blocking(app)


@click.command("create-token")
@click.argument("name")
@with_appcontext
def create_token(name: str) -> None:
    """Make an admin API token; it is printed once and stored only as a hash."""
    from eventsvc.domain.admin_tokens import create_token as make
    from eventsvc.edges.common import now

    token = make(db.session, name, now())
    db.session.commit()
    click.echo(token)


if __name__ == "__main__":
    cli()

"""The `eventsvc` console script: Flask's CLI (run, routes, db …) with the service's own
commands (serve, worker, create-token, tokens; see eventsvc.edges.commands)."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from eventsvc.app import create_app
from eventsvc.edges.commands import eventsvc_version


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
@click.version_option(eventsvc_version(), "--version", prog_name="eventsvc", message="%(prog)s %(version)s")
def cli() -> None:
    """eventsvc: events, registrations, waitlists, invites, reminders, documentation."""


if __name__ == "__main__":
    sys.exit(cli())

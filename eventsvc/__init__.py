"""eventsvc: specialist events from announcement to documentation.

Layout: `domain/` holds the models and every service that changes them; `edges/` the JSON
API, the web pages and the CLI, which parse, call the domain and render; `scheduler/` the
clock, which finds due work and calls the domain; `mail/` renders and sends emails.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.routing import BaseConverter, ValidationError

from eventsvc import config
from eventsvc.db import db
from eventsvc.domain.clock import SystemClock

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """A top-level folder of the source tree (migrations, email_templates), or its copy
    inside the installed wheel."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


class IdConverter(BaseConverter):
    """A database id: digits within a 32-bit integer, so no path can overflow a column."""

    regex = r"\d{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= 2**31 - 1:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(value)


def create_app(overrides: dict | None = None) -> Flask:
    overrides = overrides or {}
    instance_path = overrides.get("INSTANCE_PATH") or os.environ.get("EVENTSVC_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path and os.path.abspath(instance_path))
    config.load(app, overrides)
    app.url_map.converters["id"] = IdConverter
    app.json.sort_keys = False
    app.extensions["eventsvc.clock"] = app.config.get("CLOCK") or SystemClock()

    from eventsvc.extensions import api, csrf, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")))
    app.config.update(
        API_TITLE="eventsvc",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer"}}}})
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)

    from eventsvc.edges import api as api_edge
    from eventsvc.edges import calendars, web

    api_edge.register(app, api)
    calendars.register(app)
    web.register(app)
    _register_cli(app)
    return app


def _register_cli(app: Flask) -> None:
    from eventsvc.edges.cli import register_commands

    register_commands(app)

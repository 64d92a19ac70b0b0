"""The application factory: configuration, extensions, the edges, error handling."""

from __future__ import annotations

import os
from typing import Any, Optional

from flask import Flask
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from eventsvc import config, logs
from eventsvc.db import db
from eventsvc.domain.clock import SystemClock
from eventsvc.domain.errors import DomainError
from eventsvc.edges import api as api_edge
from eventsvc.edges import calendars, console, problems, security, web
from eventsvc.edges.commands import register_commands
from eventsvc.edges.converters import IdConverter
from eventsvc.extensions import csrf, limiter, migrate
from eventsvc.resources import resource_dir


def create_app(overrides: Optional[dict[str, Any]] = None) -> Flask:
    overrides = overrides or {}
    instance_path = overrides.get("INSTANCE_PATH") or os.environ.get("EVENTSVC_INSTANCE_PATH")
    # Named after the package: its instance folder is <prefix>/var/eventsvc-instance when installed.
    app = Flask("eventsvc", instance_path=instance_path and os.path.abspath(instance_path))
    config.load(app, overrides)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    app.url_map.converters["id"] = IdConverter
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["eventsvc.clock"] = app.config.get("CLOCK") or SystemClock()
    logs.init_app(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")))
    csrf.init_app(app)
    limiter.init_app(app)
    api = api_edge.register(app)
    calendars.register(app)
    web.register(app)
    console.register(app)
    security.init_app(app)
    _register_error_handlers(app, api)
    register_commands(app)
    return app


def _register_error_handlers(app: Flask, api: Any) -> None:
    """Machines get problem documents, people an HTML page: decided here, once."""

    def http_error(error: HTTPException) -> ResponseReturnValue:
        if problems.wants_problem():
            return problems.http_problem(error)
        return web.render_error(error.code or 500)

    def domain_error(error: DomainError) -> ResponseReturnValue:
        if problems.wants_problem():
            return problems.domain_problem(error)
        return web.render_error(problems.DOMAIN_STATUS.get(type(error), 409))

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(OperationalError, api_edge.database_error)
    app.register_error_handler(RecursionError, api_edge.too_deeply_nested)

"""The JSON API: blueprints, request guards and error handlers."""

from __future__ import annotations

from flask import Flask, request
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from eventsvc.db import db
from eventsvc.domain.errors import DomainError
# Importing these modules attaches their routes to the blueprints registered below.
from eventsvc.edges.api import documents, events, outbox, registrations  # noqa: F401
from eventsvc.edges.api.problems import handle_domain_error, problem

JSON_BODY_METHODS = ("POST", "PUT", "PATCH")


def register(app: Flask, api) -> None:
    from eventsvc.extensions import csrf

    app.register_blueprint(documents.downloads)
    for blueprint in (events.public, registrations.public, events.admin):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # token- or bearer-authenticated JSON, not cookie sessions
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(RecursionError, _too_deeply_nested)
    app.before_request(_require_json_body)
    app.teardown_request(_end_transaction)

    @app.get("/healthz")
    def healthz():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return {"status": "ok"}


def _require_json_body():
    """A body that is not JSON is refused before it is parsed (multipart only for uploads)."""
    if not request.path.startswith("/api/") or request.method not in JSON_BODY_METHODS:
        return None
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if not has_body:
        return None
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return None
    if mimetype == "multipart/form-data" and request.path.endswith("/documents"):
        return None
    return problem(415, "unsupported_media_type", "Send the body as application/json.")


def _end_transaction(_error) -> None:
    """No request leaves a transaction open: on SQLite an open one holds the write lock."""
    db.session.rollback()


def _too_deeply_nested(_error: RecursionError):
    """JSON nested thousands deep exhausts the parser's recursion: bad input, not our fault."""
    return problem(400, "invalid_json", "The body is nested too deeply.")


def _database_unavailable(error: OperationalError):
    db.session.rollback()
    return problem(503, "database_unavailable", "The database is busy; try again.", headers={"Retry-After": "2"})

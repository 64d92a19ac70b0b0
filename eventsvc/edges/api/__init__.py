"""The JSON API: its Api object, blueprints, request guards, health and database errors."""

from __future__ import annotations

import json
import logging
from typing import Optional

from flask import Flask, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError

from eventsvc.db import is_lost_connection_or_lock_timeout, unit_of_work

# Importing these modules attaches their routes to the blueprints registered below.
from eventsvc.edges.api import (  # noqa: F401
    admin_tokens,
    certificates,
    documents,
    events,
    feedback,
    messages,
    organizations,
    outbox,
    people,
    registrations,
    reports,
    series,
)
from eventsvc.edges.api.docs import docs
from eventsvc.edges.api.openapi import ErrorResponses
from eventsvc.edges.api.organizations import ORGANIZATIONS_IMPORT_PATH
from eventsvc.edges.converters import IdConverter, id_parameter_schema
from eventsvc.edges.problems import ProblemApi, problem
from eventsvc.extensions import csrf
from eventsvc.schema import schema_state

log = logging.getLogger(__name__)

JSON_BODY_METHODS = ("POST", "PUT", "PATCH")


def register(app: Flask) -> ProblemApi:
    app.config.update(
        API_TITLE="eventsvc",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = ProblemApi(
        spec_kwargs={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "servers": [{"url": "/", "description": "this service (EVENTSVC_BASE_URL)"}],
            "extra_plugins": [ErrorResponses()],
        }
    )
    api.register_converter(IdConverter, id_parameter_schema)
    api.init_app(app)
    app.register_blueprint(documents.downloads)
    app.register_blueprint(docs)
    for blueprint in (events.public, registrations.public, organizations.lookup, series.public, events.admin):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # token- or bearer-authenticated JSON, not cookie sessions
    app.before_request(_require_json_body)

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        with unit_of_work(writes=False) as session:
            state = schema_state(session.connection())
        if state != "current":
            return problem(503, "schema_" + state, "The database schema is not current: run `eventsvc db upgrade`.")
        return {"status": "ok"}

    return api


def _require_json_body() -> Optional[ResponseReturnValue]:
    """A body that is not JSON is refused before it is parsed (multipart only for uploads)."""
    if not request.path.startswith("/api/") or request.method not in JSON_BODY_METHODS:
        return None
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if not has_body:
        return None
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return _refuse_unparsable_json()
    if mimetype == "multipart/form-data" and request.path.endswith("/documents"):
        return None
    if mimetype == "text/csv" and request.path == ORGANIZATIONS_IMPORT_PATH:
        return None
    return problem(415, "unsupported_media_type", "Send the body as application/json.")


def _refuse_unparsable_json() -> Optional[ResponseReturnValue]:
    """Python's JSON parser raises ValueError for more than malformed text (an integer of more
    than 4,300 digits, say), which the request parser does not expect: parse once here."""
    try:
        json.loads(request.get_data(cache=True))
    except RecursionError:
        return problem(400, "invalid_json", "The body is nested too deeply.")
    except ValueError:
        return problem(400, "invalid_json", "The body is not valid JSON.")
    return None


def too_deeply_nested(_error: RecursionError) -> ResponseReturnValue:
    """JSON nested thousands deep exhausts the parser's recursion: bad input, not our fault."""
    return problem(400, "invalid_json", "The body is nested too deeply.")


def database_error(error: OperationalError) -> ResponseReturnValue:
    """A busy or unreachable database is worth a retry (503); anything else is our fault,
    and says so, with what the operator should look at."""
    if is_lost_connection_or_lock_timeout(error):
        log.warning("database unavailable: %s", error.orig)
        return problem(
            503, "database_unavailable", "The database is busy or unreachable; try again.", headers={"Retry-After": "2"}
        )
    log.exception("database error")
    with unit_of_work(writes=False) as session:
        state = schema_state(session.connection())
    if state != "current":
        return problem(500, "schema_" + state, "The database schema is not current: run `eventsvc db upgrade`.")
    return problem(500, "internal_error", "Internal error.")

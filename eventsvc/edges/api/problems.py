"""RFC 9457 problem details for every error the HTTP edge returns."""

from __future__ import annotations

from http import HTTPStatus

import marshmallow as ma
from flask import Response, json, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from eventsvc.domain import errors as domain_errors

PROBLEM_MIMETYPE = "application/problem+json"

DOMAIN_STATUS = {
    domain_errors.NotFound: 404,
    domain_errors.RegistrationClosed: 409,
    domain_errors.EventFull: 409,
    domain_errors.AlreadyRegistered: 409,
    domain_errors.InvalidState: 409,
    domain_errors.ValidationFailed: 422,
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


class ProblemSchema(ma.Schema):
    """Documents the error body (RFC 9457); not used to dump it."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    code = ma.fields.String(metadata={"description": "machine-readable error code"})
    errors = ma.fields.Dict(metadata={"description": "validation messages keyed by field name"})


def problem(status: int, code: str, detail: str = "", errors: dict | None = None, headers: dict | None = None) -> Response:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE, headers=headers)
    return response


def validation_problem(errors: dict, detail: str = "The input is not valid.") -> Response:
    return problem(422, "validation_error", detail, errors=errors)


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error as a problem document."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        if not wants_problem():
            from eventsvc.edges.web.views import render_error

            return render_error(status)
        data = getattr(error, "data", None) or {}
        if status == 422 and "messages" in data:
            return validation_problem(_flatten_locations(data["messages"]))
        if status == 400 and "messages" in data:
            return problem(400, "invalid_json", "The body is not valid JSON.")
        code = data.get("code") or HTTP_CODES.get(status, "error" if status < 500 else "internal_error")
        valid_methods = getattr(error, "valid_methods", None)
        headers = {"Allow": ", ".join(valid_methods)} if valid_methods else None
        detail = data.get("message") or (error.description if status < 500 else "Internal error.")
        return problem(status, code, detail, headers=headers)


def _flatten_locations(messages: dict) -> dict:
    """webargs nests messages by location ({"json": {"title": [...]}}); clients want fields."""
    flat: dict = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            flat.update(location_messages)
        else:
            flat["_schema"] = location_messages
    return flat


def handle_domain_error(error: domain_errors.DomainError) -> Response:
    status = DOMAIN_STATUS.get(type(error), 409)
    errors = getattr(error, "errors", None)
    return problem(status, error.code, error.detail, errors=errors)


def wants_problem() -> bool:
    """Machines get problem documents; people on the web pages get an HTML page."""
    path = request.path
    return (path.startswith(("/api/", "/d/", "/feeds/")) or path.endswith(".ics")
            or path in ("/openapi.json", "/healthz"))

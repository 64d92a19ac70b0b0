"""RFC 9457 problem details for every error the HTTP edge returns to machines.

Needs only Flask, flask-smorest and the domain's errors, so that every edge can import it.
Whether a person gets an HTML page instead is decided by the app factory.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Optional

import marshmallow as ma
from flask import Response, g, json, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from eventsvc.domain import errors as domain_errors

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"

DOMAIN_STATUS = {
    domain_errors.NotFound: 404,
    domain_errors.RegistrationClosed: 409,
    domain_errors.EventFull: 409,
    domain_errors.AlreadyRegistered: 409,
    domain_errors.InvalidState: 409,
    domain_errors.ValidationFailed: 422,
    domain_errors.RateLimited: 429,
    domain_errors.OfferExpired: 409,
    domain_errors.EventStarted: 409,
    domain_errors.AlreadyAnswered: 409,
    domain_errors.FeedbackClosed: 409,
    domain_errors.Unavailable: 503,
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
    request_id = ma.fields.String(metadata={"description": "the request's id, as in the logs"})


def problem(
    status: int,
    code: str,
    detail: str = "",
    errors: Optional[dict[str, Any]] = None,
    headers: Optional[dict[str, Any]] = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE, headers=headers)


def validation_problem(errors: dict[str, Any], detail: str = "The input is not valid.") -> Response:
    return problem(422, "validation_error", detail, errors=errors)


def http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        return validation_problem(_flatten_locations(data["messages"]))
    if status == 400 and "messages" in data:
        return problem(400, "invalid_json", "The body is not valid JSON.")
    code = data.get("code") or HTTP_CODES.get(status, "error" if status < 500 else "internal_error")
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    if status == 429:
        headers.setdefault("Retry-After", "60")
    detail = str(data.get("message") or (error.description if status < 500 else "Internal error."))
    return problem(status, code, detail, headers=headers)


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error as a problem document, and saying so
    in the OpenAPI document."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_problem(error)

    def _register_responses(self) -> None:
        """The error responses every operation refers to, as application/problem+json."""
        for status in HTTPStatus:
            if status >= 400:
                self.spec.components.response(status.name, _problem_response(status.phrase), lazy=True)
        self.spec.components.response("DEFAULT_ERROR", _problem_response("Default error response"), lazy=True)


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MIMETYPE: {"schema": "ProblemSchema"}}}


def _flatten_locations(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs nests messages by location ({"json": {"title": [...]}}); clients want fields."""
    flat: dict[str, Any] = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            flat.update(location_messages)
        else:
            flat["_schema"] = location_messages
    return flat


def domain_problem(error: domain_errors.DomainError) -> Response:
    status = DOMAIN_STATUS.get(type(error), 409)
    errors = getattr(error, "errors", None)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, domain_errors.RateLimited) else None
    return problem(status, error.code, error.detail, errors=errors, headers=headers)


def wants_problem() -> bool:
    """Machines get problem documents; people on the web pages get an HTML page."""
    path = request.path
    return (
        path.startswith(("/api/", "/d/", "/feeds/")) or path.endswith(".ics") or path in ("/openapi.json", "/healthz")
    )

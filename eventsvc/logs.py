"""Logging an operator can use: every line carries the id of the request it belongs to, and
every response and problem document says that id."""

from __future__ import annotations

import logging
import re
import secrets

from flask import Flask, Response, g, has_request_context, request

FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
# An incoming X-Request-ID (set by a proxy) is kept when it is a plain token.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


_TOKEN_IN_PATH = re.compile(r"(/(?:r|d|feeds|registrations)/)[A-Za-z0-9_-]{16,}")


def redact(text: str) -> str:
    """A path or request line with `…` where a participant's token stands (their only key)."""
    return _TOKEN_IN_PATH.sub(r"\1…", text)


class RedactTokens(logging.Filter):
    """For request logs that write paths (the development server's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def init_app(app: Flask) -> None:
    _configure_root()
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)


def _configure_root() -> None:
    """Log to standard error with request ids, unless the host process (gunicorn, pytest)
    set up logging itself; in that case only the id is added to its records."""
    root = logging.getLogger()
    if not root.handlers:
        handler: logging.Handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run is noise
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(existing, RedactTokens) for existing in werkzeug.filters):
        werkzeug.addFilter(RedactTokens())
    for handler in root.handlers:
        if not any(isinstance(existing, RequestIdFilter) for existing in handler.filters):
            handler.addFilter(RequestIdFilter())


def _assign_request_id() -> None:
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if _ACCEPTED_ID.fullmatch(offered) else secrets.token_hex(8)


def _echo_request_id(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-ID"] = request_id
    return response

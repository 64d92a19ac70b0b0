"""Browser-facing protection on every response: a Content-Security-Policy that the pages
satisfy without inline script or style, no framing, no referrer leaving the site (tokens
stand in URLs), no content sniffing, and cookies that stay on https when the base URL is."""

from __future__ import annotations

from typing import Optional

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = CookieSessions()
    app.after_request(_headers)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a request without a session cookie (every
    call of the JSON API, every first visit) starts an empty session without building the
    cookie's signer first."""

    def open_session(self, app: Flask, request: Request) -> Optional[SecureCookieSession]:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    return response

"""The organizers' console at /admin/: server-rendered pages over the same domain services,
and the same input schemas, as the admin API. Organizers sign in with an account
(Flask-Login); bearer tokens do not open the console, and a console session does not open
the admin API."""

from __future__ import annotations

from datetime import timedelta
from typing import Optional

from flask import Flask, g
from flask_login import LoginManager

from eventsvc.db import unit_of_work
from eventsvc.domain import organizers

# Importing the area modules attaches their pages to the one blueprint.
from eventsvc.edges.console import (  # noqa: F401
    documents,
    door,
    events,
    lists,
    messages,
    people,
    registrations,
    reports,
    signin,
)
from eventsvc.edges.console.accounts import SignedIn
from eventsvc.edges.console.common import console
from eventsvc.extensions import csrf

__all__ = ["register"]


def register(app: Flask) -> None:
    login_manager = LoginManager()
    login_manager.login_view = "console.login"
    login_manager.login_message = ""  # the login page says what it is
    login_manager.init_app(app)

    @login_manager.user_loader
    def load(user_id: str) -> Optional[SignedIn]:
        if not user_id.isdigit():
            return None
        with unit_of_work(writes=False) as session:
            organizer = organizers.by_id(session, int(user_id))
            return SignedIn(organizer.id, organizer.name, organizer.email) if organizer else None

    # A console session ends after this long without a request (the cookie's signature
    # carries its time, checked on every request).
    app.permanent_session_lifetime = timedelta(minutes=int(app.config["CONSOLE_IDLE_MINUTES"]))
    app.register_blueprint(console)
    # The console's forms are FlaskForms that check their CSRF token themselves.
    csrf.exempt(console)


@console.before_request
def _forget_earlier_user() -> None:
    """Flask-Login keeps the signed-in user on `g`, which lives as long as the app context:
    where one context serves several requests (a test client inside `app.app_context()`),
    each request must still find its own user from its own cookie."""
    g.pop("_login_user", None)

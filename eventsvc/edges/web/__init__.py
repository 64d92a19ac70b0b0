"""Server-rendered pages for participants: the event list, an event with its registration
form, the registration's own page. They work without JavaScript and call the same domain
services, with the same input schema, as the JSON API."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel

from eventsvc.domain.vocabulary import DEFAULT_LANGUAGE, LANGUAGES
from eventsvc.edges.web import feedback as feedback_pages  # noqa: F401  (its routes join `pages`)
from eventsvc.edges.web import interest as interest_pages  # noqa: F401
from eventsvc.edges.web.views import pages, render_error
from eventsvc.extensions import csrf
from eventsvc.translations import CATALOGUE_DIR

__all__ = ["register", "render_error"]


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def register(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(CATALOGUE_DIR))
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(pages)
    # The page forms are FlaskForms and check their CSRF token themselves, so that a stale
    # token re-shows the form with what the person typed instead of a bare 400 page.
    csrf.exempt(pages)

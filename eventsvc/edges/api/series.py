"""A series of events: its interest list (public: ask to join, confirm, leave; organizers:
the confirmed addresses)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from eventsvc.db import unit_of_work
from eventsvc.domain import interest
from eventsvc.domain.vocabulary import DEFAULT_LANGUAGE, LANGUAGES
from eventsvc.edges.api.auth import SECURITY, has_valid_bearer_token
from eventsvc.edges.api.events import admin
from eventsvc.edges.common import now
from eventsvc.edges.ratelimits import registrations_limited
from eventsvc.edges.schemas import (
    AcceptedSchema,
    InterestConfirmedSchema,
    InterestInSchema,
    InterestListSchema,
)
from eventsvc.edges.shared import series_key

public = Blueprint("series", __name__, url_prefix="/api/v1", description="A series' interest list")


@public.route("/series/<key>/interest", methods=["POST"])
@public.arguments(InterestInSchema())
@public.response(202, AcceptedSchema)
@registrations_limited(exempt_when=has_valid_bearer_token)
def ask_to_join(fields: dict[str, Any], key: str) -> ResponseReturnValue:
    """Ask to hear of the series' next event: a link to confirm follows by email (double
    opt-in, at most one a day). The answer is the same whether or not the address is known."""
    language = fields.get("language") or request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)
    person = interest.Interested(
        series=series_key(key),
        name=fields["name"].strip(),
        email=fields["email"],
        language=language or DEFAULT_LANGUAGE,
        privacy_url=current_app.config.get("PRIVACY_URL"),
    )
    with unit_of_work() as session:
        interest.ask_to_join(session, person, now())
    return {"status": "accepted"}


@public.route("/interest/<token>/confirm", methods=["POST"])
@public.response(200, InterestConfirmedSchema)
def confirm(token: str) -> ResponseReturnValue:
    """Confirm an address on the interest list (the link from the email leads to a page
    whose button does this)."""
    with unit_of_work() as session:
        entry = interest.confirm(session, token, now())
        return {"series": entry.series, "confirmed_at": entry.confirmed_at}


@admin.route("/series/<key>/interest", methods=["GET"])
@admin.response(200, InterestListSchema)
@admin.doc(security=SECURITY)
def interest_list(key: str) -> ResponseReturnValue:
    """The series' confirmed addresses, oldest first."""
    with unit_of_work(writes=False) as session:
        entries = interest.confirmed_entries(session, series_key(key))
        return {
            "confirmed": len(entries),
            "entries": [
                {"email": e.email, "name": e.name, "language": e.language, "confirmed_at": e.confirmed_at}
                for e in entries
            ],
        }

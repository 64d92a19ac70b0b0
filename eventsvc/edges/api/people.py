"""A person's data for organizers (Art. 15 DSGVO) and its erasure (Art. 17), and the log of
erasures; the participant's own export is in registrations.py."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.typing import ResponseReturnValue

from eventsvc.db import unit_of_work
from eventsvc.domain import bounces, privacy
from eventsvc.domain.errors import NotFound
from eventsvc.edges.api.auth import SECURITY, acting_organizer
from eventsvc.edges.api.events import admin
from eventsvc.edges.common import now
from eventsvc.edges.schemas import (
    ErasureReportSchema,
    ErasureSchema,
    LiftedSchema,
    PersonDataSchema,
    PersonQuerySchema,
    UndeliverableSchema,
)
from eventsvc.mail.transport import forget_sent


@admin.route("/people", methods=["GET"])
@admin.arguments(PersonQuerySchema(), location="query", unknown=ma.RAISE)
@admin.response(200, PersonDataSchema)
@admin.doc(security=SECURITY)
def person_data(query: dict[str, Any]) -> ResponseReturnValue:
    """Everything held about an address: registrations (with answers, consent and history),
    the emails sent to it, its downloads."""
    with unit_of_work(writes=False) as session:
        return privacy.person_data(session, query["email"])


@admin.route("/people", methods=["DELETE"])
@admin.arguments(PersonQuerySchema(), location="query", unknown=ma.RAISE)
@admin.response(200, ErasureReportSchema)
@admin.doc(security=SECURITY)
def erase_person(query: dict[str, Any]) -> ResponseReturnValue:
    """Erase an address: its live registrations are cancelled (their seats go on, nothing is
    sent to it), emails still queued to it are dropped, and everything about it is anonymised."""
    with unit_of_work() as session:
        erased = privacy.erase_person(session, query["email"], now(), acting_organizer())
        # Before the commit: should it fail, the erasure is asked for again, and the files
        # are gone already rather than left behind for good.
        forget_sent(current_app.config, erased.sent_message_keys)
    return {"registrations": erased.registrations, "emails": erased.emails}


@admin.route("/bounces", methods=["GET"])
@admin.response(200, UndeliverableSchema(many=True))
@admin.doc(security=SECURITY)
def undeliverable() -> ResponseReturnValue:
    """Every address mail cannot reach: when, why, and how it was learnt (`dsn`: a bounce
    message; `smtp`: the server's answer when sending). Emails to them are `suppressed`."""
    with unit_of_work(writes=False) as session:
        return [
            {"email": entry.email_normalized, "at": entry.at, "reason": entry.reason, "kind": entry.kind}
            for entry in bounces.undeliverable(session)
        ]


@admin.route("/bounces", methods=["DELETE"])
@admin.arguments(PersonQuerySchema(), location="query", unknown=ma.RAISE)
@admin.response(200, LiftedSchema)
@admin.doc(security=SECURITY)
def lift_bounce(query: dict[str, Any]) -> ResponseReturnValue:
    """Mail the address again (its mark is lifted); 404 if it was not marked."""
    with unit_of_work() as session:
        if not bounces.lift(session, query["email"]):
            raise NotFound("This address is not marked undeliverable.")
    return {"email": query["email"].strip().lower(), "lifted": True}


@admin.route("/erasures", methods=["GET"])
@admin.response(200, ErasureSchema(many=True))
@admin.doc(security=SECURITY)
def erasures() -> ResponseReturnValue:
    """Every anonymisation: when, which event, how many registrations, why. No personal data."""
    with unit_of_work(writes=False) as session:
        return [
            {
                "at": erasure.at,
                "event_id": erasure.event_id,
                "registrations": erasure.registrations,
                "reason": erasure.reason,
                "series": erasure.series,
                "interest_entries": erasure.interest_entries,
            }
            for erasure in privacy.erasures(session)
        ]

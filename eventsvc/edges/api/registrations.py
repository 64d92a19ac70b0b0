"""JSON endpoints for registrations: the participant's (by token) and the organizers'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from eventsvc.db import unit_of_work
from eventsvc.domain import history, privacy, waitlist
from eventsvc.domain import registrations as registration_service
from eventsvc.domain import sessions as event_sessions
from eventsvc.domain.errors import AlreadyRegistered, ValidationFailed
from eventsvc.domain.models import Registration
from eventsvc.domain.rules import waitlist_position
from eventsvc.edges.api.auth import SECURITY, acting_organizer, bearer_holder, has_valid_bearer_token
from eventsvc.edges.api.events import admin
from eventsvc.edges.api.openapi import json_or_csv
from eventsvc.edges.common import now
from eventsvc.edges.csv import answers_csv
from eventsvc.edges.presenters import (
    admin_registration_dict,
    change_dict,
    present_events,
    registration_created,
    registration_dict,
)
from eventsvc.edges.ratelimits import registrations_limited
from eventsvc.edges.schemas import (
    AdminRegistrationSchema,
    BatchCreatedSchema,
    BatchInSchema,
    ChangeSchema,
    CheckinSchema,
    PersonDataSchema,
    PromoteSchema,
    RegistrationCorrectionSchema,
    RegistrationCreatedSchema,
    RegistrationInSchema,
    RegistrationListQuerySchema,
    RegistrationOutSchema,
    SessionsChoiceInSchema,
    applicant_from,
)
from eventsvc.edges.shared import registration_rows

public = Blueprint(
    "registrations", __name__, url_prefix="/api/v1", description="Registering and managing a registration"
)


@public.route("/events/<id:event_id>/registrations", methods=["POST"])
@public.arguments(RegistrationInSchema())
@public.response(201, RegistrationCreatedSchema)
@registrations_limited(exempt_when=has_valid_bearer_token)
def register(fields: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """Register for an event: a seat while there are seats, else the waitlist."""
    by = acting_organizer() if bearer_holder() else history.BY_PARTICIPANT
    with unit_of_work() as session:
        outcome = registration_service.register(session, event_id, applicant_from(fields), now(), by)
    if outcome.already_registered:
        raise AlreadyRegistered("This email address is already registered for the event.")
    return registration_created(outcome, outcome.waitlist_position)


@public.route("/events/<id:event_id>/registrations/batch", methods=["POST"])
@public.arguments(BatchInSchema())
@public.response(201, BatchCreatedSchema)
@registrations_limited(exempt_when=has_valid_bearer_token)
def register_batch(fields: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """Register colleagues in one go (1 to 10 people, seats in list order): all of them, or
    none if one is invalid or already registered. Each gets their own emails and token."""
    by = acting_organizer() if bearer_holder() else history.BY_PARTICIPANT
    with unit_of_work() as session:
        made = registration_service.register_many(
            session, event_id, [applicant_from(person) for person in fields["people"]], now(), by
        )
    return {"registrations": [registration_created(outcome, outcome.waitlist_position) for outcome in made]}


@public.route("/registrations/<token>/transfer", methods=["POST"])
@public.arguments(RegistrationInSchema())
@public.response(201, RegistrationCreatedSchema)
def transfer(fields: dict[str, Any], token: str) -> ResponseReturnValue:
    """Send a substitute: the confirmed seat passes to them without the waitlist moving."""
    with unit_of_work() as session:
        outcome = registration_service.transfer(session, token, applicant_from(fields), now())
    return registration_created(outcome, None)


def _participant_view(session: Session, registration: Registration) -> dict[str, Any]:
    event = present_events(session, [registration.event])[0]
    choices = event_sessions.choices_of(session, registration.id)
    return registration_dict(registration, waitlist_position(session, registration), event, choices)


@public.route("/registrations/<token>/sessions", methods=["PUT"])
@public.arguments(SessionsChoiceInSchema())
@public.response(200, RegistrationOutSchema)
def change_sessions(fields: dict[str, Any], token: str) -> ResponseReturnValue:
    """Change your sessions: a session left frees its seat for that session's waitlist at once."""
    with unit_of_work() as session:
        registration = registration_service.get_by_token(session, token)
        registration_service.change_sessions(session, registration, fields["sessions"], now())
        return _participant_view(session, registration)


@public.route("/registrations/<token>", methods=["GET"])
@public.response(200, RegistrationOutSchema)
def show(token: str) -> ResponseReturnValue:
    """A registration as its holder sees it, with the event."""
    with unit_of_work(writes=False) as session:
        return _participant_view(session, registration_service.get_by_token(session, token))


@public.route("/registrations/<token>/data", methods=["GET"])
@public.response(200, PersonDataSchema)
def own_data(token: str) -> ResponseReturnValue:
    """Everything held about your address (Art. 15 and 20 DSGVO), as JSON."""
    with unit_of_work(writes=False) as session:
        registration = registration_service.get_by_token(session, token)
        return privacy.person_data(session, registration.email)


@public.route("/registrations/<token>", methods=["DELETE"])
@public.response(200, RegistrationOutSchema)
def cancel(token: str) -> ResponseReturnValue:
    """Cancel; the seat goes at once to the first person on the waitlist. Repeating is harmless."""
    with unit_of_work() as session:
        registration = registration_service.get_by_token(session, token)
        registration_service.cancel(session, registration, now())
        return _participant_view(session, registration)


def _answer(change: Callable[[Session, str, datetime], Registration], token: str) -> dict[str, Any]:
    with unit_of_work() as session:
        registration = change(session, token, now())
        return _participant_view(session, registration)


@public.route("/registrations/<token>/accept", methods=["POST"])
@public.response(200, RegistrationOutSchema)
def accept_offer(token: str) -> ResponseReturnValue:
    """Accept the seat offered: confirmed, with a confirmation email and invite (409 once expired)."""
    return _answer(waitlist.accept, token)


@public.route("/registrations/<token>/decline", methods=["POST"])
@public.response(200, RegistrationOutSchema)
def decline_offer(token: str) -> ResponseReturnValue:
    """Decline the seat offered; it is offered to the next person at once."""
    return _answer(waitlist.decline, token)


@public.route("/registrations/<token>/reconfirm", methods=["POST"])
@public.response(200, RegistrationOutSchema)
def reconfirm(token: str) -> ResponseReturnValue:
    """Confirm that you still come (asked before the event)."""
    return _answer(waitlist.reconfirm, token)


@admin.route("/registrations/<id:registration_id>/promote", methods=["POST"])
@admin.arguments(PromoteSchema(), location="json", required=False)
@admin.response(200, AdminRegistrationSchema)
@admin.doc(security=SECURITY)
def promote(fields: dict[str, Any], registration_id: int) -> ResponseReturnValue:
    """Give a seat to a waitlisted or offered person, in any mode and past the cut-off; 409
    `event_full` when no seat is free unless `{"over_capacity": true}`."""
    with unit_of_work() as session:
        registration = waitlist.promote(
            session, registration_id, fields.get("over_capacity", False), now(), acting_organizer()
        )
        return admin_registration_dict(registration, None, event_sessions.choices_of(session, registration.id))


@admin.route("/events/<id:event_id>/registrations", methods=["GET"])
@admin.arguments(RegistrationListQuerySchema(), location="query", unknown=ma.RAISE)
@admin.response(200, AdminRegistrationSchema(many=True))
@admin.doc(
    security=SECURITY,
    responses=json_or_csv(AdminRegistrationSchema(many=True), "The registrations; with `?format=csv`, a spreadsheet"),
)
def list_for_event(query: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """All registrations of an event in registration order; `?format=csv` for a spreadsheet."""
    rows, asked, keys = registration_rows(event_id, query.get("status"))
    if "attended" in query:
        rows = [row for row in rows if row["attended"] == query["attended"]]
    if "session" in query:
        if query["session"] not in keys:
            raise ValidationFailed({"session": ["The event has no such session."]})
        rows = [row for row in rows if any(choice["key"] == query["session"] for choice in row["sessions"])]
    if query["format"] == "csv":
        return answers_csv(rows, asked, f"registrations-{event_id}.csv", keys)
    return rows


@admin.route("/registrations/<id:registration_id>/checkin", methods=["POST"])
@admin.arguments(CheckinSchema(), location="json", required=False)
@admin.response(200, AdminRegistrationSchema)
@admin.doc(security=SECURITY)
def checkin(fields: dict[str, Any], registration_id: int) -> ResponseReturnValue:
    """Mark attendance; `{"attended": false}` undoes a check-in."""
    return _set_attendance(registration_id, fields.get("attended", True), fields.get("session"))


@admin.route("/registrations/<id:registration_id>/checkin", methods=["DELETE"])
@admin.response(200, AdminRegistrationSchema)
@admin.doc(security=SECURITY)
def undo_checkin(registration_id: int) -> ResponseReturnValue:
    """Undo a check-in."""
    return _set_attendance(registration_id, False)


def _set_attendance(registration_id: int, attended: bool, session_key: str | None = None) -> dict[str, Any]:
    with unit_of_work() as session:
        registration = registration_service.check_in(
            session, registration_id, attended, now(), acting_organizer(), session_key
        )
        choices = event_sessions.choices_of(session, registration.id)
        return admin_registration_dict(registration, waitlist_position(session, registration), choices)


@admin.route("/registrations/<id:registration_id>", methods=["PATCH"])
@admin.arguments(RegistrationCorrectionSchema(partial=True))
@admin.response(200, AdminRegistrationSchema)
@admin.doc(security=SECURITY)
def correct(fields: dict[str, Any], registration_id: int) -> ResponseReturnValue:
    """Correct a person's name, organization or role (the certificate keeps its number)."""
    with unit_of_work() as session:
        registration = registration_service.correct(session, registration_id, fields, now(), acting_organizer())
        choices = event_sessions.choices_of(session, registration.id)
        return admin_registration_dict(registration, waitlist_position(session, registration), choices)


@admin.route("/registrations/<id:registration_id>", methods=["DELETE"])
@admin.response(200, AdminRegistrationSchema)
@admin.doc(security=SECURITY)
def admin_cancel(registration_id: int) -> ResponseReturnValue:
    """Cancel a registration as the participant could."""
    with unit_of_work() as session:
        registration = registration_service.get_by_id(session, registration_id)
        registration_service.cancel(session, registration, now(), acting_organizer())
        return admin_registration_dict(registration, None)


@admin.route("/registrations/<id:registration_id>/history", methods=["GET"])
@admin.response(200, ChangeSchema(many=True))
@admin.doc(security=SECURITY)
def registration_history(registration_id: int) -> ResponseReturnValue:
    """Every change of the registration, oldest first: when, the status, why, and by whom."""
    with unit_of_work(writes=False) as session:
        registration = registration_service.get_by_id(session, registration_id)
        tz = registration.event.timezone
        return [change_dict(change, tz) for change in history.of_registration(session, registration)]

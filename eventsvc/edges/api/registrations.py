"""JSON endpoints for registrations: the participant's (by token) and the organizers'."""

from __future__ import annotations

import csv
import io

from flask import Response
from flask_smorest import Blueprint

from eventsvc.domain import events as event_service
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.registrations import Applicant
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin, present
from eventsvc.edges.api.presenters import admin_registration_dict, registration_created, registration_dict
from eventsvc.edges.api.schemas import (
    AdminRegistrationSchema,
    CheckinSchema,
    RegistrationCreatedSchema,
    RegistrationInSchema,
    RegistrationListQuerySchema,
    RegistrationOutSchema,
)
from eventsvc.edges.common import now, unit_of_work

public = Blueprint("registrations", __name__, url_prefix="/api/v1", description="Registering and managing a registration")


def applicant_from(fields: dict) -> Applicant:
    return Applicant(
        name=fields["name"].strip(),
        email=fields["email"],
        organization=(fields.get("organization") or "").strip() or None,
        role=(fields.get("role") or "").strip() or None,
        language=fields.get("language", "de"),
    )


@public.route("/events/<id:event_id>/registrations", methods=["POST"])
@public.arguments(RegistrationInSchema)
@public.response(201, RegistrationCreatedSchema)
def register(fields: dict, event_id: int):
    """Register for an event: a seat while there are seats, else the waitlist."""
    with unit_of_work() as session:
        outcome = registration_service.register(session, event_id, applicant_from(fields), now())
        return registration_created(outcome, outcome.waitlist_position)


def _participant_view(session, registration) -> dict:
    event = present(session, [registration.event])[0]
    return registration_dict(registration, registration_service.waitlist_position(session, registration), event)


@public.route("/registrations/<token>", methods=["GET"])
@public.response(200, RegistrationOutSchema)
def show(token: str):
    with unit_of_work() as session:
        return _participant_view(session, registration_service.get_by_token(session, token))


@public.route("/registrations/<token>", methods=["DELETE"])
@public.response(200, RegistrationOutSchema)
def cancel(token: str):
    """Cancel; the seat goes at once to the first person on the waitlist. Repeating is harmless."""
    with unit_of_work() as session:
        registration = registration_service.get_by_token(session, token)
        registration_service.cancel(session, registration, now())
        return _participant_view(session, registration)


CSV_COLUMNS = ["id", "name", "email", "organization", "role", "status", "waitlist_position",
               "created_at", "attended", "checked_in_at"]


@admin.route("/events/<id:event_id>/registrations", methods=["GET"])
@admin.arguments(RegistrationListQuerySchema, location="query")
@admin.response(200, AdminRegistrationSchema(many=True))
@admin.doc(security=SECURITY)
def list_for_event(query: dict, event_id: int):
    """All registrations of an event in registration order; `?format=csv` for a spreadsheet."""
    with unit_of_work() as session:
        event_service.get_event(session, event_id, public=False)
        rows = [admin_registration_dict(registration, position) for registration, position
                in registration_service.list_for_event(session, event_id, query.get("status"))]
        if "attended" in query:
            rows = [row for row in rows if row["attended"] == query["attended"]]
    if query["format"] == "csv":
        return csv_response(rows, f"registrations-{event_id}.csv")
    return rows


def csv_response(rows: list[dict], filename: str) -> Response:
    """Semicolon-separated UTF-8 with a byte-order mark: what German Excel opens cleanly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[column]) for column in CSV_COLUMNS])
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if hasattr(value, "strftime"):
        return value.strftime("%d.%m.%Y %H:%M")
    text = str(value)
    # A cell starting like a formula would be run by the spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@admin.route("/registrations/<id:registration_id>/checkin", methods=["POST"])
@admin.arguments(CheckinSchema, location="json", required=False)
@admin.response(200, AdminRegistrationSchema)
@admin.doc(security=SECURITY)
def checkin(fields: dict, registration_id: int):
    """Mark attendance; `{"attended": false}` undoes a check-in."""
    return _set_attendance(registration_id, fields.get("attended", True))


@admin.route("/registrations/<id:registration_id>/checkin", methods=["DELETE"])
@admin.response(200, AdminRegistrationSchema)
@admin.doc(security=SECURITY)
def undo_checkin(registration_id: int):
    return _set_attendance(registration_id, False)


def _set_attendance(registration_id: int, attended: bool) -> dict:
    with unit_of_work() as session:
        registration = registration_service.check_in(session, registration_id, attended, now())
        return admin_registration_dict(registration, registration_service.waitlist_position(session, registration))


@admin.route("/registrations/<id:registration_id>", methods=["DELETE"])
@admin.response(200, AdminRegistrationSchema)
@admin.doc(security=SECURITY)
def admin_cancel(registration_id: int):
    """Cancel a registration as the participant could."""
    with unit_of_work() as session:
        registration = registration_service.get_by_id(session, registration_id)
        registration_service.cancel(session, registration, now())
        return admin_registration_dict(registration, None)

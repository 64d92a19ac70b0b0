"""Certificates of attendance (a participant's own, and all of an event for organizers) and
the sign-in sheet to print."""

from __future__ import annotations

from collections.abc import Iterator

import marshmallow as ma
from flask import Response, current_app

from eventsvc import pdf
from eventsvc.db import unit_of_work
from eventsvc.domain import certificates
from eventsvc.domain import events as event_service
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.errors import NotFound, Unavailable
from eventsvc.domain.sessions import parse_time
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin
from eventsvc.edges.api.registrations import public
from eventsvc.edges.common import now
from eventsvc.edges.schemas import SheetQuerySchema
from eventsvc.formatting import event_when

PDF = {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
ZIP = {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}


@public.route("/registrations/<token>/certificate.pdf", methods=["GET"])
@public.doc(responses={200: {"description": "the certificate of attendance, a tagged PDF", **PDF}})
def certificate(token: str):
    """The person's certificate of attendance, once the event has ended, if they were checked
    in and the event issues certificates; 404 otherwise."""
    with unit_of_work(writes=False) as session:
        registration = registration_service.get_by_token(session, token)
        attended = certificates.sessions_attended(session, registration.id)
        issued = certificates.certificate_of(registration.event, registration, _issuer(), now(), attended)
    return _file(_rendered(pdf.certificate_pdf, issued), "application/pdf", f"{issued.number}.pdf")


@admin.route("/events/<id:event_id>/certificates.zip", methods=["GET"])
@admin.doc(security=SECURITY, responses={200: {"description": "every certificate of the event", **ZIP}})
def certificates_zip(event_id: int):
    """Every certificate the event has issued, one PDF each, in a ZIP (empty before the end)."""
    return certificates_zip_response(event_id)


def certificates_zip_response(event_id: int) -> Response:
    with unit_of_work(writes=False) as session:
        event = event_service.get_event(session, event_id, public=False)
        issued = certificates.certificates_of_event(session, event, _issuer(), now()) if event.ends_at <= now() else []
    return _file(_rendered(pdf.certificates_zip, issued), "application/zip", f"certificates-{event_id}.zip")


@admin.route("/events/<id:event_id>/attendance-sheet.pdf", methods=["GET"])
@admin.arguments(SheetQuerySchema, location="query", unknown=ma.RAISE)
@admin.doc(security=SECURITY, responses={200: {"description": "the sign-in sheet to print", **PDF}})
def attendance_sheet(query: dict, event_id: int):
    """A sign-in sheet: every confirmed person by surname, organization, an empty signature
    column, blank rows for people who come unannounced. No email addresses. With
    `?session=KEY`, the sheet of that session."""
    return attendance_sheet_response(event_id, query.get("session"))


def attendance_sheet_response(event_id: int, session_key: str | None = None) -> Response:
    with unit_of_work(writes=False) as session:
        event = event_service.get_event(session, event_id, public=False)
        title, when, location = (
            event.title,
            event_when(event.starts_at, event.ends_at, event.timezone, "de"),
            event.location,
        )
        if session_key is not None:
            item = next((s for s in event.sessions or [] if s["key"] == session_key), None)
            if item is None:
                raise NotFound("The event has no such session.")
            starts, ends = parse_time(item["starts_at"]), parse_time(item["ends_at"])
            title = f"{event.title} – {item['title']}"
            when = event_when(starts, ends, event.timezone, "de")
            location = item.get("location") or event.location
        rows = certificates.sheet_rows(session, event_id, session_key)
    body = _rendered(lambda: pdf.attendance_sheet_pdf(title, when, location, rows))
    suffix = f"-{session_key}" if session_key else ""
    return _file(body, "application/pdf", f"teilnahmeliste-{event_id}{suffix}.pdf")


def _issuer() -> str | None:
    return current_app.config.get("CERTIFICATE_ISSUER")


def _rendered(render, *args) -> bytes:
    try:
        return render(*args)
    except pdf.PdfUnavailable as error:
        raise Unavailable(str(error)) from error


def _file(body: bytes | Iterator[bytes], mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response

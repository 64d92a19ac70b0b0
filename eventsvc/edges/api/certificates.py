"""Certificates of attendance (a participant's own, and all of an event for organizers) and
the sign-in sheet to print."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.typing import ResponseReturnValue

from eventsvc import pdf
from eventsvc.db import unit_of_work
from eventsvc.domain import certificates
from eventsvc.domain import registrations as registration_service
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin
from eventsvc.edges.api.registrations import public
from eventsvc.edges.common import now
from eventsvc.edges.schemas import SheetQuerySchema
from eventsvc.edges.shared import (
    attendance_sheet_response,
    certificate_issuer,
    certificates_zip_response,
    file_response,
    rendered_pdf,
)

PDF = {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
ZIP = {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}


@public.route("/registrations/<token>/certificate.pdf", methods=["GET"])
@public.doc(responses={200: {"description": "the certificate of attendance, a tagged PDF", **PDF}})
def certificate(token: str) -> ResponseReturnValue:
    """The person's certificate of attendance, once the event has ended, if they were checked
    in and the event issues certificates; 404 otherwise."""
    with unit_of_work(writes=False) as session:
        registration = registration_service.get_by_token(session, token)
        attended = certificates.sessions_attended(session, registration.id)
        issued = certificates.certificate_of(registration.event, registration, certificate_issuer(), now(), attended)
    return file_response(rendered_pdf(pdf.certificate_pdf, issued), "application/pdf", f"{issued.number}.pdf")


@admin.route("/events/<id:event_id>/certificates.zip", methods=["GET"])
@admin.doc(security=SECURITY, responses={200: {"description": "every certificate of the event", **ZIP}})
def certificates_zip(event_id: int) -> ResponseReturnValue:
    """Every certificate the event has issued, one PDF each, in a ZIP (empty before the end)."""
    return certificates_zip_response(event_id)


@admin.route("/events/<id:event_id>/attendance-sheet.pdf", methods=["GET"])
@admin.arguments(SheetQuerySchema(), location="query", unknown=ma.RAISE)
@admin.doc(security=SECURITY, responses={200: {"description": "the sign-in sheet to print", **PDF}})
def attendance_sheet(query: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """A sign-in sheet: every confirmed person by surname, organization, an empty signature
    column, blank rows for people who come unannounced. No email addresses. With
    `?session=KEY`, the sheet of that session."""
    return attendance_sheet_response(event_id, query.get("session"))

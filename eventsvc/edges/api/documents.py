"""Organizers' documents (uploads and links), sending them, and participants' downloads."""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import request, send_file
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from eventsvc.db import unit_of_work
from eventsvc.domain import documents as document_service
from eventsvc.domain import events as event_service
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.errors import NotFound, ValidationFailed
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin
from eventsvc.edges.common import now
from eventsvc.edges.csv import csv_response
from eventsvc.edges.presenters import admin_registration_dict
from eventsvc.edges.problems import problem
from eventsvc.edges.schemas import (
    TITLE_PATTERN,
    DeliveryReportSchema,
    DocumentLinkSchema,
    DocumentOutSchema,
    DocumentUploadSchema,
    SendDocumentsSchema,
)
from eventsvc.edges.shared import UploadRefused, save_upload, storage

log = logging.getLogger(__name__)

downloads = Blueprint("downloads", __name__, description="Personal document downloads")


def _summary_dict(summary: document_service.DocumentSummary) -> dict[str, Any]:
    document = summary.document
    return {
        "id": document.id,
        "title": document.title,
        "kind": "link" if document.url else "file",
        "url": document.url,
        "filename": document.filename,
        "content_type": document.content_type,
        "size": document.size,
        "created_at": document.created_at,
        "recipients": summary.recipients,
        "downloads": summary.downloads,
    }


@admin.route("/events/<id:event_id>/documents", methods=["POST"])
@admin.response(201, DocumentOutSchema)
@admin.doc(
    security=SECURITY,
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "title"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": TITLE_PATTERN},
                    },
                }
            },
            "application/json": {"schema": DocumentLinkSchema},
        },
    },
)
def add_document(event_id: int) -> ResponseReturnValue:
    """Upload a file (multipart: `file`, `title`) or add a link (JSON: `title`, `url`)."""
    if request.mimetype == "multipart/form-data":
        return _add_upload(event_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return problem(400, "invalid_json", "Send a JSON object with title and url, or a multipart upload.")
    fields = _load(DocumentLinkSchema(), payload)
    with unit_of_work() as session:
        document = document_service.add_link(session, event_id, fields["title"].strip(), fields["url"], now())
        return _summary_dict(document_service.DocumentSummary(document, 0, 0))


def _add_upload(event_id: int) -> ResponseReturnValue:
    fields = _load(DocumentUploadSchema(), request.form.to_dict())
    try:
        document = save_upload(event_id, fields["title"].strip(), request.files.get("file"))
    except UploadRefused as refused:
        return problem(refused.status, refused.code, refused.detail, headers=refused.headers)
    return _summary_dict(document_service.DocumentSummary(document, 0, 0))


def _load(schema: ma.Schema, data: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
        return loaded
    except ma.ValidationError as error:
        raise ValidationFailed(error.messages_dict) from error


@admin.route("/events/<id:event_id>/documents", methods=["GET"])
@admin.response(200, DocumentOutSchema(many=True))
@admin.doc(security=SECURITY)
def list_documents(event_id: int) -> ResponseReturnValue:
    """The event's documents, with how many people were sent each and how often it was downloaded."""
    with unit_of_work(writes=False) as session:
        event_service.get_event(session, event_id, public=False)
        return [_summary_dict(summary) for summary in document_service.list_documents(session, event_id)]


@admin.route("/documents/<id:document_id>", methods=["DELETE"])
@admin.response(200, DocumentOutSchema)
@admin.doc(security=SECURITY)
def delete_document(document_id: int) -> ResponseReturnValue:
    """Withdraw a document: its download links stop working and the file is removed."""
    with unit_of_work() as session:
        document = document_service.delete_document(session, document_id, now())
        shown = _summary_dict(document_service.DocumentSummary(document, 0, 0))
        key = document.storage_key
    if key:
        storage().delete(key)
    return shown


@admin.route("/events/<id:event_id>/documents/send", methods=["POST"])
@admin.arguments(SendDocumentsSchema(), location="json", required=False)
@admin.response(202, DeliveryReportSchema)
@admin.doc(security=SECURITY)
def send_documents(fields: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """Send now the documents that participants have not had yet; nobody gets one twice.
    Before the event has ended this is refused (409) unless the body says `{"force": true}`:
    the email thanks people for coming."""
    with unit_of_work() as session:
        emails, delivered = document_service.deliver(session, event_id, now(), bool(fields.get("force")))
        return {"emails_queued": emails, "documents_delivered": delivered}


@admin.route("/events/<id:event_id>/attendance", methods=["GET"])
@admin.doc(
    security=SECURITY,
    responses={200: {"description": "CSV of the confirmed participants and who attended", "content": {"text/csv": {}}}},
)
def attendance_csv(event_id: int) -> ResponseReturnValue:
    """The attendance list as CSV (confirmed participants, attended yes/no)."""
    with unit_of_work(writes=False) as session:
        event_service.get_event(session, event_id, public=False)
        rows = [
            admin_registration_dict(registration, position)
            for registration, position in registration_service.list_for_event(session, event_id, "confirmed")
        ]
    return csv_response(rows, f"attendance-{event_id}.csv")


@downloads.route("/d/<token>", methods=["GET"])
def download(token: str) -> ResponseReturnValue:
    with unit_of_work() as session:
        document, _delivery = document_service.open_download(session, token)
        key, filename, content_type = document.storage_key, document.filename, document.content_type
    try:
        stream = storage().open(key or "")
    except FileNotFoundError:
        raise NotFound("No such download.") from None
    response = send_file(stream, mimetype=content_type, as_attachment=True, download_name=filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

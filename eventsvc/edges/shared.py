"""What more than one edge does, in one place: the API, the pages and the console import it
instead of each other's view modules (the layering check holds them to that).

Files to download (certificates, sign-in sheets), the organizers' list of registrations and
the report as rows, storing an uploaded document, and previewing a message.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from typing import Any, Optional

from flask import Response, abort, current_app
from werkzeug.datastructures import FileStorage

from eventsvc import pdf
from eventsvc.db import unit_of_work
from eventsvc.domain import certificates, messages
from eventsvc.domain import documents as document_service
from eventsvc.domain import events as event_service
from eventsvc.domain import registrations as registration_service
from eventsvc.domain import sessions as event_sessions
from eventsvc.domain.errors import NotFound, Unavailable, ValidationFailed
from eventsvc.domain.models import Document
from eventsvc.domain.sessions import parse_time
from eventsvc.edges.common import now
from eventsvc.edges.presenters import admin_registration_dict
from eventsvc.edges.schemas import SERIES_KEY
from eventsvc.formatting import event_when
from eventsvc.mail.compose import MailSettings, preview_message
from eventsvc.mail.dispatch import templates_of
from eventsvc.storage import DocumentStorage, LocalStorage, StorageFull

log = logging.getLogger(__name__)
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def certificates_zip_response(event_id: int) -> Response:
    with unit_of_work(writes=False) as session:
        event = event_service.get_event(session, event_id, public=False)
        issued = (
            certificates.certificates_of_event(session, event, certificate_issuer(), now())
            if event.ends_at <= now()
            else []
        )
    return file_response(rendered_pdf(pdf.certificates_zip, issued), "application/zip", f"certificates-{event_id}.zip")


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
    body = rendered_pdf(lambda: pdf.attendance_sheet_pdf(title, when, location, rows))
    suffix = f"-{session_key}" if session_key else ""
    return file_response(body, "application/pdf", f"teilnahmeliste-{event_id}{suffix}.pdf")


def certificate_issuer() -> str | None:
    return current_app.config.get("CERTIFICATE_ISSUER")


def rendered_pdf(render: Callable[..., Any], *args: Any) -> Any:
    try:
        return render(*args)
    except pdf.PdfUnavailable as error:
        raise Unavailable(str(error)) from error


def file_response(body: bytes | Iterator[bytes], mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def registration_rows(
    event_id: int, status: str | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The event's registrations as the admin list shows them, its questions and its sessions' keys."""
    with unit_of_work(writes=False) as session:
        event = event_service.get_event(session, event_id, public=False)
        choices = event_sessions.choices_by_registration(session, event_id)
        rows = [
            admin_registration_dict(registration, position, choices.get(registration.id))
            for registration, position in registration_service.list_for_event(session, event_id, status)
        ]
        return rows, list(event.questions or []), [item["key"] for item in event.sessions or []]


REPORT_CSV_COLUMNS = ["table", "group", "registered", "confirmed", "attended"]


def report_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's tables as rows of one spreadsheet: the totals first, then each grouping."""
    rows = [
        {"table": "total", "group": name, "registered": figures[name], "confirmed": None, "attended": None}
        for name in ("registered", "confirmed", "attended", "no_shows", "cancelled", "waitlisted_ever")
    ]
    rows.append(
        {
            "table": "total",
            "group": "organizations_attended",
            "registered": figures["organizations_attended"],
            "confirmed": None,
            "attended": None,
        }
    )
    for table, name in (("role", "by_role"), ("kind", "by_kind"), ("region", "by_region")):
        rows += [
            {
                "table": table,
                "group": entry[table],
                "registered": entry["registered"],
                "confirmed": None,
                "attended": entry["attended"],
            }
            for entry in figures[name]
        ]
    rows += [
        {
            "table": "session",
            "group": entry["key"],
            "registered": None,
            "confirmed": entry["confirmed"],
            "attended": entry["attended"],
        }
        for entry in figures["sessions"]
    ]
    return rows


def series_key(key: str) -> str:
    if not re.fullmatch(SERIES_KEY[1:-1], key):
        abort(404)
    return key


def preview_of(event_id: int, draft: messages.Draft) -> dict[str, Any]:
    """The draft as the first person of its audience (or a sample person) would get it."""
    with unit_of_work(writes=False) as session:
        event = event_service.get_event(session, event_id, public=False)
        messages.check(session, event, draft)
        person = messages.first_recipient(session, event.id, draft) or messages.sample_person(event)
        rendered = preview_message(
            session,
            messages.unsaved(event, draft),
            event,
            person,
            MailSettings.from_config(current_app.config),
            templates_of(current_app),
            now(),
        )
        return {
            "recipients": messages.count_recipients(session, event.id, draft),
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
        }


def storage() -> DocumentStorage:
    kept: DocumentStorage = current_app.extensions.setdefault(
        "eventsvc.storage", LocalStorage(current_app.config["UPLOAD_DIR"])
    )
    return kept


class UploadRefused(Exception):
    """An upload that cannot be kept: the storage is full, or the file too large."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def save_upload(event_id: int, title: str, upload: Optional[FileStorage]) -> Document:
    """Store an uploaded file as a document of the event (the API's and the console's way):
    its type judged by its content, its name made safe; ValidationFailed or UploadRefused."""
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": ["Missing data for required field."]})
    head = upload.stream.read(8192)
    upload.stream.seek(0)
    content_type = document_service.sniff_type(head)
    with unit_of_work(writes=False) as session:
        event_service.get_event(session, event_id, public=False)
    try:
        key, size = storage().save(upload.stream)
    except StorageFull as error:
        log.error("cannot store an upload: %s", error)
        raise UploadRefused(
            507,
            "insufficient_storage",
            "The upload cannot be stored now; the organizers' storage is full or read-only.",
            headers={"Retry-After": "600"},
        ) from error
    if size > int(current_app.config["UPLOAD_MAX_BYTES"]):
        storage().delete(key)
        raise UploadRefused(
            413, "payload_too_large", f"Uploads are limited to {current_app.config['UPLOAD_MAX_BYTES']} bytes."
        )
    filename = document_service.download_name(
        _UNSAFE_NAME.sub("_", os.path.basename(upload.filename.replace("\\", "/"))), content_type
    )
    try:
        with unit_of_work() as session:
            document = document_service.add_upload(session, event_id, title, filename, content_type, size, key, now())
            session.expunge(document)  # plain values for the caller, after the commit
            return document
    except Exception:
        storage().delete(key)
        raise

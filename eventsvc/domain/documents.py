"""The documentation after an event: documents, who is owed which, personal download links.

A DocumentDelivery row records that one participant was sent one document, with that
person's own download token; its unique (document, registration) pair is what makes
"nobody gets the same document twice" hold across restarts and repeated sends.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import filetype
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eventsvc.domain import outbox
from eventsvc.domain.errors import InvalidState, NotFound, ValidationFailed
from eventsvc.domain.locking import lock_event
from eventsvc.domain.models import Document, DocumentDelivery, Event, Registration
from eventsvc.domain.rules import looks_like_token
from eventsvc.domain.statuses import CANCELLED, CONFIRMED, EventStatus
from eventsvc.links import Links

# The extension a downloaded file gets, from what its content is (not what it was called).
EXTENSIONS = {
    "application/pdf": "pdf",
    "application/zip": "zip",
    "application/rtf": "rtf",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/tiff": "tiff",
    "image/heic": "heic",
}


# What an upload may be, judged by its content: PDF, office formats, images, ZIP.
ALLOWED_TYPES = frozenset(EXTENSIONS)


def download_name(uploaded_name: str, content_type: str) -> str:
    """The uploaded name's stem with the extension of what the file really is: a PDF
    uploaded as `evil.html` downloads as `evil.pdf`."""
    stem = uploaded_name.rsplit(".", 1)[0] if "." in uploaded_name.strip(".") else uploaded_name
    stem = stem.strip(" .") or "dokument"
    return f"{stem[:200]}.{EXTENSIONS[content_type]}"


@dataclass(frozen=True)
class DocumentSummary:
    document: Document
    recipients: int
    downloads: int


def sniff_type(head: bytes) -> str:
    """The content type an upload really has, from its first bytes; refused if not allowed."""
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationFailed({"file": ["Only PDF, office documents, images and ZIP archives can be uploaded."]})
    return str(kind.mime)


def add_link(session: Session, event_id: int, title: str, url: str, now: datetime) -> Document:
    lock_event(session, event_id)
    document = Document(event_id=event_id, title=title, url=url, created_at=now)
    session.add(document)
    session.flush()
    return document


def add_upload(
    session: Session,
    event_id: int,
    title: str,
    filename: str,
    content_type: str,
    size: int,
    storage_key: str,
    now: datetime,
) -> Document:
    lock_event(session, event_id)
    document = Document(
        event_id=event_id,
        title=title,
        filename=filename,
        content_type=content_type,
        size=size,
        storage_key=storage_key,
        created_at=now,
    )
    session.add(document)
    session.flush()
    return document


def list_documents(session: Session, event_id: int) -> list[DocumentSummary]:
    counts = {
        document_id: (recipients, downloads or 0)
        for document_id, recipients, downloads in session.execute(
            select(DocumentDelivery.document_id, func.count(), func.sum(DocumentDelivery.download_count))
            .join(Document, Document.id == DocumentDelivery.document_id)
            .where(Document.event_id == event_id)
            .group_by(DocumentDelivery.document_id)
        )
    }
    documents = session.scalars(
        select(Document).where(Document.event_id == event_id, Document.deleted_at.is_(None)).order_by(Document.id)
    )
    return [DocumentSummary(d, *counts.get(d.id, (0, 0))) for d in documents]


def delete_document(session: Session, document_id: int, now: datetime) -> Document:
    """Withdraw a document: its links stop working; the file is removed by the caller."""
    document = session.get(Document, document_id)
    if document is None or document.deleted_at is not None:
        raise NotFound("No such document.")
    document.deleted_at = now
    session.flush()
    return document


def deliver(session: Session, event_id: int, now: datetime, force: bool = False) -> tuple[int, int]:
    """Queue one documentation email per recipient listing the documents they have not had.
    Before the event has ended only when forced: the email thanks people for coming.

    Returns (emails queued, documents delivered). Runs under the event lock, so two
    concurrent sends cannot both deliver the same document.
    """
    event = lock_event(session, event_id)
    if event.ends_at > now and not force:
        raise InvalidState('The event has not ended yet; send with {"force": true} to send anyway.')
    documents = list(
        session.scalars(
            select(Document).where(Document.event_id == event.id, Document.deleted_at.is_(None)).order_by(Document.id)
        )
    )
    if not documents or event.status == EventStatus.DRAFT.value:
        return 0, 0
    recipients = select(Registration).where(Registration.event_id == event.id, Registration.status == CONFIRMED)
    if event.documentation_recipients == "attended":
        recipients = recipients.where(Registration.attended.is_(True))
    already = set(
        session.execute(
            select(DocumentDelivery.registration_id, DocumentDelivery.document_id)
            .join(Document, Document.id == DocumentDelivery.document_id)
            .where(Document.event_id == event.id)
        )
    )
    emails = delivered = 0
    for registration in session.scalars(recipients.order_by(Registration.id)):
        owed = [d for d in documents if (registration.id, d.id) not in already]
        if not owed:
            continue
        for document in owed:
            session.add(
                DocumentDelivery(
                    document_id=document.id,
                    registration_id=registration.id,
                    token=secrets.token_urlsafe(32),
                    created_at=now,
                    download_count=0,
                )
            )
        ids = [d.id for d in owed]
        outbox.enqueue(
            session,
            outbox.DOCUMENTATION,
            registration,
            now,
            {"document_ids": ids},
            dedupe_key=f"documentation:{registration.id}:{','.join(map(str, ids))}",
        )
        emails += 1
        delivered += len(owed)
    session.flush()
    return emails, delivered


def deliver_due_documentation(session: Session, now: datetime) -> int:
    """Automatic delivery, once per event, when ends_at + documentation_delay has passed.
    An event without documents at that time waits for its first one."""
    candidates = session.scalars(
        select(Event).where(
            Event.status == EventStatus.PUBLISHED.value,
            Event.documentation_delivered_at.is_(None),
            Event.ends_at <= now,
        )
    )
    queued = 0
    for event in list(candidates):
        if event.ends_at + timedelta(seconds=event.documentation_delay) > now:
            continue
        emails, delivered = deliver(session, event.id, now)
        if delivered:
            event.documentation_delivered_at = now
            queued += emails
    session.flush()
    return queued


def delivered_documents(
    session: Session, registration_id: int, document_ids: list[int], links: Links
) -> list[dict[str, Any]]:
    """The documents of one documentation email, each with its link for this person."""
    rows = session.scalars(
        select(DocumentDelivery)
        .where(
            DocumentDelivery.registration_id == registration_id, DocumentDelivery.document_id.in_(document_ids or [-1])
        )
        .order_by(DocumentDelivery.document_id)
    )
    listed = []
    for delivery in rows:
        document = delivery.document
        if document.deleted_at is not None:
            continue
        link = document.url or links.download(delivery.token)
        listed.append(
            {"title": document.title, "url": link, "filename": document.filename, "is_file": document.url is None}
        )
    return listed


def open_download(session: Session, token: str) -> tuple[Document, DocumentDelivery]:
    """A personal download: only for its owner while they are registered; counted."""
    delivery = looks_like_token(token) and session.scalar(
        select(DocumentDelivery).where(DocumentDelivery.token == token)
    )
    if not delivery:
        raise NotFound("No such download.")
    document = delivery.document
    registration = session.get(Registration, delivery.registration_id)
    if (
        document.deleted_at is not None
        or document.storage_key is None
        or registration is None
        or registration.status == CANCELLED
    ):
        raise NotFound("No such download.")
    delivery.download_count += 1
    session.flush()
    return document, delivery


def documents_for_registration(session: Session, registration_id: int, links: Links) -> list[dict[str, Any]]:
    ids = list(
        session.scalars(select(DocumentDelivery.document_id).where(DocumentDelivery.registration_id == registration_id))
    )
    return delivered_documents(session, registration_id, ids, links)

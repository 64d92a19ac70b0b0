"""Messages from the organizer to the participants of an event ("the room has changed",
"here are the slides", "thank you for coming").

An audience is a set of statuses (and attendance); each person in it gets one `message`
email through the outbox, in their language's frame around the organizer's text, with the
chosen documents as personal links. However large the audience, the emails are queued by
one INSERT … SELECT (as reminders are): the request that sends a message writes rows, and
the sender renders and sends them later, with retries and one OrganizerMessage-ID each. A test copy
goes to one address only, rendered for the first person of the audience.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from eventsvc.db import insert_ignoring_duplicates
from eventsvc.domain import outbox
from eventsvc.domain.documents import delivered_documents
from eventsvc.domain.errors import InvalidState, NotFound, ValidationFailed
from eventsvc.domain.models import Document, DocumentDelivery, Event, OrganizerMessage, OutboxMessage, Registration
from eventsvc.domain.statuses import CONFIRMED, OFFERED, WAITLISTED, OutboxStatus
from eventsvc.links import Links

ATTENDED = "attended"
ABSENT = "absent"  # confirmed, not checked in
AUDIENCES = (CONFIRMED, WAITLISTED, OFFERED, ATTENDED, ABSENT)


@dataclass(frozen=True)
class Draft:
    """A message as the organizer wrote it."""

    subject: str
    body: str
    audience: tuple[str, ...]
    document_ids: tuple[int, ...] = ()
    test_to: Optional[str] = None


def audience_of(event_id: int, audience: tuple[str, ...]) -> ColumnElement[bool]:
    """The registrations of the event that an audience takes in."""
    registrations = Registration.__table__.c
    confirmed = registrations.status == CONFIRMED
    parts = {
        CONFIRMED: confirmed,
        WAITLISTED: registrations.status == WAITLISTED,
        OFFERED: registrations.status == OFFERED,
        ATTENDED: and_(confirmed, registrations.attended.is_(True)),
        ABSENT: and_(confirmed, registrations.attended.is_(False)),
    }
    return and_(
        registrations.event_id == event_id,
        registrations.anonymised_at.is_(None),
        or_(*(parts[name] for name in audience)),
    )


def first_recipient(session: Session, event_id: int, draft: Draft) -> Optional[Registration]:
    return session.scalar(
        select(Registration).where(audience_of(event_id, draft.audience)).order_by(Registration.id).limit(1)
    )


def unsaved(event: Event, draft: Draft) -> OrganizerMessage:
    """The draft as a message, not stored (yet)."""
    return OrganizerMessage(
        event_id=event.id,
        subject=draft.subject,
        body=draft.body,
        audience=list(draft.audience),
        document_ids=list(draft.document_ids),
        test_to=draft.test_to,
        recipients=0,
    )


def sample_person(event: Event) -> Registration:
    """Whom a preview is written for while nobody is in the audience (not stored)."""
    return Registration(
        event_id=event.id,
        name="Erika Mustermann",
        email="erika.mustermann@example.org",
        organization="Stadt Musterstadt",
        language="de",
        status=CONFIRMED,
        token="…",
        feed_token="…",
    )


def count_recipients(session: Session, event_id: int, draft: Draft) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Registration).where(audience_of(event_id, draft.audience))) or 0
    )


def check(session: Session, event: Event, draft: Draft) -> None:
    """The documents must be the event's own (and not deleted)."""
    if not draft.document_ids:
        return
    found = set(
        session.scalars(
            select(Document.id).where(
                Document.id.in_(draft.document_ids), Document.event_id == event.id, Document.deleted_at.is_(None)
            )
        )
    )
    unknown = [document_id for document_id in draft.document_ids if document_id not in found]
    if unknown:
        raise ValidationFailed({"documents": [f"Not a document of this event: {', '.join(map(str, unknown))}."]})


def send(
    session: Session, event_id: int, draft: Draft, now: datetime, sent_by: Optional[str] = None
) -> OrganizerMessage:
    """Record the message and queue its emails (or the one test copy)."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound("No such event.")
    check(session, event, draft)
    message = unsaved(event, draft)
    message.created_at, message.sent_by = now, sent_by
    session.add(message)
    session.flush()
    params = {"message_id": message.id}
    if draft.test_to:
        first = first_recipient(session, event.id, draft)
        if first is None:
            raise InvalidState("Nobody is in this audience yet; a test copy needs someone to be written for.")
        _give_documents(session, [first.id], draft.document_ids, now)
        row = outbox.new_row(
            outbox.MESSAGE,
            event.id,
            first.id,
            draft.test_to,
            event.sequence,
            now,
            params | {"test": True},
            dedupe_key=f"message:{message.id}:test",
            message_id=message.id,
        )
        outbox.insert_row(session, row)
        message.recipients = 1
        return message
    audience = audience_of(event.id, draft.audience)
    if draft.document_ids:
        ids = list(session.scalars(select(Registration.id).where(audience)))
        _give_documents(session, ids, draft.document_ids, now)
    message.recipients = outbox.enqueue_for_registrations(
        session,
        outbox.MESSAGE,
        audience,
        now,
        params,
        dedupe=(f"message:{message.id}:", ""),
        message_id=message.id,
    )
    session.flush()
    return message


def _give_documents(
    session: Session, registration_ids: list[int], document_ids: tuple[int, ...], now: datetime
) -> None:
    """Each recipient's own download link for each document (kept where they have one)."""
    if not registration_ids or not document_ids:
        return
    rows = [
        {
            "document_id": document_id,
            "registration_id": registration_id,
            "token": secrets.token_urlsafe(32),
            "created_at": now,
            "download_count": 0,
        }
        for registration_id in registration_ids
        for document_id in document_ids
    ]
    statement = insert_ignoring_duplicates(session, DocumentDelivery, ["document_id", "registration_id"])
    session.connection().execute(statement, rows)


@dataclass(frozen=True)
class Sent:
    message: OrganizerMessage
    sent: int
    failed: int
    skipped: int
    queued: int
    # Not sent: the address is undeliverable (bounces.py).
    suppressed: int = 0


def log(session: Session, event_id: int) -> list[Sent]:
    """Every message of the event, newest first, with how many of its emails went out."""
    if session.get(Event, event_id) is None:
        raise NotFound("No such event.")
    counts: dict[int | None, dict[str, int]] = {}
    for message_id, status, number in session.execute(
        select(OutboxMessage.message_id, OutboxMessage.status, func.count())
        .join(OrganizerMessage, OrganizerMessage.id == OutboxMessage.message_id)
        .where(OrganizerMessage.event_id == event_id)
        .group_by(OutboxMessage.message_id, OutboxMessage.status)
    ):
        counts.setdefault(message_id, {})[status] = number
    listed = []
    for message in session.scalars(
        select(OrganizerMessage).where(OrganizerMessage.event_id == event_id).order_by(OrganizerMessage.id.desc())
    ):
        by_status = counts.get(message.id, {})
        sent, failed, skipped, suppressed = (
            by_status.get(status.value, 0)
            for status in (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SKIPPED, OutboxStatus.SUPPRESSED)
        )
        queued = sum(by_status.values()) - sent - failed - skipped - suppressed
        listed.append(Sent(message, sent, failed, skipped, queued, suppressed))
    return listed


def documents_for(
    session: Session, message: OrganizerMessage, registration_id: Optional[int], links: Links
) -> list[dict[str, Any]]:
    """The message's documents as one person's email lists them, each link their own. In a
    preview, before anyone has their links, a file shows where the personal link will be."""
    documents = delivered_documents(session, registration_id, message.document_ids, links) if registration_id else []
    given = {document["title"] for document in documents}
    chosen = session.scalars(
        select(Document).where(Document.id.in_(message.document_ids or [-1]), Document.deleted_at.is_(None))
    )
    for document in chosen:
        if document.title not in given:
            documents.append({"title": document.title, "url": document.url or links.download("…"), "is_file": True})
    return documents

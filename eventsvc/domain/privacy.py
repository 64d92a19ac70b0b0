"""A person's data (Art. 15 and 20 DSGVO) and its erasure (Art. 17).

Erasing an address first cancels its live registrations (reason `erased`: their seats go on
to the people waiting as usual, and nothing more is sent to the address), drops the emails
still queued to it, then anonymises every registration of the address: names, addresses,
organizations, roles, answers and tokens go (so its manage, feed and download links answer
404), the emails sent to it lose recipient and parameters, the history keeps only statuses
and times. Counts and attendance stay. Each event's erasure is logged without personal data.
Everything for one address happens in the caller's one transaction: an erasure that fails
leaves nothing half done.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from eventsvc.domain import history, interest, seats
from eventsvc.domain.history import Actor
from eventsvc.domain.locking import lock_event
from eventsvc.domain.models import Document, DocumentDelivery, Erasure, Event, OutboxMessage, Registration
from eventsvc.domain.registrations import normalize_email
from eventsvc.domain.statuses import LIVE, SEAT_HOLDING, CancelReason, OutboxStatus

REQUEST = "request"
RETENTION = "retention"


def registrations_of(session: Session, email: str) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .where(Registration.email_normalized == normalize_email(email), Registration.anonymised_at.is_(None))
            .order_by(Registration.id)
        )
    )


def person_data(session: Session, email: str) -> dict[str, Any]:
    """Everything held about the address: registrations (event, status, answers, consent,
    history), the emails sent to it, its downloads. Empty lists when nothing is held."""
    registrations = registrations_of(session, email)
    ids = [registration.id for registration in registrations]
    emails = session.scalars(
        select(OutboxMessage).where(OutboxMessage.registration_id.in_(ids or [-1])).order_by(OutboxMessage.id)
    )
    downloads = session.execute(
        select(
            DocumentDelivery.registration_id,
            Document.title,
            DocumentDelivery.created_at,
            DocumentDelivery.download_count,
        )
        .join(Document, Document.id == DocumentDelivery.document_id)
        .where(DocumentDelivery.registration_id.in_(ids or [-1]))
        .order_by(DocumentDelivery.id)
    )
    return {
        "email": email,
        "registrations": [_registration_data(session, registration) for registration in registrations],
        "emails": [
            {
                "kind": message.kind,
                "created_at": message.created_at,
                "sent_at": message.sent_at,
                "status": message.status,
            }
            for message in emails
        ],
        "downloads": [
            {
                "registration_id": row.registration_id,
                "document": row.title,
                "sent_at": row.created_at,
                "downloads": row.download_count,
            }
            for row in downloads
        ],
        "interest": [
            {
                "series": entry.series,
                "name": entry.name,
                "language": entry.language,
                "created_at": entry.created_at,
                "confirmed_at": entry.confirmed_at,
                "consented_at": entry.consented_at,
                "privacy_url": entry.privacy_url,
            }
            for entry in interest.entries_of(session, email)
        ],
    }


def _registration_data(session: Session, registration: Registration) -> dict[str, Any]:
    event = registration.event
    return {
        "id": registration.id,
        "event": {"id": event.id, "title": event.title, "starts_at": event.starts_at},
        "name": registration.name,
        "email": registration.email,
        "organization": registration.organization,
        "organization_key": registration.organization_key,
        "role": registration.role,
        "language": registration.language,
        "status": registration.status,
        "cancel_reason": registration.cancel_reason,
        "answers": registration.answers or {},
        "consented_at": registration.consented_at,
        "privacy_url": registration.privacy_url,
        "sensitive_consent_at": registration.sensitive_consent_at,
        "attended": registration.attended,
        "created_at": registration.created_at,
        "history": [
            {"at": change.at, "status": change.status, "reason": change.reason, "by": change.by}
            for change in history.of_registration(session, registration)
        ],
    }


@dataclass
class Erased:
    """What an erasure removed: registrations, emails still queued, and the keys of the
    emails already sent, whose copies kept outside the database (files) must go as well."""

    registrations: int = 0
    emails: int = 0
    sent_message_keys: list[str] = field(default_factory=list)


def erase_person(session: Session, email: str, now: datetime, by: Actor) -> Erased:
    """Erase everything about the address."""
    registrations = registrations_of(session, email)
    by_event: dict[int, list[Registration]] = {}
    for registration in registrations:
        by_event.setdefault(registration.event_id, []).append(registration)
    erased = Erased(registrations=len(registrations))
    for event_id, theirs in by_event.items():
        event = lock_event(session, event_id)
        freed = False
        for registration in theirs:
            session.refresh(registration)
            if registration.status in LIVE:
                freed = freed or registration.status in SEAT_HOLDING
                seats.set_cancelled(session, registration, CancelReason.ERASED.value, by, now)
        session.flush()
        ids = [registration.id for registration in theirs]
        erased.emails += drop_queued(session, ids)
        erased.sent_message_keys += anonymise(session, event, ids, now, REQUEST)
        if freed:
            seats.fill_free_seats(session, event, now, freed=True)
    interest.erase(session, email, now)
    return erased


def drop_queued(session: Session, registration_ids: Sequence[int]) -> int:
    """Emails not yet sent to these registrations are not sent at all."""
    not_sent = (OutboxStatus.QUEUED.value, OutboxStatus.FAILED.value)
    return (
        session.connection()
        .execute(
            delete(OutboxMessage).where(
                OutboxMessage.registration_id.in_(registration_ids), OutboxMessage.status.in_(not_sent)
            )
        )
        .rowcount
    )


def anonymise(session: Session, event: Event, registration_ids: Sequence[int], now: datetime, reason: str) -> list[str]:
    """Remove the personal data of these registrations of `event`, and log it. Returns the
    message keys of the emails they were sent."""
    if not registration_ids:
        return []
    these = list(registration_ids)
    sent = list(session.scalars(select(OutboxMessage.message_key).where(OutboxMessage.registration_id.in_(these))))
    # One statement executed for many rows (each row's new tokens are its own).
    connection = session.connection()
    connection.execute(
        _ANONYMISE_REGISTRATION,
        [
            {
                "registration_id": registration_id,
                "email": f"anonymised-{registration_id}@invalid",
                "email_normalized": f"anonymised-{registration_id}",
                "token": _unguessable(),
                "feed_token": _unguessable(),
                "now": now,
            }
            for registration_id in these
        ],
    )
    connection.execute(
        update(OutboxMessage).where(OutboxMessage.registration_id.in_(these)).values(recipient="", params={})
    )
    deliveries = list(session.scalars(select(DocumentDelivery.id).where(DocumentDelivery.registration_id.in_(these))))
    if deliveries:
        connection.execute(
            _NEW_DOWNLOAD_TOKEN, [{"delivery_id": delivery_id, "token": _unguessable()} for delivery_id in deliveries]
        )
    history.forget_actors(session, these)
    _log(session, event.id, len(these), reason, now)
    session.flush()
    session.expire_all()
    return sent


def _log(session: Session, event_id: int, count: int, reason: str, now: datetime) -> None:
    """One entry per request; the batches of one event's end of retention add up in one."""
    if reason == RETENTION:
        entry = session.scalar(select(Erasure).where(Erasure.event_id == event_id, Erasure.reason == RETENTION))
        if entry is not None:
            entry.registrations += count
            entry.at = now
            return
    session.add(Erasure(at=now, event_id=event_id, registrations=count, reason=reason))


# Executed on the connection (not the ORM session), for many rows at once.
_ANONYMISE_REGISTRATION = (
    update(Registration)
    .where(Registration.id == bindparam("registration_id"))
    .values(
        name="",
        email=bindparam("email"),
        email_normalized=bindparam("email_normalized"),
        organization=None,
        organization_key=None,
        role=None,
        answers=None,
        token=bindparam("token"),
        feed_token=bindparam("feed_token"),
        registered_actor=None,
        feedback_token=None,
        anonymised_at=bindparam("now"),
    )
)
_NEW_DOWNLOAD_TOKEN = (
    update(DocumentDelivery).where(DocumentDelivery.id == bindparam("delivery_id")).values(token=bindparam("token"))
)


def erasures(session: Session) -> list[Erasure]:
    return list(session.scalars(select(Erasure).order_by(Erasure.id)))


def _unguessable() -> str:
    """A token nobody was given: links with the old one answer 404."""
    return secrets.token_urlsafe(32)

"""Writing emails owed into the outbox, and the bookkeeping of sending them.

The change that causes an email and the outbox row are written in one transaction, so an
email is never lost nor sent for a change that was rolled back. Rows hold what to send
(kind, person, a few parameters), not the rendered message: the sender renders at send
time from the current state, so a reminder queued before the event moved shows the new time.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Iterable, Optional

from sqlalchemy import and_, bindparam, func, insert, literal, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eventsvc.db import is_postgres
from eventsvc.domain.models import OutboxMessage, OutboxStatus, Registration

# The kinds of email, as they appear in X-Eventsvc-Kind.
CONFIRMATION = "confirmation"
WAITLISTED = "waitlisted"
PROMOTED = "promoted"
CANCELLED = "cancelled"
REMINDER = "reminder"
DOCUMENTATION = "documentation"
EVENT_UPDATED = "event-updated"
EVENT_CANCELLED = "event-cancelled"
ALREADY_REGISTERED = "already-registered"
KINDS = (
    CONFIRMATION, WAITLISTED, PROMOTED, CANCELLED, REMINDER,
    DOCUMENTATION, EVENT_UPDATED, EVENT_CANCELLED, ALREADY_REGISTERED,
)

# Temporary failures are retried for this long, however many tries that takes (mail servers
# keep trying for days too); an SMTP outage delays email but loses none.
GIVE_UP_AFTER = timedelta(days=2)
# Set in session.info when a transaction queued email, so that whoever commits it can wake
# an in-process sender instead of leaving the email to the next tick.
OUTBOX_WRITTEN = "eventsvc.outbox_written"
LEASE = timedelta(minutes=5)


def enqueue(
    session: Session,
    kind: str,
    registration: Registration,
    now: datetime,
    params: Optional[dict[str, Any]] = None,
    dedupe_key: Optional[str] = None,
) -> None:
    queue(session, kind, registration.event_id, registration.id, registration.email, registration.event.sequence,
          now, params, dedupe_key)


def queue(
    session: Session,
    kind: str,
    event_id: int,
    registration_id: int,
    recipient: str,
    sequence: int,
    now: datetime,
    params: Optional[dict[str, Any]] = None,
    dedupe_key: Optional[str] = None,
) -> None:
    """Write one outbox row now, as a plain INSERT built once: registering is the hot path,
    and the row is never read back in the transaction that writes it."""
    params = dict(params or {})
    # The event's SEQUENCE when this email was caused; invites rendered later may need it.
    params.setdefault("sequence", sequence)
    session.connection().execute(_INSERT, {
        "kind": kind,
        "event_id": event_id,
        "registration_id": registration_id,
        "recipient": recipient,
        "dedupe_key": dedupe_key,
        "params": params,
        "status": OutboxStatus.QUEUED.value,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_expires_at": None,
        "message_id": None,
        "last_error": None,
        "created_at": now,
        "sent_at": None,
    })
    session.info[OUTBOX_WRITTEN] = True


_INSERT = insert(OutboxMessage.__table__)


def insert_ignoring_duplicates(session: Session):
    """An INSERT that skips rows whose dedupe_key exists: safe when two schedulers race."""
    module = postgresql if is_postgres(session) else sqlite
    return module.insert(OutboxMessage.__table__)


def last_email_of_kind_to(session: Session, event_id: int, email_normalized: str, kind: str) -> Optional[datetime]:
    return session.scalar(
        select(OutboxMessage.created_at)
        .join(Registration, Registration.id == OutboxMessage.registration_id)
        .where(
            OutboxMessage.event_id == event_id,
            OutboxMessage.kind == kind,
            Registration.email_normalized == email_normalized,
        )
        .order_by(OutboxMessage.created_at.desc())
        .limit(1)
    )


# --- the sender's side -------------------------------------------------------------------


def claim_due(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due rows for this sender, in one statement, and commit the claim.

    PostgreSQL: the rows are picked FOR UPDATE SKIP LOCKED, so concurrent senders take
    disjoint rows. SQLite: the transaction began IMMEDIATE, so one sender claims at a time,
    and the UPDATE repeats the due condition. A claim is a lease: rows of a sender that died
    are taken again after LEASE. The Message-ID is made at the first claim and kept.
    """
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.QUEUED.value, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING.value, OutboxMessage.lease_expires_at <= now),
    )
    postgres = is_postgres(session)
    picked = select(OutboxMessage.id).where(due).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
    if postgres:
        picked = picked.with_for_update(skip_locked=True)
    fresh_id = "md5(random()::text || clock_timestamp()::text)" if postgres else "lower(hex(randomblob(16)))"
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(picked.scalar_subquery()), due)
        .values(status=OutboxStatus.SENDING.value, lease_expires_at=now + LEASE,
                message_id=func.coalesce(OutboxMessage.message_id, literal("<") + text(fresh_id) + literal("@eventsvc>")))
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    claimed = sorted(session.scalars(statement).all(), key=lambda message: (message.next_attempt_at, message.id))
    session.commit()
    return claimed


def mark_sent(session: Session, message: OutboxMessage, now: datetime) -> None:
    """A plain UPDATE built once (it runs for every email sent); the sender does not read
    the row again, the next batch is claimed afresh."""
    session.connection().execute(_MARK_SENT, {"row_id": message.id, "now": now})


_MARK_SENT = (
    update(OutboxMessage.__table__)
    .where(OutboxMessage.__table__.c.id == bindparam("row_id"))
    .values(status=OutboxStatus.SENT.value, sent_at=bindparam("now"), attempts=OutboxMessage.__table__.c.attempts + 1,
            lease_expires_at=None, last_error=None)
)


def mark_skipped(session: Session, message: OutboxMessage, reason: str) -> None:
    message.status = OutboxStatus.SKIPPED.value
    message.lease_expires_at = None
    message.last_error = reason


def mark_failed(session: Session, message: OutboxMessage, error: str) -> None:
    message.status = OutboxStatus.FAILED.value
    message.attempts += 1
    message.lease_expires_at = None
    message.last_error = error


def schedule_retry(message: OutboxMessage, now: datetime, error: str, max_delay: float) -> None:
    """Exponential back-off with jitter, capped at max_delay; after GIVE_UP_AFTER the row fails."""
    message.attempts += 1
    message.last_error = error
    message.lease_expires_at = None
    if now - message.created_at >= GIVE_UP_AFTER:
        message.status = OutboxStatus.FAILED.value
        return
    ceiling = min(max_delay, 2.0 ** min(message.attempts, 30))
    message.status = OutboxStatus.QUEUED.value
    message.next_attempt_at = now + timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def release(messages: Iterable[OutboxMessage], now: datetime, error: str, max_delay: float) -> None:
    for message in messages:
        schedule_retry(message, now, error, max_delay)


def requeue(session: Session, message_id: int, now: datetime) -> Optional[OutboxMessage]:
    """An organizer's retry of a failed email: it goes out on the next tick."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return None
    if message.status in (OutboxStatus.FAILED.value, OutboxStatus.SKIPPED.value):
        message.status = OutboxStatus.QUEUED.value
        message.next_attempt_at = now
        message.attempts = 0
    return message

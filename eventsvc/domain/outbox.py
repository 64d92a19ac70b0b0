"""Writing emails owed into the outbox, and the bookkeeping of sending them.

The change that causes an email and the outbox row are written in one transaction, so an
email is never lost nor sent for a change that was rolled back. Rows hold what to send
(kind, person, a few parameters), not the rendered message: the sender renders at send
time from the current state, so a reminder queued before the event moved shows the new time.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from sqlalchemy import and_, bindparam, func, insert, literal, or_, select, text, update
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
    insert_row(session, new_row(kind, registration.event_id, registration.id, registration.email,
                                registration.event.sequence, now, params, dedupe_key))


def new_row(kind: str, event_id: int, registration_id: Optional[int], recipient: str, sequence: int, now: datetime,
            params: Optional[dict[str, Any]] = None, dedupe_key: Optional[str] = None) -> dict[str, Any]:
    """The columns of a queued email."""
    params = dict(params or {})
    # The event's SEQUENCE when this email was caused; invites rendered later may need it.
    params.setdefault("sequence", sequence)
    return {
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
    }


def insert_row(session: Session, row: dict[str, Any]) -> None:
    """A plain INSERT built once (registering is the hot path); the row is not read back in
    the transaction that writes it."""
    session.connection().execute(_INSERT, row)
    mark_written(session)


def mark_written(session: Session) -> None:
    """Tell whoever commits this transaction that it queued email (see OUTBOX_WRITTEN)."""
    session.info[OUTBOX_WRITTEN] = True


_INSERT = insert(OutboxMessage.__table__)


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


@dataclass(frozen=True)
class Claimed:
    """An outbox row as a sender holds it while it sends: plain values, read once."""

    id: int
    kind: str
    event_id: int
    registration_id: Optional[int]
    recipient: str
    params: dict
    attempts: int
    created_at: datetime
    message_id: str


_OUTBOX = OutboxMessage.__table__.c


def claim_due(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Take up to `limit` due rows for this sender, in one statement, and commit the claim.

    PostgreSQL: the rows are picked FOR UPDATE SKIP LOCKED, so concurrent senders take
    disjoint rows. SQLite: the transaction began IMMEDIATE, so one sender claims at a time,
    and the UPDATE repeats the due condition. A claim is a lease: rows of a sender that died
    are taken again after LEASE. The Message-ID is made at the first claim and kept.
    """
    due = or_(
        and_(_OUTBOX.status == OutboxStatus.QUEUED.value, _OUTBOX.next_attempt_at <= now),
        and_(_OUTBOX.status == OutboxStatus.SENDING.value, _OUTBOX.lease_expires_at <= now),
    )
    postgres = is_postgres(session)
    picked = select(_OUTBOX.id).where(due).order_by(_OUTBOX.next_attempt_at, _OUTBOX.id).limit(limit)
    if postgres:
        picked = picked.with_for_update(skip_locked=True)
    # The pick is a CTE evaluated once. Written as `id IN (subquery)`, PostgreSQL may run the
    # subquery again for each row it updates, and each run locks another `limit` rows: a
    # sender then claimed every due row, more than it could send within its lease.
    picked = picked.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    fresh_id = "md5(random()::text || clock_timestamp()::text)" if postgres else "lower(hex(randomblob(16)))"
    statement = (
        update(OutboxMessage.__table__)
        .where(_OUTBOX.id.in_(select(picked.c.id)), due)
        .values(status=OutboxStatus.SENDING.value, lease_expires_at=now + LEASE,
                message_id=func.coalesce(_OUTBOX.message_id, literal("<") + text(fresh_id) + literal("@eventsvc>")))
        .returning(_OUTBOX.id, _OUTBOX.kind, _OUTBOX.event_id, _OUTBOX.registration_id, _OUTBOX.recipient,
                   _OUTBOX.params, _OUTBOX.attempts, _OUTBOX.created_at, _OUTBOX.message_id, _OUTBOX.next_attempt_at)
    )
    rows = sorted(session.connection().execute(statement).all(), key=lambda row: (row.next_attempt_at, row.id))
    session.commit()
    return [Claimed(row.id, row.kind, row.event_id, row.registration_id, row.recipient, row.params, row.attempts,
                    row.created_at, row.message_id) for row in rows]


# An email's result is one UPDATE of its row, built once: it runs for every email sent.
_RECORD = (
    update(OutboxMessage.__table__)
    .where(_OUTBOX.id == bindparam("row_id"))
    .values(status=bindparam("new_status"), attempts=_OUTBOX.attempts + 1, lease_expires_at=None,
            sent_at=bindparam("sent_at"), last_error=bindparam("error"))
)
_RECORD_RETRY = _RECORD.values(next_attempt_at=bindparam("retry_at"))


def mark_sent(session: Session, message: Claimed, now: datetime) -> None:
    session.connection().execute(_RECORD, {
        "row_id": message.id, "new_status": OutboxStatus.SENT.value, "sent_at": now, "error": None})


def mark_failed(session: Session, message: Claimed, error: str) -> None:
    session.connection().execute(_RECORD, {
        "row_id": message.id, "new_status": OutboxStatus.FAILED.value, "sent_at": None, "error": error})


def mark_skipped(session: Session, message: Claimed, reason: str) -> None:
    """Not an attempt: the email lost its reason before it went out."""
    session.connection().execute(
        update(OutboxMessage.__table__).where(_OUTBOX.id == message.id)
        .values(status=OutboxStatus.SKIPPED.value, lease_expires_at=None, last_error=reason)
    )


def schedule_retry(session: Session, message: Claimed, now: datetime, error: str, max_delay: float) -> None:
    """Exponential back-off with jitter, capped at max_delay; after GIVE_UP_AFTER the row fails."""
    if now - message.created_at >= GIVE_UP_AFTER:
        mark_failed(session, message, error)
        return
    ceiling = min(max_delay, 2.0 ** min(message.attempts + 1, 30))
    session.connection().execute(_RECORD_RETRY, {
        "row_id": message.id, "new_status": OutboxStatus.QUEUED.value, "sent_at": None, "error": error,
        "retry_at": now + timedelta(seconds=random.uniform(ceiling / 2, ceiling))})


def release(session: Session, messages: Iterable[Claimed], now: datetime, error: str, max_delay: float) -> None:
    for message in messages:
        schedule_retry(session, message, now, error, max_delay)


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

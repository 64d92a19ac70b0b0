"""Writing emails owed into the outbox, and the bookkeeping of sending them.

The change that causes an email and the outbox row are written in one transaction, so an
email is never lost nor sent for a change that was rolled back. Rows hold what to send
(kind, person, a few parameters), not the rendered message: the sender renders at send
time from the current state, so a reminder queued before the event moved shows the new time.

Every row is built by `new_row`, whether it is inserted alone (`enqueue`) or for many
registrations at once (`enqueue_for_registrations`, an INSERT … SELECT).

A sender claims rows for a lease. It records a result, renews the lease or lets go only
while the row is still claimed by it, so a sender whose lease ran out can neither send nor
record what another sender has taken over.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import ColumnElement, String, and_, bindparam, cast, delete, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from eventsvc.db import OUTBOX_WRITTEN, Prepared, insert_ignoring_duplicates, run_together
from eventsvc.domain.models import OutboxMessage, OutboxStatus, Registration, UndeliverableAddress

log = logging.getLogger(__name__)

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
OFFER = "offer"
OFFER_EXPIRED = "offer-expired"
WAITLIST_LEFT = "waitlist-left"
RECONFIRM = "reconfirm"
RELEASED = "released"
SEAT_FREE = "seat-free"
RETENTION_NOTICE = "retention-notice"
MESSAGE = "message"
SESSION_PROMOTED = "session-promoted"
FEEDBACK = "feedback"
FEEDBACK_REMINDER = "feedback-reminder"
BOUNCES = "bounces"
INTEREST_CONFIRM = "interest-confirm"
SERIES_EVENT = "series-event"
KINDS = (
    CONFIRMATION,
    WAITLISTED,
    PROMOTED,
    CANCELLED,
    REMINDER,
    DOCUMENTATION,
    EVENT_UPDATED,
    EVENT_CANCELLED,
    ALREADY_REGISTERED,
    OFFER,
    OFFER_EXPIRED,
    WAITLIST_LEFT,
    RECONFIRM,
    RELEASED,
    SEAT_FREE,
    RETENTION_NOTICE,
    MESSAGE,
    SESSION_PROMOTED,
    FEEDBACK,
    FEEDBACK_REMINDER,
    BOUNCES,
    INTEREST_CONFIRM,
    SERIES_EVENT,
)
QUEUED = OutboxStatus.QUEUED.value
SENDING = OutboxStatus.SENDING.value

# Temporary failures are retried for this long, however many tries that takes (mail servers
# keep trying for days too); an SMTP outage delays email but loses none.
GIVE_UP_AFTER = timedelta(days=2)


def enqueue(
    session: Session,
    kind: str,
    registration: Registration,
    now: datetime,
    params: Optional[dict[str, Any]] = None,
    dedupe_key: Optional[str] = None,
) -> None:
    insert_row(
        session,
        new_row(
            kind,
            registration.event_id,
            registration.id,
            registration.email,
            registration.event.sequence,
            now,
            params,
            dedupe_key,
        ),
    )


def new_row(
    kind: str,
    event_id: Optional[int],
    registration_id: Optional[int],
    recipient: str,
    sequence: Optional[int],
    now: datetime,
    params: Optional[dict[str, Any]] = None,
    dedupe_key: Optional[str] = None,
    message_id: Optional[int] = None,
    interest_entry_id: Optional[int] = None,
) -> dict[str, Any]:
    """The columns of a queued email."""
    params = dict(params or {})
    if sequence is not None:
        # The event's SEQUENCE when this email was caused; invites rendered later may need it.
        params.setdefault("sequence", sequence)
    return {
        "kind": kind,
        "event_id": event_id,
        "registration_id": registration_id,
        "recipient": recipient,
        "dedupe_key": dedupe_key,
        "params": params,
        "status": QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_expires_at": None,
        "claimed_by": None,
        "message_key": secrets.token_hex(16),
        "last_error": None,
        "created_at": now,
        "sent_at": None,
        "message_id": message_id,
        "interest_entry_id": interest_entry_id,
    }


def insert_row(session: Session, row: dict[str, Any], once: bool = False) -> None:
    """A plain INSERT built once (registering is the hot path); the row is not read back in
    the transaction that writes it. With `once`, a row whose dedupe key exists is skipped."""
    statement = insert_ignoring_duplicates(session, OutboxMessage, ["dedupe_key"]) if once else _INSERT
    session.connection().execute(statement, row)
    mark_written(session)


def enqueue_for_registrations(
    session: Session,
    kind: str,
    registrations: ColumnElement[bool],
    now: datetime,
    params: Optional[dict[str, Any]] = None,
    dedupe: Optional[tuple[str, str]] = None,
    message_id: Optional[int] = None,
) -> int:
    """One email of `kind` to each registration matching `registrations`, in one INSERT …
    SELECT, however many there are. With `dedupe` (prefix, suffix), each row's dedupe key is
    prefix + registration id + suffix, and rows already queued under it are left alone.
    Returns how many were queued."""
    columns = Registration.__table__.c
    computed: dict[str, ColumnElement[Any]] = {
        "event_id": columns.event_id,
        "registration_id": columns.id,
        "recipient": columns.email,
        # Unique per row: a random part for this statement, then the registration's id.
        "message_key": literal(secrets.token_hex(12) + ".") + cast(columns.id, String),
    }
    if dedupe:
        computed["dedupe_key"] = literal(dedupe[0]) + cast(columns.id, String) + literal(dedupe[1])
    template = new_row(kind, 0, None, "", None, now, params, message_id=message_id)
    names = [column.name for column in OutboxMessage.__table__.c if column.name != "id"]
    values = [
        computed[name] if name in computed else literal(template[name], type_=OutboxMessage.__table__.c[name].type)
        for name in names
    ]
    rows = select(*values).where(registrations)
    statement = insert_ignoring_duplicates(session, OutboxMessage, ["dedupe_key"]) if dedupe else insert(OutboxMessage)
    queued = (
        session.connection()
        .execute(statement.from_select(names, rows).execution_options(preserve_rowcount=True))
        .rowcount
    )
    if queued:
        mark_written(session)
    return queued


def mark_written(session: Session) -> None:
    """Tell the unit of work that this transaction queued email (see OUTBOX_WRITTEN)."""
    session.info[OUTBOX_WRITTEN] = True


_INSERT = insert(OutboxMessage)
# A new registration's first email, written with the registration (db.run_later).
_FIRST_EMAIL_COLUMNS = [c.name for c in OutboxMessage.__table__.c if c.name != "id"]
_INSERT_FIRST_EMAIL = Prepared(
    insert(OutboxMessage).inline(),  # no RETURNING of the new id: nobody reads it
    column_keys=_FIRST_EMAIL_COLUMNS,
)


def first_email(
    session: Session,
    kind: str,
    event_id: int,
    registration_id: int,
    recipient: str,
    sequence: int,
    now: datetime,
    params: Optional[dict[str, Any]] = None,
) -> tuple[Prepared, dict[str, Any]]:
    """The statement that queues a new registration's first email, to run with its insert."""
    mark_written(session)
    return _INSERT_FIRST_EMAIL, new_row(kind, event_id, registration_id, recipient, sequence, now, params)


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
    event_id: Optional[int]
    registration_id: Optional[int]
    recipient: str
    params: dict[str, Any]
    attempts: int
    created_at: datetime
    message_key: str
    interest_entry_id: Optional[int] = None

    @classmethod
    def of(cls, row: Any) -> Claimed:
        """From a row (or an OutboxMessage) with the outbox's columns."""
        return cls(
            row.id,
            row.kind,
            row.event_id,
            row.registration_id,
            row.recipient,
            row.params,
            row.attempts,
            row.created_at,
            row.message_key,
            row.interest_entry_id,
        )


_OUTBOX = OutboxMessage.__table__.c
_HELD_BY = and_(_OUTBOX.claimed_by == bindparam("sender"), _OUTBOX.status == SENDING)


def new_sender_id() -> str:
    return secrets.token_hex(8)


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta, sender: str) -> list[Claimed]:
    """Take up to `limit` due rows for `sender` until now + `lease`, in one statement.

    The rows are picked FOR UPDATE SKIP LOCKED (PostgreSQL), so concurrent senders take
    disjoint rows; on SQLite the write transaction already excludes other senders, and the
    UPDATE repeats the due condition. Rows of a sender that died are due again once their
    lease has run out.
    """
    due = or_(
        and_(_OUTBOX.status == QUEUED, _OUTBOX.next_attempt_at <= now),
        and_(_OUTBOX.status == SENDING, _OUTBOX.lease_expires_at <= now),
    )
    # The pick is a CTE evaluated once. Written as `id IN (subquery)`, PostgreSQL may run the
    # subquery again for each row it updates, and each run locks another `limit` rows.
    picked = (
        select(_OUTBOX.id)
        .where(due)
        .order_by(_OUTBOX.next_attempt_at, _OUTBOX.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    statement = (
        update(OutboxMessage)
        .where(_OUTBOX.id.in_(select(picked.c.id)), due)
        .values(status=SENDING, lease_expires_at=now + lease, claimed_by=sender)
        .returning(
            _OUTBOX.id,
            _OUTBOX.kind,
            _OUTBOX.event_id,
            _OUTBOX.registration_id,
            _OUTBOX.recipient,
            _OUTBOX.params,
            _OUTBOX.attempts,
            _OUTBOX.created_at,
            _OUTBOX.message_key,
            _OUTBOX.next_attempt_at,
            _OUTBOX.interest_entry_id,
        )
    )
    rows = sorted(session.connection().execute(statement).all(), key=lambda row: (row.next_attempt_at, row.id))
    return [Claimed.of(row) for row in rows]


_RENEW = (
    update(OutboxMessage)
    .where(_OUTBOX.id.in_(bindparam("ids", expanding=True)), _HELD_BY)
    .values(lease_expires_at=bindparam("until"))
    .returning(_OUTBOX.id)
)


def renew(session: Session, messages: list[Claimed], sender: str, until: datetime) -> list[Claimed]:
    """Extend the lease on the rows `sender` still holds; the ones it still holds."""
    if not messages:
        return []
    held = set(
        session.connection()
        .execute(_RENEW, {"ids": [message.id for message in messages], "sender": sender, "until": until})
        .scalars()
    )
    lost = [message.id for message in messages if message.id not in held]
    if lost:
        log.warning("sender %s lost its claim on outbox rows %s; another sender has them", sender, lost)
    return [message for message in messages if message.id in held]


# An email's result is one UPDATE of its row, prepared once: it runs for every email sent.
_RECORDED = (
    update(OutboxMessage)
    .where(_OUTBOX.id == bindparam("row_id"), _HELD_BY)
    .values(
        status=bindparam("new_status"),
        attempts=_OUTBOX.attempts + 1,
        lease_expires_at=None,
        claimed_by=None,
        sent_at=bindparam("sent_at"),
        last_error=bindparam("error"),
    )
    .returning(_OUTBOX.id)
)
_RECORD = Prepared(_RECORDED)
_RECORD_RETRY = Prepared(_RECORDED.values(next_attempt_at=bindparam("retry_at")))


def _record(session: Session, statement: Prepared, values: dict[str, Any], message: Claimed, sender: str) -> bool:
    [rows] = run_together(session, (statement, values | {"row_id": message.id, "sender": sender}))
    held = bool(rows)
    if not held:
        log.warning("outbox row %s: result not recorded, sender %s no longer holds it", message.id, sender)
    return held


def mark_sent(session: Session, sent: Sequence[tuple[Claimed, datetime]], sender: str) -> int:
    """Record emails as sent, each at the time it was accepted, in one round trip: a sender
    writes its results a few at a time. How many of the rows `sender` still held."""
    if not sent:
        return 0
    values = {"new_status": OutboxStatus.SENT.value, "error": None, "sender": sender}
    results = run_together(
        session, *((_RECORD, values | {"row_id": message.id, "sent_at": at}) for message, at in sent)
    )
    lost = [message.id for (message, _), rows in zip(sent, results, strict=True) if not rows]
    if lost:
        log.warning("outbox rows %s: sent, but not recorded; sender %s no longer holds them", lost, sender)
    return len(sent) - len(lost)


def mark_failed(session: Session, message: Claimed, sender: str, error: str) -> bool:
    return _record(
        session, _RECORD, {"new_status": OutboxStatus.FAILED.value, "sent_at": None, "error": error}, message, sender
    )


def mark_skipped(
    session: Session, message: Claimed, sender: str, reason: str, status: OutboxStatus = OutboxStatus.SKIPPED
) -> bool:
    """Not an attempt: the email lost its reason before it went out (or, `suppressed`, its
    address is undeliverable)."""
    return (
        session.connection()
        .execute(
            update(OutboxMessage)
            .where(_OUTBOX.id == message.id, _HELD_BY)
            .values(status=status.value, lease_expires_at=None, claimed_by=None, last_error=reason),
            {"sender": sender},
        )
        .rowcount
        == 1
    )


def mark_suppressed(session: Session, message: Claimed, sender: str, reason: str) -> bool:
    return mark_skipped(session, message, sender, reason, OutboxStatus.SUPPRESSED)


def schedule_retry(
    session: Session, message: Claimed, sender: str, now: datetime, error: str, max_delay: float
) -> bool:
    """Exponential back-off with jitter, capped at max_delay; after GIVE_UP_AFTER the row fails."""
    if now - message.created_at >= GIVE_UP_AFTER:
        return mark_failed(session, message, sender, error)
    ceiling = min(max_delay, 2.0 ** min(message.attempts + 1, 30))
    return _record(
        session,
        _RECORD_RETRY,
        {
            "new_status": QUEUED,
            "sent_at": None,
            "error": error,
            "retry_at": now + timedelta(seconds=random.uniform(ceiling / 2, ceiling)),
        },
        message,
        sender,
    )


def release(
    session: Session, messages: Iterable[Claimed], sender: str, now: datetime, error: str, max_delay: float
) -> None:
    for message in messages:
        schedule_retry(session, message, sender, now, error, max_delay)


def let_go(session: Session, sender: str, now: datetime) -> int:
    """Hand back, unsent and due now, every row `sender` holds: a sender that is stopping
    leaves its claims to the next one at once instead of after the lease."""
    return (
        session.connection()
        .execute(
            update(OutboxMessage)
            .where(_HELD_BY)
            .values(status=QUEUED, lease_expires_at=None, claimed_by=None, next_attempt_at=now)
            .execution_options(preserve_rowcount=True),
            {"sender": sender},
        )
        .rowcount
    )


def listed(
    session: Session, status: Optional[str] = None, event_id: Optional[int] = None, limit: int = 100
) -> list[OutboxMessage]:
    """Emails by status and event, newest first."""
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        statement = statement.where(OutboxMessage.status == status)
    if event_id is not None:
        statement = statement.where(OutboxMessage.event_id == event_id)
    return list(session.scalars(statement))


RETRYABLE = (OutboxStatus.FAILED.value, OutboxStatus.SKIPPED.value, OutboxStatus.SUPPRESSED.value)


def requeue(session: Session, message_id: int, now: datetime) -> Optional[OutboxMessage]:
    """An organizer's retry of a failed or suppressed email: it goes out on the next tick.
    Retrying says the address is worth trying again, so an undeliverable mark on it is lifted."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return None
    if message.status in RETRYABLE:
        message.status = QUEUED
        message.next_attempt_at = now
        message.attempts = 0
        session.execute(
            delete(UndeliverableAddress).where(
                UndeliverableAddress.email_normalized == message.recipient.strip().lower()
            )
        )
    return message

"""Registering, cancelling, promoting from the waitlist, checking in.

Every function that takes or frees a seat first locks the event (see locking.py), counts
under that lock, and writes the emails the change causes to the outbox in the same
transaction. Waitlist positions are not stored: a person's position is their rank among the
waitlisted by registration order, so positions are 1..n with no gaps by construction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from eventsvc.db import is_postgres
from eventsvc.domain import outbox
from eventsvc.domain.errors import AlreadyRegistered, EventFull, InvalidState, NotFound, RegistrationClosed
from eventsvc.domain.locking import lock_event, lock_event_rules
from eventsvc.domain.models import Event, EventStatus, OutboxMessage, Registration, RegistrationStatus

CONFIRMED = RegistrationStatus.CONFIRMED.value
WAITLISTED = RegistrationStatus.WAITLISTED.value
CANCELLED = RegistrationStatus.CANCELLED.value

# The already-registered email may be triggered by anyone who knows an address: at most
# one per address, event and this interval, so the endpoint cannot flood an inbox.
ALREADY_REGISTERED_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class Applicant:
    name: str
    email: str
    organization: Optional[str] = None
    role: Optional[str] = None
    language: str = "de"


@dataclass(frozen=True)
class Registered:
    """What a new registration's creator is told: plain values, read nowhere else."""

    id: int
    token: str
    status: str
    waitlist_position: Optional[int]


def register(session: Session, event_id: int, applicant: Applicant, now: datetime) -> Registered:
    """Take a seat, or a waitlist place, for `applicant`.

    This is the path a booked-out event's rush runs through, and everything between locking
    the event and committing waits for it, so it is written as plain prebuilt statements:
    lock the event row, read the counts and the address's registrations in one query, insert
    the registration and its email (one statement on PostgreSQL). (Statements after the lock see every committed seat: a
    READ COMMITTED statement's snapshot is taken when it starts, after the lock was granted.)
    """
    rules = lock_event_rules(session, event_id)
    if rules.status == EventStatus.DRAFT.value:
        raise NotFound("No such event.")
    if not is_registration_open(rules, now):
        raise RegistrationClosed("Registration for this event is closed.")
    email_normalized = applicant.email.strip().lower()
    standing = _standing(session, event_id, email_normalized)
    if standing.live_id is not None:
        existing = session.get(Registration, standing.live_id)
        _send_already_registered_notice(session, existing, now)
        raise AlreadyRegistered("This email address is already registered for the event.")
    has_seat = standing.taken < rules.capacity
    if not has_seat and not rules.waitlist_enabled:
        raise EventFull("The event is fully booked.")
    status = CONFIRMED if has_seat else WAITLISTED
    token = secrets.token_urlsafe(32)
    # Everyone waitlisted so far registered earlier, so the newcomer is last in line.
    position = None if has_seat else standing.waiting + 1
    kind, params = (outbox.CONFIRMATION, None) if has_seat else (outbox.WAITLISTED, {"position": position})
    registration_id = _insert_with_email(session, {
        "event_id": event_id,
        "token": token,
        "name": applicant.name,
        "email": applicant.email.strip(),
        "email_normalized": email_normalized,
        "organization": applicant.organization,
        "role": applicant.role,
        "language": applicant.language,
        # One personal feed per address: an earlier registration's token is reused.
        "feed_token": standing.feed_token or secrets.token_urlsafe(24),
        "status": status,
        "created_at": now,
        "confirmed_at": now if has_seat else None,
        "cancelled_at": None,
        "attended": False,
        "checked_in_at": None,
    }, outbox.new_row(kind, event_id, None, applicant.email.strip(), rules.sequence, now, params))
    return Registered(registration_id, token, status, position)


def _insert_with_email(session: Session, registration: dict, email: dict) -> int:
    """Insert the registration and its email; the new registration's id. On PostgreSQL this is
    one statement (the registration inserted in a WITH): each round trip here is spent
    holding the event's lock."""
    connection = session.connection()
    if not is_postgres(session):
        registration_id = connection.execute(_INSERT_REGISTRATION, registration).scalar_one()
        outbox.insert_row(session, email | {"registration_id": registration_id})
        return registration_id
    registration_id = connection.execute(
        _INSERT_WITH_EMAIL, registration | {f"email_{name}": value for name, value in email.items()}
    ).scalar_one()
    outbox.mark_written(session)
    return registration_id


def _standing(session: Session, event_id: int, email_normalized: str):
    """Seats taken, people waiting, the address's live registration for this event and its
    personal feed token, in one round trip."""
    return session.connection().execute(_STANDING, {"event_id": event_id, "email": email_normalized}).one()


_REGISTRATIONS = Registration.__table__.c
_COUNTED = select(func.count()).select_from(Registration.__table__).where(_REGISTRATIONS.event_id == bindparam("event_id"))
_STANDING = select(
    _COUNTED.where(_REGISTRATIONS.status == CONFIRMED).scalar_subquery().label("taken"),
    _COUNTED.where(_REGISTRATIONS.status == WAITLISTED).scalar_subquery().label("waiting"),
    select(_REGISTRATIONS.id)
    .where(_REGISTRATIONS.event_id == bindparam("event_id"), _REGISTRATIONS.email_normalized == bindparam("email"),
           _REGISTRATIONS.status.in_((CONFIRMED, WAITLISTED)))
    .limit(1).scalar_subquery().label("live_id"),
    select(_REGISTRATIONS.feed_token)
    .where(_REGISTRATIONS.email_normalized == bindparam("email"))
    .order_by(_REGISTRATIONS.id).limit(1).scalar_subquery().label("feed_token"),
)
_INSERT_REGISTRATION = insert(Registration.__table__).returning(_REGISTRATIONS.id)


def _insert_with_email_statement():
    new = (
        insert(Registration.__table__)
        .values({column.name: bindparam(column.name, type_=column.type)
                 for column in Registration.__table__.c if column.name != "id"})
        .returning(_REGISTRATIONS.id)
        .cte("new_registration")
    )
    outbox_columns = [column for column in OutboxMessage.__table__.c if column.name != "id"]
    email = select(*(new.c.id if column.name == "registration_id"
                     else bindparam(f"email_{column.name}", type_=column.type) for column in outbox_columns))
    return (
        insert(OutboxMessage.__table__)
        .from_select([column.name for column in outbox_columns], email)
        .add_cte(new)
        .returning(OutboxMessage.__table__.c.registration_id)
    )


_INSERT_WITH_EMAIL = _insert_with_email_statement()


def cancel(session: Session, registration: Registration, now: datetime) -> Registration:
    """Cancel as the participant would; cancelling twice is harmless."""
    event = lock_event(session, registration.event_id)
    session.refresh(registration)
    if registration.status == CANCELLED:
        return registration
    had_seat = registration.status == CONFIRMED
    registration.status = CANCELLED
    registration.cancelled_at = now
    if had_seat:
        # The CANCEL removes the event from this person's calendar; its SEQUENCE must be
        # higher than the invite they hold, and a later invite higher again.
        event.sequence += 1
        outbox.enqueue(session, outbox.CANCELLED, registration, now, {"sequence": event.sequence})
        session.flush()
        promote_waitlisted(session, event, now)
    session.flush()
    return registration


def promote_waitlisted(session: Session, event: Event, now: datetime) -> list[Registration]:
    """Give free seats to the oldest waitlisted people. The caller holds the event's lock."""
    if event.status != EventStatus.PUBLISHED.value:
        return []
    free = event.capacity - seats_taken(session, event.id)
    if free <= 0:
        return []
    promoted = list(
        session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status == WAITLISTED)
            .order_by(Registration.id)
            .limit(free)
        )
    )
    for registration in promoted:
        registration.status = CONFIRMED
        registration.confirmed_at = now
        outbox.enqueue(session, outbox.PROMOTED, registration, now)
    session.flush()
    return promoted


def check_in(session: Session, registration_id: int, attended: bool, now: datetime) -> Registration:
    registration = get_by_id(session, registration_id)
    if attended and registration.status == CANCELLED:
        raise InvalidState("A cancelled registration cannot be checked in.")
    registration.attended = attended
    registration.checked_in_at = now if attended else None
    session.flush()
    return registration


def seats_taken(session: Session, event_id: int) -> int:
    return session.scalar(
        select(func.count()).where(Registration.event_id == event_id, Registration.status == CONFIRMED)
    )


def waitlist_position(session: Session, registration: Registration) -> Optional[int]:
    if registration.status != WAITLISTED:
        return None
    return session.scalar(
        select(func.count()).where(
            Registration.event_id == registration.event_id,
            Registration.status == WAITLISTED,
            Registration.id <= registration.id,
        )
    )


def list_for_event(session: Session, event_id: int, status: Optional[str] = None) -> list[tuple[Registration, Optional[int]]]:
    """The event's registrations in registration order, each with its waitlist position."""
    rows = session.scalars(select(Registration).where(Registration.event_id == event_id).order_by(Registration.id))
    listed, position = [], 0
    for registration in rows:
        if registration.status == WAITLISTED:
            position += 1
        if status is None or registration.status == status:
            listed.append((registration, position if registration.status == WAITLISTED else None))
    return listed


def get_by_token(session: Session, token: str) -> Registration:
    registration = session.scalar(select(Registration).where(Registration.token == token))
    if registration is None:
        raise NotFound("No such registration.")
    return registration


def get_by_id(session: Session, registration_id: int) -> Registration:
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise NotFound("No such registration.")
    return registration


def is_registration_open(event: Event, now: datetime) -> bool:
    if event.status != EventStatus.PUBLISHED.value:
        return False
    closes = event.registration_closes_at or event.starts_at
    return (event.registration_opens_at is None or event.registration_opens_at <= now) and now < closes


def events_held_by_feed(session: Session, feed_token: str) -> list[Event]:
    """The events the feed's address holds a seat for (any registration's token will do)."""
    email = session.scalar(select(Registration.email_normalized).where(Registration.feed_token == feed_token).limit(1))
    if email is None:
        raise NotFound("No such feed.")
    return list(
        session.scalars(
            select(Event)
            .join(Registration, Registration.event_id == Event.id)
            .where(Registration.email_normalized == email, Registration.status == CONFIRMED,
                   Event.status != EventStatus.DRAFT.value)
            .order_by(Event.starts_at, Event.id)
        )
    )


def _send_already_registered_notice(session: Session, registration: Registration, now: datetime) -> None:
    last = outbox.last_email_of_kind_to(session, registration.event_id, registration.email_normalized,
                                        outbox.ALREADY_REGISTERED)
    if last is None or now - last >= ALREADY_REGISTERED_INTERVAL:
        outbox.enqueue(session, outbox.ALREADY_REGISTERED, registration, now)

"""Registering, cancelling, promoting from the waitlist, checking in.

Every function that takes or frees a seat first locks the event (see locking.py), counts
under that lock, and writes the emails the change causes to the outbox and the change to
the registration's history in the same transaction. Waitlist positions are not stored
(see rules.py).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import bindparam, exists, func, insert, select
from sqlalchemy.orm import Session

from eventsvc.db import NextId, Prepared, run_later, run_together
from eventsvc.domain import bounces, contingents, history, organizations, outbox, policies, questions, seats
from eventsvc.domain import sessions as event_sessions
from eventsvc.domain.errors import (
    AlreadyRegistered,
    EventFull,
    EventStarted,
    InvalidState,
    NotFound,
    RateLimited,
    RegistrationClosed,
    ValidationFailed,
)
from eventsvc.domain.history import BY_PARTICIPANT, Actor
from eventsvc.domain.locking import lock_event, lock_event_rules
from eventsvc.domain.models import Event, Registration, UndeliverableAddress
from eventsvc.domain.rules import (
    HOLDS_SEAT,
    IS_LIVE,
    count_newcomer,
    count_of_event,
    is_public,
    is_registration_open,
    looks_like_token,
    newcomer_gets_seat,
    waitlist_positions,
)
from eventsvc.domain.statuses import CANCELLED, CONFIRMED, SEAT_HOLDING, WAITLISTED, CancelReason, EventStatus
from eventsvc.domain.vocabulary import NextRegistration, WaitlistReason

# The already-registered email may be triggered by anyone who knows an address: at most
# one per address, event and this interval, so the endpoint cannot flood an inbox.
ALREADY_REGISTERED_INTERVAL = timedelta(hours=1)
# However many clients ask, one address is registered for one event at most this often
# within REGISTRATIONS_PER_ADDRESS_WINDOW: registering and cancelling in a loop would
# otherwise send an email each time.
REGISTRATIONS_PER_ADDRESS = 3
REGISTRATIONS_PER_ADDRESS_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Applicant:
    name: str
    email: str
    organization: Optional[str] = None
    role: Optional[str] = None
    language: str = "de"
    answers: Optional[dict[str, Any]] = None
    sensitive_consent: bool = False
    # The privacy notice the person agreed to (EVENTSVC_PRIVACY_URL when they registered).
    privacy_url: Optional[str] = None
    # The member organization chosen in the form (else matched by the address's domain).
    organization_key: Optional[str] = None
    # The keys of the event's sessions the person chose (sessions.py).
    sessions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registered:
    """What a registration's creator is told: plain values, read nowhere else.

    `already_registered` means nothing new was made: the address holds the live
    registration `id`, and (at most hourly) a notice with its link was queued to it. The
    caller commits that notice and then refuses the request.
    """

    id: int
    token: str
    status: str
    waitlist_position: Optional[int]
    already_registered: bool = False
    waitlist_reason: Optional[str] = None
    organization_key: Optional[str] = None
    organization: Optional[str] = None
    sessions: tuple[dict[str, Any], ...] = ()
    consented_at: Optional[datetime] = None
    privacy_url: Optional[str] = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def register(
    session: Session, event_id: int, applicant: Applicant, now: datetime, by: Actor = BY_PARTICIPANT
) -> Registered:
    """Take a seat, or a waitlist place, for `applicant`.

    This is the path a booked-out event's rush runs through, and everything between locking
    the event and committing waits for it, so it is written as plain prebuilt statements:
    lock the event row with the counts kept on it, read the address's registrations and the
    new registration's id in the same round trip, insert the registration, its email and its
    first history entry, and count it on the event row, with the commit. (Statements after
    the lock see every committed seat: a READ COMMITTED statement's snapshot is taken when
    it starts, after the lock was granted.)
    """
    rules, [[standing], [new_id]] = lock_event_rules(
        session, event_id, _standing_statement(event_id, applicant, now), (_NEXT_REGISTRATION_ID, {})
    )
    if not is_public(rules.status):
        raise NotFound("No such event.")
    if not is_registration_open(rules, now):
        raise RegistrationClosed("Registration for this event is closed.")
    answers, sensitive = questions.checked_answers(
        rules.questions or [], applicant.answers, applicant.sensitive_consent
    )
    check_role(rules.roles, applicant.role)
    chosen = event_sessions.checked_choice(rules.sessions or [], applicant.sessions)
    membership = organizations.membership_in(standing, applicant.organization_key)
    if standing.live_id is not None:
        existing = get_by_id(session, standing.live_id)
        _send_already_registered_notice(session, existing, now)
        return Registered(existing.id, existing.token, existing.status, None, already_registered=True)
    if standing.recent >= REGISTRATIONS_PER_ADDRESS:
        retry_after = (
            _oldest_recent(session, event_id, normalize_email(applicant.email), now)
            + REGISTRATIONS_PER_ADDRESS_WINDOW
            - now
        )
        raise RateLimited(
            "This address was registered for the event too often; try again later.",
            retry_after=max(1, math.ceil(retry_after.total_seconds())),
        )
    reason = _reason_to_wait(session, rules, standing, membership, now)
    if reason is not None and not rules.waitlist_enabled:
        raise EventFull("The event is fully booked.")
    # Everyone waitlisted so far registered earlier, so the newcomer is last in line.
    position = None if reason is None else rules.kept_waitlist_length + 1
    pending = chosen if reason is not None else []
    made = _insert(
        session,
        new_id.id,
        event_id,
        applicant,
        Placement(WAITLISTED if reason else CONFIRMED, position, reason.value if reason else None, membership),
        standing.feed_token,
        answers,
        sensitive,
        rules.sequence,
        by,
        now,
        pending,
    )
    if standing.undeliverable:
        bounces.lift_for_new_registration(session, normalize_email(applicant.email))
    if not chosen or pending:
        return made
    choices = event_sessions.choose(session, rules, made.id, chosen, True, now)
    return replace(made, sessions=tuple(choices))


def _reason_to_wait(
    session: Session, rules: Any, standing: Any, membership: Optional[organizations.Membership], now: datetime
) -> Optional[WaitlistReason]:
    """Why the newcomer waits, or None when they get a seat. Where contingents apply, only
    the people waiting who could take a seat now are ahead of them."""
    if not contingents.apply(rules, now):
        gets_seat = newcomer_gets_seat(rules.kept_seats_taken, rules.kept_waitlist_length, rules.capacity)
        return None if gets_seat else WaitlistReason.FULL
    member = bool(membership and membership.member)
    blocked = contingents.reason_to_wait(rules, standing.org_held, member, now)
    if blocked is not None:
        return blocked
    free = rules.capacity - rules.kept_seats_taken
    if free <= 0:
        return WaitlistReason.FULL
    if rules.kept_waitlist_length == 0:  # nobody waits, so nobody is ahead: no need to ask who could
        return None
    ahead = contingents.waiting_ahead(session, rules, free, now) or 0
    return None if free > ahead else WaitlistReason.FULL


@dataclass(frozen=True)
class Prospect:
    """What a registration made now by one person would get, before they submit: the
    answer `register` would give, from the same counts and the same rule."""

    outcome: NextRegistration
    waitlist_reason: Optional[str] = None
    organization: Optional[str] = None
    seats_held: int = 0


def prospect(session: Session, event: Event, email: str, organization_key: Optional[str], now: datetime) -> Prospect:
    """What `register` would give this person now (not locked: the answer may change before
    they submit, as the seats may)."""
    if not is_registration_open(event, now):
        return Prospect(NextRegistration.CLOSED)
    key = organization_key if organization_key and organizations.key_exists(session, organization_key) else None
    standing = _standing(session, event.id, Applicant(name="", email=email or "", organization_key=key), now)
    membership = organizations.membership_in(standing, key)
    reason = _reason_to_wait(session, event, standing, membership, now)
    if reason is None:
        outcome = NextRegistration.CONFIRMED
    else:
        outcome = NextRegistration.WAITLISTED if event.waitlist_enabled else NextRegistration.FULL
    return Prospect(
        outcome,
        reason.value if reason else None,
        membership.name if membership else None,
        int(standing.org_held or 0) if membership else 0,
    )


def check_role(roles: Optional[list[str]], role: Optional[str]) -> None:
    """Where the event names its roles, a registration's role is one of them."""
    if roles and role is not None and role not in roles:
        raise ValidationFailed({"role": [f"Must be one of: {', '.join(roles)}."]})


@dataclass(frozen=True)
class Placement:
    """Where a new registration goes: its status, waitlist place and reason, organization."""

    status: str
    position: Optional[int] = None
    waitlist_reason: Optional[str] = None
    membership: Optional[organizations.Membership] = None


def _insert(
    session: Session,
    registration_id: int,
    event_id: int,
    applicant: Applicant,
    placement: Placement,
    feed_token: Optional[str],
    answers: dict[str, Any],
    sensitive: bool,
    sequence: int,
    by: Actor,
    now: datetime,
    pending_sessions: Sequence[str] = (),
) -> Registered:
    """A new registration (of the id read before, see db.NextId) with its email, its first
    history entry, its count on the event row and, for someone who waits, the sessions they
    chose. Nothing of it is read back, so on PostgreSQL it goes with the next round trip,
    the COMMIT's when nothing else follows (db.run_later)."""
    email = applicant.email.strip()
    token = secrets.token_urlsafe(32)
    status, position, membership = placement.status, placement.position, placement.membership
    confirmed = status == CONFIRMED
    organization = applicant.organization or (membership.name if membership else None)
    kind, params = (outbox.CONFIRMATION, None) if confirmed else (outbox.WAITLISTED, {"position": position})
    run_later(
        session,
        (
            _INSERT_REGISTRATION,
            {
                "id": registration_id,
                "event_id": event_id,
                "token": token,
                "name": applicant.name,
                "email": email,
                "email_normalized": normalize_email(email),
                "organization": organization,
                "organization_key": membership.key if membership else None,
                "waitlist_reason": placement.waitlist_reason,
                "role": applicant.role,
                "language": applicant.language,
                # One personal feed per address: an earlier registration's token is reused.
                "feed_token": feed_token or secrets.token_urlsafe(24),
                "status": status,
                "created_at": now,
                "confirmed_at": now if confirmed else None,
                "attended": False,
                "answers": answers or None,
                "sensitive_consent_at": now if sensitive else None,
                "consented_at": now,
                "privacy_url": applicant.privacy_url,
                **history.creation_columns(status, by),
            },
        ),
        outbox.first_email(session, kind, event_id, registration_id, email, sequence, now, params),
        count_newcomer(event_id, status),
        *event_sessions.pending_with_registration(event_id, registration_id, pending_sessions, now),
    )
    history.log_creation(registration_id, status, by)
    return Registered(
        registration_id,
        token,
        status,
        position,
        consented_at=now,
        privacy_url=applicant.privacy_url,
        waitlist_reason=placement.waitlist_reason,
        organization_key=membership.key if membership else None,
        organization=organization,
        sessions=tuple(event_sessions.shown_pending(pending_sessions)),
    )


def register_many(
    session: Session, event_id: int, applicants: list[Applicant], now: datetime, by: Actor = BY_PARTICIPANT
) -> list[Registered]:
    """Colleagues in one go, seats in list order: all are registered, or (one of them
    invalid or already registered) none; the caller's unit of work rolls back then."""
    made = []
    for number, applicant in enumerate(applicants):
        try:
            outcome = register(session, event_id, applicant, now, by)
        except ValidationFailed as refusal:
            raise ValidationFailed(
                {f"people.{number}.{field}": messages for field, messages in refusal.errors.items()}
            ) from refusal
        if outcome.already_registered:
            taken = AlreadyRegistered(f"people.{number}: this email address is already registered for the event.")
            taken.person = number
            raise taken
        made.append(outcome)
    return made


def transfer(
    session: Session, token: str, substitute: Applicant, now: datetime, by: Actor = BY_PARTICIPANT
) -> Registered:
    """Pass a confirmed seat to a substitute, without the waitlist moving: the old
    registration is cancelled (`transferred`) with a cancelling invite, the new one is
    confirmed with a confirmation email."""
    registration = get_by_token(session, token)
    event = lock_event(session, registration.event_id)
    session.refresh(registration)
    if by.kind != history.ORGANIZER and not policies.participant_actions(registration, event, now).transfer:
        raise InvalidState("Only a confirmed seat of an event that has not started can be passed on.")
    if registration.status != CONFIRMED or event.starts_at <= now:
        raise InvalidState("Only a confirmed seat of an event that has not started can be passed on.")
    answers, sensitive = questions.checked_answers(
        event.questions or [], substitute.answers, substitute.sensitive_consent
    )
    check_role(event.roles, substitute.role)
    [[standing], [new_id]] = run_together(
        session, _standing_statement(event.id, substitute, now), (_NEXT_REGISTRATION_ID, {})
    )
    membership = organizations.membership_in(standing, substitute.organization_key)
    if standing.live_id is not None:
        raise AlreadyRegistered("The substitute's address is already registered for the event.")
    seats.withdraw_invite(session, event, registration, outbox.CANCELLED, now)
    made = _insert(
        session,
        new_id.id,
        event.id,
        substitute,
        Placement(CONFIRMED, membership=membership),
        standing.feed_token,
        answers,
        sensitive,
        event.sequence,
        by,
        now,
    )
    if standing.undeliverable:
        bounces.lift_for_new_registration(session, normalize_email(substitute.email))
    event_sessions.pass_on(session, registration.id, made.id)
    seats.set_cancelled(session, registration, CancelReason.TRANSFERRED.value, by, now)
    session.flush()
    return replace(made, sessions=tuple(event_sessions.choices_of(session, made.id)))


def _standing(session: Session, event_id: int, applicant: Applicant, now: datetime) -> Any:
    """The address's live registration for this event, how often it registered lately, its personal feed token, whether it is undeliverable, and
    its organization with the seats that holds: one statement."""
    [[standing]] = run_together(session, _standing_statement(event_id, applicant, now))
    return standing


def _standing_statement(event_id: int, applicant: Applicant, now: datetime) -> tuple[Prepared, dict[str, Any]]:
    return _STANDING, {
        "event_id": event_id,
        "email": normalize_email(applicant.email),
        "since": now - REGISTRATIONS_PER_ADDRESS_WINDOW,
        **organizations.membership_parameters(applicant.organization_key, applicant.email),
    }


def _oldest_recent(session: Session, event_id: int, email_normalized: str, now: datetime) -> datetime:
    """When the oldest of the address's registrations within the window was made: the window
    frees a place once that one is older than the window."""
    return (
        session.connection()
        .execute(
            select(func.min(Registration.created_at)).where(_RECENT),
            {"event_id": event_id, "email": email_normalized, "since": now - REGISTRATIONS_PER_ADDRESS_WINDOW},
        )
        .scalar_one()
    )


_OF_ADDRESS = (Registration.event_id == bindparam("event_id")) & (Registration.email_normalized == bindparam("email"))
_RECENT = _OF_ADDRESS & (Registration.created_at > bindparam("since", type_=Registration.created_at.type))
_STANDING_QUERY = select(
    select(Registration.id).where(_OF_ADDRESS, IS_LIVE).limit(1).scalar_subquery().label("live_id"),
    # Over the address's registrations only: given the event too, PostgreSQL may plan the
    # count along the (event, status) index, which walks every registration of the event.
    select(func.count().filter(_RECENT))
    .where(Registration.email_normalized == bindparam("email"))
    .scalar_subquery()
    .label("recent"),
    select(Registration.feed_token)
    .where(Registration.email_normalized == bindparam("email"))
    .order_by(Registration.id)
    .limit(1)
    .scalar_subquery()
    .label("feed_token"),
    exists().where(UndeliverableAddress.email_normalized == bindparam("email")).label("undeliverable"),
    *organizations.MEMBERSHIP_COLUMNS,
    count_of_event(
        bindparam("event_id"), HOLDS_SEAT & (Registration.organization_key == organizations.MATCHED_KEY)
    ).label("org_held"),
)
_STANDING = Prepared(_STANDING_QUERY, plan_once=True)
_NEXT_REGISTRATION_ID = Prepared(select(NextId(Registration.__tablename__).label("id")))
_INSERT_REGISTRATION = Prepared(
    insert(Registration).inline(),
    column_keys=[
        "id",
        "event_id",
        "token",
        "name",
        "email",
        "email_normalized",
        "organization",
        "organization_key",
        "waitlist_reason",
        "role",
        "language",
        "feed_token",
        "status",
        "created_at",
        "confirmed_at",
        "attended",
        "answers",
        "sensitive_consent_at",
        "consented_at",
        "privacy_url",
        *history.creation_columns(CONFIRMED, BY_PARTICIPANT),
    ],
)


def cancel(session: Session, registration: Registration, now: datetime, by: Actor = BY_PARTICIPANT) -> Registration:
    """Cancel as the participant would (or an organizer for them); cancelling twice is
    harmless. A seat given back goes on to the people waiting, by the event's mode."""
    event = lock_event(session, registration.event_id)
    session.refresh(registration)
    if registration.status == CANCELLED:
        return registration
    if by.kind != history.ORGANIZER and not policies.participant_actions(registration, event, now).cancel:
        raise EventStarted("The event has begun; cancelling is no longer possible.")
    previous = registration.status
    reason = CancelReason.ORGANIZER.value if by.kind == history.ORGANIZER else CancelReason.PARTICIPANT.value
    seats.set_cancelled(session, registration, reason, by, now)
    if previous == CONFIRMED:
        seats.withdraw_invite(session, event, registration, outbox.CANCELLED, now)
    else:
        outbox.enqueue(session, outbox.WAITLIST_LEFT, registration, now)
    session.flush()
    if previous in SEAT_HOLDING:
        seats.fill_free_seats(session, event, now, freed=True)
    return registration


def change_sessions(
    session: Session, registration: Registration, keys: list[str], now: datetime, by: Actor = BY_PARTICIPANT
) -> Registration:
    """Change a person's session choices: a session left passes its seat on at once."""
    event = lock_event(session, registration.event_id)
    session.refresh(registration)
    allowed = policies.participant_actions(registration, event, now).change_sessions
    if not allowed and not (by.kind == history.ORGANIZER and registration.status != CANCELLED):
        raise InvalidState("The sessions of this registration can no longer be changed.")
    event_sessions.change_choice(session, event, registration, keys, by, now)
    session.flush()
    return registration


def check_in(
    session: Session, registration_id: int, attended: bool, now: datetime, by: Actor, session_key: Optional[str] = None
) -> Registration:
    registration = get_by_id(session, registration_id)
    if attended and registration.status == CANCELLED:
        raise InvalidState("A cancelled registration cannot be checked in.")
    if session_key is not None:
        event_sessions.check_in(session, registration.id, session_key, attended)
        if not attended:
            session.flush()
            return registration
    if registration.attended != attended:
        history.record(
            session, registration.id, registration.status, "checked_in" if attended else "check_in_undone", by, now
        )
    registration.attended = attended
    registration.checked_in_at = now if attended else None
    session.flush()
    return registration


CORRECTABLE = ("name", "organization", "role")


def correct(session: Session, registration_id: int, changes: dict[str, Any], now: datetime, by: Actor) -> Registration:
    """An organizer corrects how a person is named (a misspelt name, a new office): the
    lists, the sign-in sheet and a certificate show it from now on."""
    registration = get_by_id(session, registration_id)
    if registration.anonymised_at is not None:
        raise InvalidState("The personal data of this registration has been removed.")
    changes = {name: value for name, value in changes.items() if name in CORRECTABLE}
    if any(getattr(registration, name) != value for name, value in changes.items()):
        history.record(session, registration.id, registration.status, "corrected", by, now)
        for name, value in changes.items():
            setattr(registration, name, value)
        session.flush()
    return registration


def list_for_event(
    session: Session, event_id: int, status: Optional[str] = None
) -> list[tuple[Registration, Optional[int]]]:
    """The event's registrations in registration order, each with its waitlist position."""
    query = select(Registration).where(Registration.event_id == event_id).order_by(Registration.id)
    if status is not None:
        query = query.where(Registration.status == status)
    positions = waitlist_positions(session, event_id)
    return [(registration, positions.get(registration.id)) for registration in session.scalars(query)]


def get_by_token(session: Session, token: str) -> Registration:
    registration: Optional[Registration] = (
        session.scalar(select(Registration).where(Registration.token == token)) if looks_like_token(token) else None
    )
    if not registration:
        raise NotFound("No such registration.")
    return registration


def get_by_id(session: Session, registration_id: int) -> Registration:
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise NotFound("No such registration.")
    return registration


def events_held_by_feed(session: Session, feed_token: str) -> list[Event]:
    """The events the feed's address holds a seat for (any registration's token will do)."""
    email = looks_like_token(feed_token) and session.scalar(
        select(Registration.email_normalized).where(Registration.feed_token == feed_token).limit(1)
    )
    if not email:
        raise NotFound("No such feed.")
    return list(
        session.scalars(
            select(Event)
            .join(Registration, Registration.event_id == Event.id)
            .where(
                Registration.email_normalized == email,
                Registration.status == CONFIRMED,
                Event.status != EventStatus.DRAFT.value,
            )
            .order_by(Event.starts_at, Event.id)
        )
    )


def _send_already_registered_notice(session: Session, registration: Registration, now: datetime) -> None:
    last = outbox.last_email_of_kind_to(
        session, registration.event_id, registration.email_normalized, outbox.ALREADY_REGISTERED
    )
    if last is None or now - last >= ALREADY_REGISTERED_INTERVAL:
        outbox.enqueue(session, outbox.ALREADY_REGISTERED, registration, now)

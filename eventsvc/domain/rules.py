"""Rules that several parts of the service ask about, each defined once: how many seats an
event has taken, a person's place on the waitlist, whether registration is open, and which
events the public and the calendar feeds see."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional, Protocol

from sqlalchemy import ColumnElement, Integer, ScalarSelect, and_, bindparam, case, func, literal, or_, select, update
from sqlalchemy.orm import Session

from eventsvc.db import Prepared
from eventsvc.domain.models import Event, Registration, among
from eventsvc.domain.statuses import CONFIRMED, LIVE, SEAT_HOLDING, WAITLISTED, EventStatus

# How long a cancelled event stays in the public feed, so that subscribers see it go.
CANCELLED_VISIBLE_FOR = timedelta(days=30)


@dataclass(frozen=True)
class Occupancy:
    seats_taken: int
    waitlist_length: int


# Which registrations hold a seat and which wait, as SQL conditions: every count below is
# made from these two. The statuses are bound one parameter each, not as an expanding list,
# so that a statement using them is rendered once and prepared.
HOLDS_SEAT = Registration.status.in_([literal(status) for status in SEAT_HOLDING])
IS_WAITING = Registration.status == WAITLISTED
# Whether a registration is live, in the words of the partial unique index on (event, address).
IS_LIVE = among(Registration.status, LIVE)
# Both counts over many events at once (GROUP BY event), for listings.
SEATS_TAKEN = func.count().filter(HOLDS_SEAT)
WAITING = func.count().filter(IS_WAITING)


def count_of_event(event_id: ColumnElement[int] | int, condition: ColumnElement[bool]) -> ScalarSelect[int]:
    """How many of one event's registrations meet `condition`, as a scalar subquery: a range
    of the (event, status) index, however many registrations the event has."""
    return select(func.count()).where(Registration.event_id == event_id, condition).scalar_subquery()


def recount(session: Session, event_id: int) -> None:
    """Make the counts kept on the event row (seats taken, people waiting) again from its
    registrations. Every change of the event's registrations is followed by this before it
    commits (locking.lock_event asks for it), except a newcomer's, counted by one."""
    session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(
            kept_seats_taken=count_of_event(event_id, HOLDS_SEAT),
            kept_waitlist_length=count_of_event(event_id, IS_WAITING),
        )
        .execution_options(synchronize_session=False)
    )


# A newcomer's registration counted on its event row, as a statement prepared once.
_COUNT_NEWCOMER = Prepared(
    update(Event)
    .where(Event.id == bindparam("event_id"))
    .values(
        kept_seats_taken=Event.kept_seats_taken + bindparam("seats", type_=Integer),
        kept_waitlist_length=Event.kept_waitlist_length + bindparam("waiting", type_=Integer),
    )
)


def count_newcomer(event_id: int, status: str) -> tuple[Prepared, dict[str, Any]]:
    """The statement that counts a new registration of `status` on its event row."""
    holds_seat = status in SEAT_HOLDING
    return _COUNT_NEWCOMER, {"event_id": event_id, "seats": int(holds_seat), "waiting": int(status == WAITLISTED)}


def occupancy(session: Session, event_ids: list[int]) -> dict[int, Occupancy]:
    """Seats taken and people waiting, for each of the events, in one query."""
    if not event_ids:
        return {}
    rows = session.execute(
        select(Registration.event_id, SEATS_TAKEN, WAITING)
        .where(Registration.event_id.in_(event_ids))
        .group_by(Registration.event_id)
    )
    found = {event_id: Occupancy(int(taken), int(waiting)) for event_id, taken, waiting in rows}
    return {event_id: found.get(event_id, Occupancy(0, 0)) for event_id in event_ids}


def waitlist_positions(session: Session, event_id: int) -> dict[int, int]:
    """Registration id → place on the waitlist (1, 2, …): the waiting, in registration order.
    Positions are derived, never stored, so they have no gaps."""
    waiting = session.scalars(
        select(Registration.id)
        .where(Registration.event_id == event_id, Registration.status == WAITLISTED)
        .order_by(Registration.id)
    )
    return {registration_id: place for place, registration_id in enumerate(waiting, start=1)}


def waitlist_position(session: Session, registration: Registration) -> Optional[int]:
    if registration.status != WAITLISTED:
        return None
    return waitlist_positions(session, registration.event_id).get(registration.id)


class RegistrationWindow(Protocol):
    status: str
    starts_at: datetime
    registration_opens_at: Optional[datetime]
    registration_closes_at: Optional[datetime]


def is_registration_open(event: RegistrationWindow, now: datetime) -> bool:
    """Published, past its opening time, before its closing time (by default the start)."""
    if event.status != EventStatus.PUBLISHED.value:
        return False
    closes = event.registration_closes_at or event.starts_at
    return (event.registration_opens_at is None or event.registration_opens_at <= now) and now < closes


def newcomer_gets_seat(seats_taken: int, waiting: int, capacity: int) -> bool:
    """A new registration takes a seat only if one is free and nobody waits for it: a seat
    kept free past the cut-off belongs to the people waiting, not to whoever comes next."""
    return seats_taken < capacity and waiting == 0


class SeatRules(Protocol):
    starts_at: datetime
    promotion_cutoff: Optional[int]
    offer_window: int


def cutoff_time(event: SeatRules) -> Optional[datetime]:
    """From when on nothing is given or offered automatically (None: never)."""
    if event.promotion_cutoff is None:
        return None
    return event.starts_at - timedelta(seconds=event.promotion_cutoff)


def past_cutoff(event: SeatRules, now: datetime) -> bool:
    cutoff = cutoff_time(event)
    return cutoff is not None and now >= cutoff


def offer_deadline(event: SeatRules, now: datetime) -> datetime:
    """Until when an offer made now holds: its window, but not past the cut-off."""
    deadline = now + timedelta(seconds=event.offer_window)
    cutoff = cutoff_time(event)
    return min(deadline, cutoff) if cutoff is not None else deadline


def is_public(status: str) -> bool:
    """Drafts do not exist for the public; published and cancelled events do."""
    return status != EventStatus.DRAFT.value


def listed_publicly(now: datetime) -> ColumnElement[bool]:
    """The public event list: published events that have not ended."""
    return (Event.status == EventStatus.PUBLISHED.value) & (Event.ends_at > now)


def feed_cutoff(now: datetime) -> datetime:
    """Events cancelled before this have left the public feed."""
    return now - CANCELLED_VISIBLE_FOR


def in_public_feed(cutoff: Any) -> ColumnElement[bool]:
    """The calendar feed: published events, and cancelled ones for a while (cancelled after
    `cutoff`, see feed_cutoff) so that subscribers see them go."""
    return or_(
        Event.status == EventStatus.PUBLISHED.value,
        and_(Event.status == EventStatus.CANCELLED.value, Event.cancelled_at > cutoff),
    )


_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,100}")


def looks_like_token(value: str) -> bool:
    """Tokens are URL-safe base64; anything else (a NUL byte, say) is looked up nowhere."""
    return _TOKEN.fullmatch(value) is not None


def counts_by_status(session: Session, event_ids: list[int]) -> dict[int, dict[str, int]]:
    """For each event: how many registrations it has of each status, and `attended` (the
    confirmed who were checked in), in one query."""
    counts: dict[int, dict[str, int]] = {event_id: {} for event_id in event_ids}
    if not event_ids:
        return counts
    attended = func.sum(case((Registration.attended.is_(True) & (Registration.status == CONFIRMED), 1), else_=0))
    rows = session.execute(
        select(Registration.event_id, Registration.status, func.count(), attended)
        .where(Registration.event_id.in_(event_ids))
        .group_by(Registration.event_id, Registration.status)
    )
    for event_id, status, number, came in rows:
        counts[event_id][status] = int(number)
        counts[event_id]["attended"] = counts[event_id].get("attended", 0) + int(came or 0)
    return counts

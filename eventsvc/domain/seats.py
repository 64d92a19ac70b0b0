"""Giving free seats away, and taking seats back: what every path that frees or adds a seat
shares (a cancellation, a declined or expired offer, a release, a larger capacity).

The caller holds the event's lock (locking.py). A free seat goes to the first person
waiting: at once (`auto`), or as an offer held until a deadline (`offer`). From the cut-off
on, nothing is given automatically: the organizer is told a seat is free and decides.

Changes to many registrations at once (a larger capacity, a tick's expired offers) are
written set-wise, a chunk of ids per statement, so that ten thousand cost a few statements.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from eventsvc.domain import contingents, history, outbox, sessions
from eventsvc.domain.history import Actor
from eventsvc.domain.models import Event, Registration
from eventsvc.domain.rules import HOLDS_SEAT, IS_WAITING, count_of_event, offer_deadline, past_cutoff
from eventsvc.domain.statuses import CANCELLED, CONFIRMED, OFFERED, WAITLISTED, EventStatus

log = logging.getLogger(__name__)

OFFER_MODE = "offer"
# Ids per statement when many registrations change at once (well below SQLite's limit on
# bound parameters).
CHUNK = 2_000


def seats_taken(session: Session, event_id: int) -> int:
    return int(session.scalar(select(count_of_event(event_id, HOLDS_SEAT))) or 0)


def waiting_count(session: Session, event_id: int) -> int:
    return int(session.scalar(select(count_of_event(event_id, IS_WAITING))) or 0)


def fill_free_seats(session: Session, event: Event, now: datetime, freed: bool = False) -> list[int]:
    """Give the event's free seats to the people waiting longest, by the event's mode, unless
    the cut-off has passed; `freed` says a seat was just given back (then, past the cut-off,
    the organizer is told). Then the sessions' free seats go to their waitlists. Returns the
    ids of those who got a seat or an offer."""
    chosen = _fill_event_seats(session, event, now, freed)
    confirmed_now = chosen if event.waitlist_mode != OFFER_MODE else []
    sessions.fill(session, event, now, quiet=confirmed_now)
    return chosen


def _fill_event_seats(session: Session, event: Event, now: datetime, freed: bool) -> list[int]:
    if event.status != EventStatus.PUBLISHED.value:
        return []
    free = event.capacity - seats_taken(session, event.id)
    if free <= 0:
        return []
    if past_cutoff(event, now):
        if freed and event.organizer_email:
            outbox.insert_row(
                session,
                outbox.new_row(
                    outbox.SEAT_FREE,
                    event.id,
                    None,
                    event.organizer_email,
                    event.sequence,
                    now,
                    {"waiting": waiting_count(session, event.id), "seats_left": free},
                ),
            )
        return []
    chosen = next_in_line(session, event, now, free)
    if event.waitlist_mode == OFFER_MODE:
        change_many(
            session,
            chosen,
            {"status": OFFERED, "offer_expires_at": offer_deadline(event, now), "waitlist_reason": None},
            outbox.OFFER,
            "offered",
            history.BY_SYSTEM,
            now,
        )
    else:
        change_many(
            session,
            chosen,
            {"status": CONFIRMED, "confirmed_at": now, "offer_expires_at": None, "waitlist_reason": None},
            outbox.PROMOTED,
            "promoted",
            history.BY_SYSTEM,
            now,
            {"sequence": event.sequence},
        )
    return chosen


def next_in_line(session: Session, event: Event, now: datetime, free: int) -> list[int]:
    """The people waiting who get the `free` seats: the longest waiting, passing over those
    whose organization holds its limit or who wait for the members' window to end."""
    if contingents.apply(event, now):
        return contingents.eligible_waiting(session, event, now, free)
    return list(
        session.scalars(
            select(Registration.id)
            .where(Registration.event_id == event.id, Registration.status == WAITLISTED)
            .order_by(Registration.id)
            .limit(free)
        )
    )


def change_many(
    session: Session,
    ids: Sequence[int],
    values: dict[str, Any],
    email_kind: Optional[str],
    reason: str,
    by: Actor,
    now: datetime,
    params: Optional[dict[str, Any]] = None,
) -> None:
    """Set `values` on the registrations `ids`, queue each an email of `email_kind`, and
    record the change in their histories: three statements per chunk of ids."""
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        these = Registration.id.in_(chunk)
        session.execute(update(Registration).where(these).values(**values).execution_options(synchronize_session=False))
        if values["status"] == CANCELLED:
            sessions.leave_all(session, chunk)
        elif values["status"] == CONFIRMED:
            sessions.activate(session, chunk)
        if email_kind:
            outbox.enqueue_for_registrations(session, email_kind, these, now, params)
        history.record_for(session, these, values["status"], reason, by, now)
    if ids:
        # Objects loaded before now reload what the statements above wrote.
        session.expire_all()
        log.info("registrations %s: %s (%s) by %s", _id_list(ids), values["status"], reason, by.kind)


def _id_list(ids: Sequence[int]) -> str:
    return ", ".join(map(str, ids)) if len(ids) <= 20 else f"{len(ids)} from {min(ids)} to {max(ids)}"


def confirm(
    session: Session, registration: Registration, email_kind: str, reason: str, by: Actor, now: datetime
) -> None:
    """The person holds a confirmed seat from now on."""
    registration.status = CONFIRMED
    registration.confirmed_at = now
    registration.offer_expires_at = None
    registration.waitlist_reason = None
    outbox.enqueue(session, email_kind, registration, now)
    history.record(session, registration.id, CONFIRMED, reason, by, now)
    session.flush()
    # Their session choices queue now and take the free session seats; the email above lists them.
    sessions.activate(session, [registration.id])
    sessions.fill(session, registration.event, now, quiet=[registration.id])


def set_cancelled(session: Session, registration: Registration, reason: str, by: Actor, now: datetime) -> None:
    registration.status = CANCELLED
    registration.cancelled_at = now
    registration.cancel_reason = reason
    registration.offer_expires_at = None
    sessions.leave_all(session, [registration.id])
    history.record(session, registration.id, CANCELLED, reason, by, now)


def cancelled_values(reason: str, now: datetime) -> dict[str, Any]:
    """What set_cancelled sets, for change_many."""
    return {"status": CANCELLED, "cancelled_at": now, "cancel_reason": reason, "offer_expires_at": None}


def withdraw_invite(session: Session, event: Event, registration: Registration, email_kind: str, now: datetime) -> None:
    """Tell a person who held a confirmed seat that it is gone, with a CANCEL for their
    calendar. Its SEQUENCE must be above the invite they hold, and a later invite higher
    again; feeds carry SEQUENCE too, so their LAST-MODIFIED moves with it."""
    event.sequence += 1
    event.changed_at = now
    outbox.enqueue(session, email_kind, registration, now, {"sequence": event.sequence})

"""The waitlist beyond automatic promotion: offers with a deadline, accepting and declining
them, their expiry, reconfirmation before the day and the release of those who did not
answer, and an organizer's own promotion.

Everything that frees a seat passes it on through seats.fill_free_seats, which knows the
event's mode and cut-off. The scheduler's jobs here work in bounded batches, event by event,
each under the event's lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from eventsvc.domain import contingents, history, outbox, seats
from eventsvc.domain.errors import EventFull, InvalidState, OfferExpired
from eventsvc.domain.history import BY_PARTICIPANT, BY_SYSTEM, Actor
from eventsvc.domain.locking import lock_event
from eventsvc.domain.models import Event, Registration
from eventsvc.domain.registrations import get_by_id, get_by_token
from eventsvc.domain.statuses import CONFIRMED, OFFERED, WAITLISTED, CancelReason, EventStatus

# How many people one tick releases at most; the rest waits for the next tick.
ROWS_PER_TICK = 2_000
# Offers one tick expires at most (and offers on): far above any one event's offers, and
# small enough that a tick stays well under a second on a slow machine.
OFFERS_PER_TICK = 1_000


def accept(session: Session, token: str, now: datetime) -> Registration:
    """Take the offered seat: confirmed, with a confirmation email and its invite."""
    registration = _locked(session, get_by_token(session, token))
    if registration.cancel_reason == CancelReason.OFFER_EXPIRED.value:
        raise OfferExpired("The offer has expired.")
    if registration.status != OFFERED:
        raise InvalidState("Only an open offer can be accepted.")
    if registration.offer_expires_at is not None and now >= registration.offer_expires_at:
        raise OfferExpired("The offer has expired.")
    seats.confirm(session, registration, outbox.CONFIRMATION, "accepted", BY_PARTICIPANT, now)
    session.flush()
    return registration


def decline(session: Session, token: str, now: datetime) -> Registration:
    """Turn the offer down: the seat is offered to the next person at once."""
    registration = _locked(session, get_by_token(session, token))
    if registration.status != OFFERED:
        raise InvalidState("Only an open offer can be declined.")
    seats.set_cancelled(session, registration, CancelReason.DECLINED.value, BY_PARTICIPANT, now)
    session.flush()
    seats.fill_free_seats(session, registration.event, now, freed=True)
    return registration


def reconfirm(session: Session, token: str, now: datetime) -> Registration:
    """The person says they still come; asking again changes nothing."""
    registration = _locked(session, get_by_token(session, token))
    if registration.status != CONFIRMED:
        raise InvalidState("Only a confirmed registration can be reconfirmed.")
    if registration.reconfirmed_at is None:
        registration.reconfirmed_at = now
        history.record(session, registration.id, CONFIRMED, "reconfirmed", BY_PARTICIPANT, now)
    session.flush()
    return registration


def promote(session: Session, registration_id: int, over_capacity: bool, now: datetime, by: Actor) -> Registration:
    """An organizer gives a seat to a waiting or offered person, in any mode and past the
    cut-off; beyond the capacity only when asked to."""
    registration = _locked(session, get_by_id(session, registration_id))
    if registration.status not in (WAITLISTED, OFFERED):
        raise InvalidState("Only a waitlisted or offered registration can be promoted.")
    event = registration.event
    needs_seat = registration.status == WAITLISTED  # an offered person holds one already
    if needs_seat and not over_capacity and seats.seats_taken(session, event.id) >= event.capacity:
        raise EventFull('No seat is free; send {"over_capacity": true} to promote anyway.')
    seats.confirm(session, registration, outbox.PROMOTED, "promoted", by, now)
    session.flush()
    return registration


def expire_offers(session: Session, now: datetime, budget: int = OFFERS_PER_TICK) -> int:
    """Offers past their deadline, at most `budget` of them (the rest on the next tick):
    cancelled, an offer-expired email each, and the seats offered on (set-wise, event by event)."""
    due = (Registration.status == OFFERED) & (Registration.offer_expires_at <= now)
    done = 0
    for event_id in _events_with(session, due):
        if done >= budget:
            break
        event = lock_event(session, event_id)
        expired = list(
            session.scalars(
                select(Registration.id)
                .where(Registration.event_id == event_id, due)
                .order_by(Registration.id)
                .limit(budget - done)
            )
        )
        seats.change_many(
            session,
            expired,
            seats.cancelled_values(CancelReason.OFFER_EXPIRED.value, now),
            outbox.OFFER_EXPIRED,
            CancelReason.OFFER_EXPIRED.value,
            BY_SYSTEM,
            now,
        )
        seats.fill_free_seats(session, event, now, freed=True)
        done += len(expired)
    return done


def hand_on_after_windows(session: Session, now: datetime) -> int:
    """When an event's members-first window or its organizations' limit ends, its free seats
    go to the people waiting, in order, by the event's mode, within this tick."""
    given = 0
    for event_id in contingents.events_with_passed_windows(session, now):
        event = lock_event(session, event_id)
        given += len(seats.fill_free_seats(session, event, now))
        contingents.mark_windows_applied(session, event_id, now)
    return given


def ask_to_reconfirm(session: Session, now: datetime) -> int:
    """At starts_at − reconfirm_before, every person confirmed by then is asked, once."""
    asked = 0
    events = session.scalars(
        select(Event).where(
            Event.status == EventStatus.PUBLISHED.value, Event.reconfirm_before.is_not(None), Event.starts_at > now
        )
    )
    for event in list(events):
        asked_at = event.starts_at - timedelta(seconds=event.reconfirm_before or 0)
        if asked_at > now:
            continue
        whom = (
            (Registration.event_id == event.id)
            & (Registration.status == CONFIRMED)
            & Registration.reconfirm_asked_at.is_(None)
            & Registration.reconfirmed_at.is_(None)
            & (Registration.confirmed_at <= asked_at)
        )
        asked += outbox.enqueue_for_registrations(session, outbox.RECONFIRM, whom, now, dedupe=("reconfirm:", ""))
        session.execute(update(Registration).where(whom).values(reconfirm_asked_at=now))
    return asked


def release_unreconfirmed(session: Session, now: datetime, budget: int = ROWS_PER_TICK) -> int:
    """Whoever was asked and did not reconfirm within the event's window gives the seat back:
    cancelled, a released email with a cancelling invite, the seat passed on."""
    candidates = (
        (Registration.status == CONFIRMED)
        & Registration.reconfirm_asked_at.is_not(None)
        & Registration.reconfirmed_at.is_(None)
    )
    done = 0
    for event_id in _events_with(session, candidates):
        event = lock_event(session, event_id)
        if event.status != EventStatus.PUBLISHED.value or event.starts_at <= now:
            continue
        window_ended = candidates & (Registration.reconfirm_asked_at <= now - timedelta(seconds=event.reconfirm_window))
        released = _due(session, event_id, window_ended, budget - done)
        for registration in released:
            seats.set_cancelled(session, registration, CancelReason.NOT_RECONFIRMED.value, BY_SYSTEM, now)
            seats.withdraw_invite(session, event, registration, outbox.RELEASED, now)
            done += 1
        session.flush()
        if released:
            seats.fill_free_seats(session, event, now, freed=True)
        if done >= budget:
            break
    return done


def _locked(session: Session, registration: Registration) -> Registration:
    """The registration as it is under its event's lock."""
    lock_event(session, registration.event_id)
    session.refresh(registration)
    return registration


def _events_with(session: Session, condition: ColumnElement[bool]) -> list[int]:
    return list(
        session.scalars(select(Registration.event_id).where(condition).distinct().order_by(Registration.event_id))
    )


def _due(session: Session, event_id: int, condition: ColumnElement[bool], limit: int) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .where(Registration.event_id == event_id, condition)
            .order_by(Registration.id)
            .limit(max(0, limit))
        )
    )

"""Read-side answers, as plain values: what a registration made now would get, what a
participant may do now, which invite applies. Pages, API presenters, the console and emails
render these; nothing else computes them. The commands (registrations.py, waitlist.py)
enforce the same answers, so what a page offers is what the domain accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Protocol

from eventsvc.domain import invites, outbox
from eventsvc.domain.rules import Occupancy, is_registration_open, newcomer_gets_seat
from eventsvc.domain.statuses import CANCELLED, CONFIRMED, OFFERED, WAITLISTED, EventStatus
from eventsvc.domain.vocabulary import NextRegistration, WaitlistReason


class EventFacts(Protocol):
    status: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    waitlist_enabled: bool
    registration_opens_at: Optional[datetime]
    registration_closes_at: Optional[datetime]
    promotion_cutoff: Optional[int]
    offer_window: int


def phase(event: EventFacts, now: datetime) -> str:
    """Where an event stands for a participant: cancelled, over, started, or ahead."""
    if event.status == EventStatus.CANCELLED.value:
        return "cancelled"
    if event.ends_at <= now:
        return "over"
    return "started" if event.starts_at <= now else "ahead"


def next_registration(
    event: EventFacts, counts: Occupancy, now: datetime, waiting_ahead: Optional[int] = None
) -> NextRegistration:
    """What a registration made now would get, before anything that depends on the person
    (an organization's limit, members first): the same rule `register` applies. Where
    contingents apply, `waiting_ahead` is how many of those waiting could take a seat now
    (contingents.waiting_ahead); the others do not stand in a newcomer's way."""
    if not is_registration_open(event, now):
        return NextRegistration.CLOSED
    if waiting_ahead is not None:
        if event.capacity - counts.seats_taken > waiting_ahead:
            return NextRegistration.CONFIRMED
    elif newcomer_gets_seat(counts.seats_taken, counts.waitlist_length, event.capacity):
        return NextRegistration.CONFIRMED
    return NextRegistration.WAITLISTED if event.waitlist_enabled else NextRegistration.FULL


def seats_left(event: EventFacts, counts: Occupancy) -> int:
    return max(0, event.capacity - counts.seats_taken)


class ContingentFacts(Protocol):
    members_first_until: Optional[datetime]
    contingents_release_at: Optional[datetime]


def waiting_ends_at(event: ContingentFacts, reason: Optional[str]) -> Optional[datetime]:
    """When the rule a person waits for ends, so that they may get a free seat: the end of
    members first, the release of the contingents; None when they wait for a free seat."""
    if reason == WaitlistReason.MEMBERS_FIRST.value:
        return event.members_first_until
    if reason == WaitlistReason.ORGANIZATION_LIMIT.value:
        return event.contingents_release_at
    return None


class RegistrationFacts(Protocol):
    status: str
    offer_expires_at: Optional[datetime]
    reconfirm_asked_at: Optional[datetime]
    reconfirmed_at: Optional[datetime]


@dataclass(frozen=True)
class ParticipantActions:
    """What the holder of a registration may do now (an organizer may do more)."""

    cancel: bool
    transfer: bool
    accept: bool
    decline: bool
    reconfirm: bool
    change_sessions: bool


def participant_actions(registration: RegistrationFacts, event: EventFacts, now: datetime) -> ParticipantActions:
    ahead = phase(event, now) == "ahead"
    status = registration.status
    offer_open = status == OFFERED and (registration.offer_expires_at is None or now < registration.offer_expires_at)
    return ParticipantActions(
        cancel=ahead and status != CANCELLED,
        transfer=ahead and status == CONFIRMED and event.status == EventStatus.PUBLISHED.value,
        accept=ahead and offer_open,
        decline=ahead and offer_open,
        reconfirm=ahead
        and status == CONFIRMED
        and registration.reconfirm_asked_at is not None
        and registration.reconfirmed_at is None,
        change_sessions=ahead and status != CANCELLED and event.status == EventStatus.PUBLISHED.value,
    )


# The invite each kind of email carries (API.md's table); the rest carry none.
EMAIL_INVITE = {
    outbox.CONFIRMATION: invites.REQUEST,
    outbox.PROMOTED: invites.REQUEST,
    outbox.REMINDER: invites.REQUEST,
    outbox.EVENT_UPDATED: invites.REQUEST,
    outbox.CANCELLED: invites.CANCEL,
    outbox.RELEASED: invites.CANCEL,
    outbox.EVENT_CANCELLED: invites.CANCEL,
}


def email_invite_method(kind: str, had_seat: bool) -> Optional[str]:
    """The invite an email of `kind` carries; an event's cancellation only to those who held a seat."""
    if kind == outbox.EVENT_CANCELLED and not had_seat:
        return None
    return EMAIL_INVITE.get(kind)


def download_invite_method(registration_status: str, event_status: str) -> Optional[str]:
    """The invite a participant downloads: a REQUEST while they hold a seat, a CANCEL once it
    is gone, none while they wait."""
    if registration_status == WAITLISTED:
        return None
    if registration_status == CANCELLED or event_status == EventStatus.CANCELLED.value:
        return invites.CANCEL
    return invites.REQUEST

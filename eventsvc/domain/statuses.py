"""The statuses an event and a registration can be in, and which of them count for what.

Every rule that asks "does this registration hold a seat?" or "is it live?" reads these
sets; nothing else spells the statuses out.
"""

from __future__ import annotations

import enum


class EventStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RegistrationStatus(str, enum.Enum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    # Offered a freed seat that is held for them until they accept or the offer expires.
    OFFERED = "offered"
    CANCELLED = "cancelled"


class CancelReason(str, enum.Enum):
    PARTICIPANT = "participant"
    ORGANIZER = "organizer"
    DECLINED = "declined"
    OFFER_EXPIRED = "offer_expired"
    NOT_RECONFIRMED = "not_reconfirmed"
    TRANSFERRED = "transferred"
    ERASED = "erased"


class OutboxStatus(str, enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # The email lost its reason before it went out (say, a reminder to someone who cancelled).
    SKIPPED = "skipped"
    # Not sent: the address is undeliverable (bounces.py).
    SUPPRESSED = "suppressed"


CONFIRMED = RegistrationStatus.CONFIRMED.value
WAITLISTED = RegistrationStatus.WAITLISTED.value
OFFERED = RegistrationStatus.OFFERED.value
CANCELLED = RegistrationStatus.CANCELLED.value

# Statuses that hold one of the event's seats: counted against capacity everywhere.
SEAT_HOLDING = (CONFIRMED, OFFERED)
# Statuses of a registration that is still in play: one per address and event.
LIVE = (CONFIRMED, WAITLISTED, OFFERED)


def sql_constant(status: str) -> str:
    return f"'{status}'"


def sql_list(statuses: tuple[str, ...]) -> str:
    """`'a', 'b'` for a partial index's predicate, which is written as SQL text."""
    return ", ".join(sql_constant(status) for status in statuses)

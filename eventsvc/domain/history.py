"""The history of each registration: who changed what, when and why.

A registration records its own creation (when, as what, by whom: its `registered_*`
columns, written by the one insert that makes it; registering is the hot path, and an extra
row there would cost a round trip under the event's lock). Every later change of its status
(or its attendance) is a row here, written by the domain function that makes the change, in
the same transaction. Together they are also the audit trail of what organizers did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import ColumnElement, String, insert, literal, select, update
from sqlalchemy.orm import Session

from eventsvc.domain.models import Registration, RegistrationChange

log = logging.getLogger(__name__)

PARTICIPANT = "participant"
ORGANIZER = "organizer"
SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who causes a change: the participant, an organizer (by their token's or account's
    name), or the service itself (the scheduler, a promotion that follows a cancellation)."""

    kind: str
    name: Optional[str] = None


BY_PARTICIPANT = Actor(PARTICIPANT)
BY_SYSTEM = Actor(SYSTEM)


def organizer(name: Optional[str]) -> Actor:
    return Actor(ORGANIZER, name)


_INSERT = insert(RegistrationChange)


def entry(registration_id: int, status: str, reason: Optional[str], by: Actor, now: datetime) -> dict[str, Any]:
    return {
        "registration_id": registration_id,
        "at": now,
        "status": status,
        "reason": reason,
        "by": by.kind,
        "actor": by.name,
    }


def record(
    session: Session, registration_id: int, status: str, reason: Optional[str], by: Actor, now: datetime
) -> None:
    change = entry(registration_id, status, reason, by, now)
    session.connection().execute(_INSERT, change)
    _log(change)


def record_for(
    session: Session, registrations: ColumnElement[bool], status: str, reason: Optional[str], by: Actor, now: datetime
) -> None:
    """One entry for each registration matching `registrations`, in one INSERT … SELECT (the
    caller logs the change once for all of them)."""
    columns = ["registration_id", "at", "status", "reason", "by", "actor"]
    rows = select(
        Registration.id,
        literal(now, type_=RegistrationChange.at.type),
        literal(status),
        literal(reason, type_=String),
        literal(by.kind),
        literal(by.name, type_=String),
    ).where(registrations)
    session.execute(insert(RegistrationChange).from_select(columns, rows))


def _log(change: dict[str, Any]) -> None:
    """One line per change, with ids and words, never names or addresses."""
    log.info(
        "registration %s: %s (%s) by %s", change["registration_id"], change["status"], change["reason"], change["by"]
    )


@dataclass(frozen=True)
class Change:
    at: datetime
    status: str
    reason: Optional[str]
    by: str
    actor: Optional[str]


def of_registration(session: Session, registration: Registration) -> list[Change]:
    """Every change of the registration, its creation first."""
    created = Change(
        registration.created_at,
        registration.registered_as,
        "registered",
        registration.registered_by,
        registration.registered_actor,
    )
    later = session.scalars(
        select(RegistrationChange)
        .where(RegistrationChange.registration_id == registration.id)
        .order_by(RegistrationChange.id)
    )
    return [created, *(Change(row.at, row.status, row.reason, row.by, row.actor) for row in later)]


def forget_actors(session: Session, registration_ids: list[int]) -> None:
    """Anonymised registrations keep their history's statuses and times, not who acted."""
    session.execute(
        update(RegistrationChange)
        .where(RegistrationChange.registration_id.in_(registration_ids))
        .values(actor=None)
        .execution_options(synchronize_session=False)
    )


def creation_columns(status: str, by: Actor) -> dict[str, Any]:
    """What a new registration records of its own creation (see the module's notes)."""
    return {"registered_as": status, "registered_by": by.kind, "registered_actor": by.name}


def log_creation(registration_id: int, status: str, by: Actor) -> None:
    _log({"registration_id": registration_id, "status": status, "reason": "registered", "by": by.kind})

"""The history of each registration: who changed what, when and why.

Every domain function that changes a registration's status (or its attendance) records it
here in the same transaction. The rows are also the audit trail of what organizers did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import ColumnElement, String, insert, literal, select
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


def entry(registration_id: int, status: str, reason: Optional[str], by: Actor, now: datetime) -> dict:
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


def record_many(session: Session, entries: list[dict]) -> None:
    if entries:
        session.connection().execute(_INSERT, entries)
    for change in entries:
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


def _log(change: dict) -> None:
    """One line per change, with ids and words, never names or addresses."""
    log.info(
        "registration %s: %s (%s) by %s", change["registration_id"], change["status"], change["reason"], change["by"]
    )


def of_registration(session: Session, registration_id: int) -> list[RegistrationChange]:
    return list(
        session.scalars(
            select(RegistrationChange)
            .where(RegistrationChange.registration_id == registration_id)
            .order_by(RegistrationChange.id)
        )
    )

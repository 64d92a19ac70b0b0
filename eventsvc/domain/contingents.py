"""Seats shared fairly among organizations: at most `organization_limit` seats (confirmed
and offered) per organization until `contingents_release_at`, and until
`members_first_until` seats only for people of member organizations.

Everything here runs under the event's lock (locking.py) and counts what that lock guards,
so two colleagues registering at the same instant cannot both pass their town's limit.
People without an organization are each counted alone. The waitlist stays one queue,
oldest first; those whose organization holds its limit (or who wait for the members'
window to end) are passed over, not moved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional, Protocol

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from eventsvc.domain.models import Event, Organization, Registration
from eventsvc.domain.statuses import SEAT_HOLDING, WAITLISTED, EventStatus
from eventsvc.domain.vocabulary import WaitlistReason


class ContingentRules(Protocol):
    id: int
    organization_limit: Optional[int]
    members_first_until: Optional[datetime]
    contingents_release_at: Optional[datetime]


def limit_applies(event: ContingentRules, now: datetime) -> bool:
    release = event.contingents_release_at
    return event.organization_limit is not None and (release is None or now < release)


def members_first(event: ContingentRules, now: datetime) -> bool:
    return event.members_first_until is not None and now < event.members_first_until


def apply(event: ContingentRules, now: datetime) -> bool:
    """Whether a seat depends on who the person is, now."""
    return limit_applies(event, now) or members_first(event, now)


def reason_to_wait(event: ContingentRules, held: int, member: bool, now: datetime) -> Optional[WaitlistReason]:
    """Why this person may not take a free seat now, if they may not; `held`: the seats
    their organization holds (0 for someone without one, who counts alone)."""
    if members_first(event, now) and not member:
        return WaitlistReason.MEMBERS_FIRST
    limit = event.organization_limit
    if limit_applies(event, now) and limit is not None and held >= limit:
        return WaitlistReason.ORGANIZATION_LIMIT
    return None


def eligible_waiting(session: Session, event: ContingentRules, now: datetime, wanted: int) -> list[int]:
    """The first `wanted` people waiting who may take a seat now, in waitlist order."""
    if wanted <= 0:
        return []
    limit = event.organization_limit if limit_applies(event, now) else None
    only_members = members_first(event, now)
    held: dict[str, int] = {}
    if limit is not None:
        held = {
            str(key): int(count)
            for key, count in session.execute(
                select(Registration.organization_key, func.count())
                .where(
                    Registration.event_id == event.id,
                    Registration.status.in_(SEAT_HOLDING),
                    Registration.organization_key.is_not(None),
                )
                .group_by(Registration.organization_key)
            )
        }
    waiting = session.execute(
        select(Registration.id, Registration.organization_key, func.coalesce(Organization.member, False))
        .outerjoin(Organization, Organization.key == Registration.organization_key)
        .where(Registration.event_id == event.id, Registration.status == WAITLISTED)
        .order_by(Registration.id)
    )
    chosen: list[int] = []
    for registration_id, key, member in waiting:
        if only_members and not member:
            continue
        if limit is not None and key is not None:
            if held.get(key, 0) >= limit:
                continue
            held[key] = held.get(key, 0) + 1
        chosen.append(registration_id)
        if len(chosen) >= wanted:
            break
    return chosen


def waiting_ahead(session: Session, event: ContingentRules, seats_free: int, now: datetime) -> Optional[int]:
    """How many people waiting could take one of `seats_free` seats now, where contingents
    apply (None elsewhere: there everyone waiting is ahead of a newcomer)."""
    if not apply(event, now):
        return None
    return len(eligible_waiting(session, event, now, seats_free))


def _passed(moment: Any, now: datetime) -> ColumnElement[bool]:
    applied = Event.windows_applied_at
    return and_(moment.is_not(None), moment <= now, or_(applied.is_(None), applied < moment))


def events_with_passed_windows(session: Session, now: datetime) -> list[int]:
    """Published events one of whose windows (members first, the limit) has ended since
    their free seats were last handed on."""
    return list(
        session.scalars(
            select(Event.id)
            .where(
                Event.status == EventStatus.PUBLISHED.value,
                Event.starts_at > now,
                or_(_passed(Event.members_first_until, now), _passed(Event.contingents_release_at, now)),
            )
            .order_by(Event.id)
        )
    )


def mark_windows_applied(session: Session, event_id: int, now: datetime) -> None:
    session.execute(update(Event).where(Event.id == event_id).values(windows_applied_at=now))


def rule_fields(values: dict[str, Any]) -> dict[str, list[str]]:
    """What an event's contingent fields must satisfy together."""
    errors: dict[str, list[str]] = {}
    members_until, release = values.get("members_first_until"), values.get("contingents_release_at")
    if release is not None and values.get("organization_limit") is None:
        errors["contingents_release_at"] = ["Needs organization_limit."]
    starts = values.get("starts_at")
    for name, moment in (("members_first_until", members_until), ("contingents_release_at", release)):
        if moment is not None and starts is not None and moment > starts:
            errors[name] = ["Must not be after starts_at."]
    return errors

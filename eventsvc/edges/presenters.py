"""Turning domain objects into the dictionaries the API schemas dump: times in the
event's time zone, URLs from the one place that builds them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from eventsvc.domain import contingents, policies
from eventsvc.domain import sessions as event_sessions
from eventsvc.domain.history import Change
from eventsvc.domain.models import Event, Registration
from eventsvc.domain.registrations import Registered
from eventsvc.domain.rules import Occupancy, is_registration_open, occupancy
from eventsvc.edges.common import links, now


def local(value: Optional[datetime], tz: str) -> Optional[datetime]:
    return None if value is None else value.astimezone(ZoneInfo(tz))


def present_events(session: Session, events: list[Event]) -> list[dict[str, Any]]:
    counts = occupancy(session, [event.id for event in events])
    moment = now()
    return [
        event_dict(event, counts[event.id], moment, seat_offer(session, event, counts[event.id], moment))
        | {"sessions": sessions_of(session, event)}
        for event in events
    ]


def sessions_of(session: Session, event: Event) -> list[dict[str, Any]]:
    """The event's sessions with their seats taken and people waiting, in its time zone."""
    if not event.sessions:
        return []
    held = event_sessions.counts(session, event.id)
    empty = event_sessions.Counts(0, 0)
    return [
        item
        | {
            "starts_at": local(event_sessions.parse_time(item["starts_at"]), event.timezone),
            "ends_at": local(event_sessions.parse_time(item["ends_at"]), event.timezone),
            "seats_taken": held.get(item["key"], empty).seats_taken,
            "waitlist_length": held.get(item["key"], empty).waitlist_length,
        }
        for item in event.sessions
    ]


def seat_offer(session: Session, event: Event, counts: Occupancy, moment: datetime) -> str:
    """What a newcomer would get now (policies.next_registration)."""
    ahead = contingents.waiting_ahead(session, event, policies.seats_left(event, counts), moment)
    return policies.next_registration(event, counts, moment, ahead).value


def event_dict(event: Event, counts: Occupancy, moment: datetime, next_registration: str) -> dict[str, Any]:
    tz = event.timezone
    return {
        "id": event.id,
        "slug": event.slug,
        "title": event.title,
        "description": event.description,
        "location": event.location,
        "starts_at": local(event.starts_at, tz),
        "ends_at": local(event.ends_at, tz),
        "timezone": tz,
        "capacity": event.capacity,
        "waitlist": event.waitlist_enabled,
        "registration_opens_at": local(event.registration_opens_at, tz),
        "registration_closes_at": local(event.registration_closes_at, tz),
        "registration_open": is_registration_open(event, moment),
        "reminders": event.reminder_offsets,
        "documentation_delay": event.documentation_delay,
        "documentation_recipients": event.documentation_recipients,
        "organizer_name": event.organizer_name,
        "organizer_email": event.organizer_email,
        "status": event.status,
        "sequence": event.sequence,
        "seats_taken": counts.seats_taken,
        "seats_left": policies.seats_left(event, counts),
        "next_registration": next_registration,
        "waitlist_length": counts.waitlist_length,
        "waitlist_mode": event.waitlist_mode,
        "offer_window": event.offer_window,
        "promotion_cutoff": event.promotion_cutoff,
        "reconfirm_before": event.reconfirm_before,
        "reconfirm_window": event.reconfirm_window,
        "questions": event.questions or [],
        "retention": event.retention,
        "sensitive_retention": event.sensitive_retention,
        "certificate": event.certificate,
        "organization_limit": event.organization_limit,
        "members_first_until": local(event.members_first_until, tz),
        "contingents_release_at": local(event.contingents_release_at, tz),
        "roles": event.roles,
        "series": event.series,
        "feedback": event.feedback,
        "url": links().event(event.id),
        "ics_url": links().event_ics(event.id),
    }


def registration_created(
    registration: Registration | Registered, position: Optional[int], choices: Optional[list[dict[str, Any]]] = None
) -> dict[str, Any]:
    return {
        "id": registration.id,
        "status": registration.status,
        "waitlist_position": position,
        "token": registration.token,
        "manage_url": links().manage(registration.token),
        "offer_expires_at": None,
        "reconfirmed_at": None,
        "cancel_reason": None,
        "answers": None,
        "sensitive_consent_at": None,
        "consented_at": registration.consented_at,
        "privacy_url": registration.privacy_url,
        "waitlist_reason": registration.waitlist_reason,
        "organization_key": registration.organization_key,
        "organization": registration.organization,
        # Registering lifts an undeliverable mark (bounces.py).
        "email_undeliverable": False,
        "sessions": list(choices if choices is not None else getattr(registration, "sessions", ())),
    }


def _lifecycle(registration: Registration) -> dict[str, Any]:
    tz = registration.event.timezone
    return {
        "offer_expires_at": local(registration.offer_expires_at, tz),
        "reconfirmed_at": local(registration.reconfirmed_at, tz),
        "cancel_reason": registration.cancel_reason,
        "answers": registration.answers or {},
        "sensitive_consent_at": local(registration.sensitive_consent_at, tz),
        "consented_at": local(registration.consented_at, tz),
        "privacy_url": registration.privacy_url,
        "waitlist_reason": registration.waitlist_reason,
        "organization_key": registration.organization_key,
        "email_undeliverable": bool(registration.email_undeliverable),
    }


def registration_dict(
    registration: Registration, position: Optional[int], event: dict[str, Any], choices: list[dict[str, Any]]
) -> dict[str, Any]:
    return (
        registration_created(registration, position, choices)
        | _lifecycle(registration)
        | {
            "name": registration.name,
            "email": registration.email,
            "organization": registration.organization,
            "role": registration.role,
            "language": registration.language,
            "created_at": local(registration.created_at, registration.event.timezone),
            "invite_url": links().invite(registration.token),
            "event": event,
        }
    )


def admin_registration_dict(
    registration: Registration, position: Optional[int], choices: Optional[list[dict[str, Any]]] = None
) -> dict[str, Any]:
    tz = registration.event.timezone
    shown = {
        "sessions": choices or [],
        "id": registration.id,
        "name": registration.name,
        "email": registration.email,
        "organization": registration.organization,
        "role": registration.role,
        "language": registration.language,
        "status": registration.status,
        "waitlist_position": position,
        "created_at": local(registration.created_at, tz),
        "confirmed_at": local(registration.confirmed_at, tz),
        "cancelled_at": local(registration.cancelled_at, tz),
        "attended": registration.attended,
        "checked_in_at": local(registration.checked_in_at, tz),
    } | _lifecycle(registration)
    if registration.anonymised_at is None:
        return shown | {"anonymised": False}
    # Nothing personal is left of it; only what counts and attendance need.
    return shown | {
        "anonymised": True,
        "name": None,
        "email": None,
        "organization": None,
        "organization_key": None,
        "role": None,
        "answers": None,
        "privacy_url": None,
        "email_undeliverable": False,
    }


def change_dict(change: Change, tz: str) -> dict[str, Any]:
    return {
        "at": local(change.at, tz),
        "status": change.status,
        "reason": change.reason,
        "by": change.by,
        "actor": change.actor,
    }

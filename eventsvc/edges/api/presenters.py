"""Turning domain objects into the dictionaries the API schemas dump: times in the
event's time zone, URLs from EVENTSVC_BASE_URL."""

from __future__ import annotations

from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo

from flask import current_app

from eventsvc.domain.events import Occupancy
from eventsvc.domain.models import Event, Registration
from eventsvc.domain.registrations import Registered, is_registration_open


def base_url() -> str:
    return current_app.config["BASE_URL"]


def local(value: Optional[datetime], tz: str) -> Optional[datetime]:
    return None if value is None else value.astimezone(ZoneInfo(tz))


def event_dict(event: Event, occupancy: Occupancy, now: datetime) -> dict:
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
        "registration_open": is_registration_open(event, now),
        "reminders": event.reminder_offsets,
        "documentation_delay": event.documentation_delay,
        "documentation_recipients": event.documentation_recipients,
        "organizer_name": event.organizer_name,
        "organizer_email": event.organizer_email,
        "status": event.status,
        "sequence": event.sequence,
        "seats_taken": occupancy.seats_taken,
        "seats_left": max(0, event.capacity - occupancy.seats_taken),
        "waitlist_length": occupancy.waitlist_length,
        "url": f"{base_url()}/events/{event.id}",
        "ics_url": f"{base_url()}/events/{event.id}.ics",
    }


def manage_url(registration: Registration | Registered) -> str:
    return f"{base_url()}/r/{registration.token}"


def registration_created(registration: Registration | Registered, position: Optional[int]) -> dict:
    return {
        "id": registration.id,
        "status": registration.status,
        "waitlist_position": position,
        "token": registration.token,
        "manage_url": manage_url(registration),
    }


def registration_dict(registration: Registration, position: Optional[int], event: dict) -> dict:
    return registration_created(registration, position) | {
        "name": registration.name,
        "email": registration.email,
        "organization": registration.organization,
        "role": registration.role,
        "language": registration.language,
        "created_at": local(registration.created_at, registration.event.timezone),
        "invite_url": f"{base_url()}/api/v1/registrations/{registration.token}/invite.ics",
        "event": event,
    }


def admin_registration_dict(registration: Registration, position: Optional[int]) -> dict:
    tz = registration.event.timezone
    return {
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
    }

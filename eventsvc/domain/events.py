"""Creating, changing, publishing and cancelling events."""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventsvc.domain import contingents, feedback, interest, outbox, questions, sessions
from eventsvc.domain.errors import InvalidState, NotFound, ValidationFailed
from eventsvc.domain.locking import lock_event
from eventsvc.domain.models import Event, Registration, RegistrationSession
from eventsvc.domain.rules import feed_cutoff, in_public_feed, is_public, listed_publicly
from eventsvc.domain.seats import fill_free_seats
from eventsvc.domain.statuses import CONFIRMED, WAITLISTED, EventStatus
from eventsvc.domain.vocabulary import HOME_ZONE

log = logging.getLogger(__name__)

DEFAULT_REMINDERS = [7 * 86400, 86400]
DEFAULT_DOCUMENTATION_DELAY = 2 * 3600
DEFAULT_OFFER_WINDOW = 48 * 3600
DEFAULT_RECONFIRM_WINDOW = 3 * 86400
MIN_OFFER_WINDOW = 60
DEFAULT_RETENTION = 365 * 86400
DEFAULT_SENSITIVE_RETENTION = 30 * 86400
# The fields whose change is sent to participants as an updated invite.
SCHEDULE_FIELDS = ("starts_at", "ends_at", "location")


def create_event(
    session: Session, fields: dict[str, Any], now: datetime, default_retention: int = DEFAULT_RETENTION
) -> Event:
    """A new event; what `fields` leaves out (or gives as None, for retention) takes the
    defaults, the installation's retention among them."""
    fields = {name: value for name, value in fields.items() if not (name == "retention" and value is None)}
    values = {
        "timezone": HOME_ZONE,
        "waitlist_enabled": True,
        "reminder_offsets": DEFAULT_REMINDERS,
        "documentation_delay": DEFAULT_DOCUMENTATION_DELAY,
        "documentation_recipients": "confirmed",
        "status": EventStatus.DRAFT.value,
        "waitlist_mode": "auto",
        "offer_window": DEFAULT_OFFER_WINDOW,
        "promotion_cutoff": None,
        "reconfirm_before": None,
        "reconfirm_window": DEFAULT_RECONFIRM_WINDOW,
        "reminders_queued": {},
        "retention": default_retention,
        **fields,
    }
    # Sensitive answers never outlast the rest.
    values.setdefault("sensitive_retention", min(DEFAULT_SENSITIVE_RETENTION, values["retention"]))
    _check_rules(values)
    values["reminder_offsets"] = sorted(set(values["reminder_offsets"]), reverse=True)
    values["questions"] = questions.normalised(values.get("questions") or [])
    values["sessions"] = sessions.normalised(values.get("sessions") or [], values["starts_at"], values["ends_at"])
    values["feedback"] = feedback.normalised(values.get("feedback"))
    event = Event(
        slug=f"{slugify(values['title'])}-{secrets.token_hex(3)}",
        uid=f"{uuid.uuid4()}@eventsvc",
        sequence=0,
        created_at=now,
        changed_at=now,
        **values,
    )
    session.add(event)
    session.flush()
    interest.announce(session, event, now)
    log.info("event %s: created (%s)", event.id, event.status)
    return event


def update_event(session: Session, event_id: int, changes: dict[str, Any], now: datetime) -> Event:
    event = lock_event(session, event_id)
    if event.status == EventStatus.CANCELLED.value:
        raise InvalidState("A cancelled event cannot be changed.")
    if "retention" in changes and "sensitive_retention" not in changes:
        changes = changes | {"sensitive_retention": min(event.sensitive_retention, changes["retention"])}
    merged = {name: getattr(event, name) for name in _RULE_FIELDS} | changes
    _check_rules(merged)
    if "reminder_offsets" in changes:
        changes = changes | {"reminder_offsets": sorted(set(changes["reminder_offsets"]), reverse=True)}
    if "sessions" in changes or ("sessions" not in changes and event.sessions and moved_times(event, changes)):
        new_sessions = sessions.normalised(
            changes.get("sessions", event.sessions) or [], merged["starts_at"], merged["ends_at"]
        )
        _check_sessions_kept(session, event, new_sessions)
        changes = changes | {"sessions": new_sessions}
    if "feedback" in changes:
        changes = changes | {"feedback": feedback.normalised(changes["feedback"])}
    if "questions" in changes:
        new_questions = questions.normalised(changes["questions"] or [])
        questions.check_change(event.questions or [], new_questions, _answered_keys(session, event.id))
        changes = changes | {"questions": new_questions}
    moved = event.status == EventStatus.PUBLISHED.value and any(
        name in changes and changes[name] != getattr(event, name) for name in SCHEDULE_FIELDS
    )
    changed = any(changes[name] != getattr(event, name) for name in changes)
    # What participants are told changed (the email compares it with the event when sent).
    previous = {
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "location": event.location,
    }
    for name, value in changes.items():
        setattr(event, name, value)
    if any(name in changes for name in ("ends_at", "retention")):
        event.retention_notice_at = None  # the organizer is told of the new date
    if changed:
        event.changed_at = now
    if moved:
        event.sequence += 1
        for registration in _registrations(session, event.id, CONFIRMED):
            outbox.enqueue(
                session, outbox.EVENT_UPDATED, registration, now, {"sequence": event.sequence, "previous": previous}
            )
    if any(name in changes for name in ("members_first_until", "contingents_release_at")):
        event.windows_applied_at = None  # a window moved: its end hands seats on again
    if any(name in changes for name in SEAT_RULE_FIELDS) and event.status == EventStatus.PUBLISHED.value:
        fill_free_seats(session, event, now)
    if changes.get("status") == EventStatus.PUBLISHED.value or "series" in changes:
        interest.announce(session, event, now)
    session.flush()
    if changed:
        log.info(
            "event %s: changed %s%s", event.id, ", ".join(sorted(changes)), " (participants told)" if moved else ""
        )
    return event


def cancel_event(session: Session, event_id: int, now: datetime) -> Event:
    event = lock_event(session, event_id)
    if event.status == EventStatus.CANCELLED.value:
        return event
    was_public = event.status == EventStatus.PUBLISHED.value
    event.status = EventStatus.CANCELLED.value
    event.cancelled_at = now
    event.changed_at = now
    event.sequence += 1
    if was_public:
        for registration in _registrations(session, event.id, CONFIRMED, WAITLISTED):
            outbox.enqueue(
                session,
                outbox.EVENT_CANCELLED,
                registration,
                now,
                {"sequence": event.sequence, "had_seat": registration.status == CONFIRMED},
            )
    session.flush()
    log.info("event %s: cancelled", event.id)
    return event


# What a copy of an event takes over: everything but its identity, state and schedule marks.
COPIED_FIELDS = (
    "description",
    "location",
    "starts_at",
    "ends_at",
    "timezone",
    "capacity",
    "waitlist_enabled",
    "waitlist_mode",
    "offer_window",
    "promotion_cutoff",
    "reconfirm_before",
    "reconfirm_window",
    "questions",
    "reminder_offsets",
    "documentation_delay",
    "documentation_recipients",
    "organizer_name",
    "organizer_email",
    "retention",
    "sensitive_retention",
    "certificate",
    "organization_limit",
    "members_first_until",
    "contingents_release_at",
    "roles",
    "series",
    "sessions",
    "feedback",
)


def duplicate_event(session: Session, event_id: int, title: str, now: datetime) -> Event:
    """A draft copy of an event (the next one of a series): its settings, no registrations."""
    original = get_event(session, event_id, public=False)
    fields = {name: getattr(original, name) for name in COPIED_FIELDS}
    return create_event(session, fields | {"title": title, "status": EventStatus.DRAFT.value}, now)


def publish_event(session: Session, event_id: int, now: datetime) -> Event:
    event = lock_event(session, event_id)
    if event.status != EventStatus.DRAFT.value:
        raise InvalidState("Only a draft can be published.")
    return update_event(session, event_id, {"status": EventStatus.PUBLISHED.value}, now)


def get_event(session: Session, event_id: int, public: bool) -> Event:
    event = session.get(Event, event_id)
    if event is None or (public and not is_public(event.status)):
        raise NotFound("No such event.")
    return event


def list_events(session: Session, now: datetime, public: bool) -> list[Event]:
    query = select(Event).order_by(Event.starts_at, Event.id)
    if public:
        query = query.where(listed_publicly(now))
    return list(session.scalars(query))


def series_events(session: Session, series: str, now: datetime) -> list[Event]:
    """A series' events that the public list shows (published, not ended), soonest first."""
    return list(
        session.scalars(
            select(Event).where(listed_publicly(now), Event.series == series).order_by(Event.starts_at, Event.id)
        )
    )


def feed_events(session: Session, now: datetime) -> list[Event]:
    return list(
        session.scalars(select(Event).where(in_public_feed(feed_cutoff(now))).order_by(Event.starts_at, Event.id))
    )


_RULE_FIELDS = (
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "status",
    "offer_window",
    "reconfirm_before",
    "reconfirm_window",
    "retention",
    "sensitive_retention",
    "organization_limit",
    "members_first_until",
    "contingents_release_at",
)
# Changing these may let people waiting take free seats at once.
SEAT_RULE_FIELDS = ("capacity", "organization_limit", "members_first_until", "contingents_release_at", "sessions")


def moved_times(event: Event, changes: dict[str, Any]) -> bool:
    return any(name in changes and changes[name] != getattr(event, name) for name in ("starts_at", "ends_at"))


def _check_sessions_kept(session: Session, event: Event, new_sessions: list[dict[str, Any]]) -> None:
    """A session that people chose cannot be removed (they would lose their seat unasked)."""
    kept = {item["key"] for item in new_sessions}
    chosen = set(
        session.scalars(
            select(RegistrationSession.session_key).where(RegistrationSession.event_id == event.id).distinct()
        )
    )
    gone = sorted(chosen - kept)
    if gone:
        raise ValidationFailed({"sessions": [f"People chose {', '.join(gone)}; it cannot be removed."]})


def _check_rules(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if values["ends_at"] <= values["starts_at"]:
        errors["ends_at"] = ["Must be after starts_at."]
    opens, closes = values.get("registration_opens_at"), values.get("registration_closes_at")
    if opens and closes and closes <= opens:
        errors["registration_closes_at"] = ["Must be after registration_opens_at."]
    if values.get("offer_window", MIN_OFFER_WINDOW) < MIN_OFFER_WINDOW:
        errors["offer_window"] = ["Must be at least PT1M."]
    before, window = values.get("reconfirm_before"), values.get("reconfirm_window", DEFAULT_RECONFIRM_WINDOW)
    if before is not None and window >= before:
        errors["reconfirm_window"] = ["Must be shorter than reconfirm_before."]
    if values.get("sensitive_retention", 0) > values.get("retention", DEFAULT_RETENTION):
        errors["sensitive_retention"] = ["Must not be longer than retention."]
    if values.get("status") not in (EventStatus.DRAFT.value, EventStatus.PUBLISHED.value):
        errors["status"] = ["Must be one of: draft, published."]
    errors |= contingents.rule_fields(values)
    if errors:
        raise ValidationFailed(errors)


def _answered_keys(session: Session, event_id: int) -> set[str]:
    keys: set[str] = set()
    for answers in session.scalars(
        select(Registration.answers).where(Registration.event_id == event_id, Registration.answers.is_not(None))
    ):
        keys.update(answers or {})
    return keys


def _registrations(session: Session, event_id: int, *statuses: str) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .where(Registration.event_id == event_id, Registration.status.in_(statuses))
            .order_by(Registration.id)
        )
    )


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title.translate(_UMLAUTS)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:80] or "event"

"""The end of retention: an event's personal data goes when its purpose has ended.

Three steps fall due after an event's `ends_at`, each with its own time:

- at `ends_at + retention − NOTICE_AHEAD` the organizer gets a `retention-notice` with the date;
- at `ends_at + sensitive_retention` the answers to sensitive questions (Art. 9 DSGVO) go;
- at `ends_at + retention` every registration is anonymised (privacy.anonymise), emails still
  queued to them are dropped, and the event is marked done.

An event of thousands of registrations is worked through in batches of `batch` registrations,
each in the caller's unit of work under the event's lock, so that a batch is done entirely or
not at all. Work left over is found again by the next call: the registrations not yet
anonymised, and for the sensitive answers the id up to which they are removed. A crash
between batches loses nothing and repeats nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from eventsvc.domain import outbox, privacy, report
from eventsvc.domain.locking import lock_event
from eventsvc.domain.models import Event, Registration

NOTICE_AHEAD = timedelta(days=14)
BATCH = 500


def removal_time(event: Event) -> datetime:
    return event.ends_at + timedelta(seconds=event.retention)


def notice_time(event: Event) -> datetime:
    return removal_time(event) - NOTICE_AHEAD


def sensitive_removal_time(event: Event) -> datetime:
    return event.ends_at + timedelta(seconds=min(event.sensitive_retention, event.retention))


def queue_notices(session: Session, now: datetime) -> int:
    """Tell organizers of the removals that are NOTICE_AHEAD away (or nearer, if the event's
    retention is shorter than that)."""
    queued = 0
    for event_id in _due(session, now, Event.retention_notice_at.is_(None), notice_time):
        event = lock_event(session, event_id)
        removal = removal_time(event)
        if event.retention_notice_at is not None or notice_time(event) > now:
            continue
        if event.organizer_email and removal > now:
            outbox.insert_row(
                session,
                outbox.new_row(
                    outbox.RETENTION_NOTICE,
                    event.id,
                    None,
                    event.organizer_email,
                    None,
                    now,
                    {"removal_at": removal.isoformat()},
                    dedupe_key=f"retention-notice:{event.id}:{removal.isoformat()}",
                ),
                once=True,  # the date may come back after a change: it was told already
            )
            queued += 1
        event.retention_notice_at = now
    return queued


def next_sensitive_event(session: Session, now: datetime) -> Optional[int]:
    """An event whose sensitive answers are due to go, if any."""
    return next(iter(_due(session, now, Event.sensitive_removed_at.is_(None), sensitive_removal_time)), None)


def remove_sensitive_answers(session: Session, event_id: int, now: datetime, batch: int = BATCH) -> int:
    """One batch of the event's registrations loses its answers to sensitive questions;
    returns how many registrations were looked at (0 once the event is done)."""
    event = lock_event(session, event_id)
    if event.sensitive_removed_at is not None or sensitive_removal_time(event) > now:
        return 0
    sensitive = {question["key"] for question in event.questions or [] if question.get("sensitive")}
    rows = (
        session.execute(
            select(Registration.id, Registration.answers)
            .where(
                Registration.event_id == event.id,
                Registration.id > event.sensitive_removed_through,
                Registration.answers.is_not(None),
            )
            .order_by(Registration.id)
            .limit(batch)
        ).all()
        if sensitive
        else []
    )
    for registration_id, answers in rows:
        if sensitive & set(answers or {}):
            kept = {key: value for key, value in answers.items() if key not in sensitive}
            session.execute(
                update(Registration)
                .where(Registration.id == registration_id)
                .values(answers=kept)
                .execution_options(synchronize_session=False)
            )
    if rows:
        event.sensitive_removed_through = rows[-1].id
    if len(rows) < batch:
        event.sensitive_removed_at = now
    return len(rows)


def next_event_to_anonymise(session: Session, now: datetime) -> Optional[int]:
    return next(iter(_due(session, now, Event.personal_data_removed_at.is_(None), removal_time)), None)


@dataclass
class Batch:
    registrations: int = 0
    sent_message_keys: list[str] = field(default_factory=list)


def anonymise_batch(session: Session, event_id: int, now: datetime, batch: int = BATCH) -> Batch:
    """Anonymise the next `batch` registrations of an event whose retention has ended; once
    none are left the event is marked done. Returns what this batch did."""
    event = lock_event(session, event_id)
    if event.personal_data_removed_at is not None or removal_time(event) > now:
        return Batch()
    ids = list(
        session.scalars(
            select(Registration.id)
            .where(Registration.event_id == event.id, Registration.anonymised_at.is_(None))
            .order_by(Registration.id)
            .limit(batch)
        )
    )
    done = Batch(registrations=len(ids))
    if event.report_snapshot is None:
        # The counts outlive the people they count.
        event.report_snapshot = report.counts(session, event)
    if ids:
        privacy.drop_queued(session, ids)
        done.sent_message_keys = privacy.anonymise(session, event, ids, now, privacy.RETENTION)
        event = lock_event(session, event_id)  # anonymise expired the session's objects
    if len(ids) < batch:
        event.personal_data_removed_at = now
        event.sensitive_removed_at = event.sensitive_removed_at or now
        event.retention_notice_at = event.retention_notice_at or now
    return done


def _due(
    session: Session, now: datetime, pending: ColumnElement[bool], due_at: Callable[[Event], datetime]
) -> list[int]:
    """The events that have ended with a step pending whose time has come. The retention is
    per event, and adding a duration to a time is written differently in each database, so
    the time is compared here; the events still within retention are few."""
    events = session.scalars(select(Event).where(pending, Event.ends_at <= now).order_by(Event.ends_at, Event.id))
    return [event.id for event in events if due_at(event) <= now]

"""Reminders: one per offset and confirmed participant, written to the outbox when due.

A reminder is due at starts_at − offset. It is written once (the dedupe key names the
registration and the offset), only for people who held their seat before it fell due (a
reminder whose time had passed when the seat was taken is not sent), and it follows the
event when the event moves, because the due time is computed from starts_at at each tick.
The insert is one INSERT … SELECT per event and offset, so a tick over thousands of
participants stays cheap, and ON CONFLICT DO NOTHING makes concurrent schedulers harmless.
Once an offset's due time is SETTLE past, nobody can still qualify for it (a seat taken
later comes after the due time), so it is marked done on the event and not scanned again;
SETTLE covers registrations that were being committed while the reminders were queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import JSON, String, cast, literal, select
from sqlalchemy.orm import Session

from eventsvc.domain import outbox
from eventsvc.domain.models import Event, EventStatus, OutboxMessage, OutboxStatus, Registration, RegistrationStatus


SETTLE = timedelta(minutes=5)


def queue_due_reminders(session: Session, now: datetime) -> int:
    events = session.scalars(
        select(Event).where(Event.status == EventStatus.PUBLISHED.value, Event.starts_at > now)
    )
    queued = 0
    for event in events:
        done = dict(event.reminders_queued or {})
        for offset in event.reminder_offsets:
            due = event.starts_at - timedelta(seconds=offset)
            if due > now or done.get(str(offset)) == due.isoformat():
                continue
            queued += _queue(session, event, offset, due, now)
            if now >= due + SETTLE:
                done[str(offset)] = due.isoformat()
        if done != (event.reminders_queued or {}):
            event.reminders_queued = done
    return queued


def _queue(session: Session, event: Event, offset: int, due: datetime, now: datetime) -> int:
    dedupe = literal("reminder:") + cast(Registration.id, String) + literal(f":{offset}")
    rows = select(
        literal(outbox.REMINDER),
        Registration.event_id,
        Registration.id,
        Registration.email,
        dedupe,
        literal({"offset": offset}, JSON),
        literal(OutboxStatus.QUEUED.value),
        literal(0),
        literal(now, OutboxMessage.next_attempt_at.type),
        literal(now, OutboxMessage.created_at.type),
    ).where(
        Registration.event_id == event.id,
        Registration.status == RegistrationStatus.CONFIRMED.value,
        Registration.confirmed_at <= due,
    )
    statement = outbox.insert_ignoring_duplicates(session).from_select(
        ["kind", "event_id", "registration_id", "recipient", "dedupe_key", "params", "status", "attempts",
         "next_attempt_at", "created_at"],
        rows,
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxMessage.id)
    # Counted from RETURNING: psycopg reports rowcount -1 for INSERT … SELECT … ON CONFLICT.
    return len(session.execute(statement).all())

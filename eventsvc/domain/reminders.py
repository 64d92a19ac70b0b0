"""Reminders: one per offset and confirmed participant, written to the outbox when due.

A reminder is due at starts_at − offset. It is written once (the dedupe key names the
registration and the offset), only for people who held their seat before it fell due (a
reminder whose time had passed when the seat was taken is not sent), and it follows the
event when the event moves, because the due time is computed from starts_at at each tick.
The insert is one INSERT … SELECT per event and offset, so a tick over thousands of
participants stays cheap, and skipping rows already queued makes concurrent schedulers harmless.
A tick queues at most about ROWS_PER_TICK reminders; what is left waits for the next tick.
Once an offset's due time is SETTLE past, nobody can still qualify for it (a seat taken
later comes after the due time), so it is marked done on the event and not scanned again;
SETTLE covers registrations that were being committed while the reminders were queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventsvc.domain import outbox
from eventsvc.domain.models import Event, Registration
from eventsvc.domain.statuses import CONFIRMED, EventStatus

SETTLE = timedelta(minutes=5)
# A tick starts no new (event, offset) once it has queued this many reminders; the rest
# follow on the next ticks, earliest due first. A tick stays well under a second on a slow
# machine however many reminders fall due at once (say, after a week without a scheduler),
# and a tick every 30 seconds still queues about as fast as one sender can send.
ROWS_PER_TICK = 5_000


def queue_due_reminders(session: Session, now: datetime, budget: int = ROWS_PER_TICK) -> int:
    events = session.scalars(
        select(Event).where(Event.status == EventStatus.PUBLISHED.value, Event.starts_at > now)
    ).all()
    owed = sorted(
        (
            (event.starts_at - timedelta(seconds=offset), event, offset)
            for event in events
            for offset in event.reminder_offsets
        ),
        key=lambda item: (item[0], item[1].id, item[2]),
    )
    queued = 0
    for due, event, offset in owed:
        done = event.reminders_queued or {}
        if due > now or done.get(str(offset)) == due.isoformat():
            continue
        if queued >= budget:
            break
        queued += _queue(session, event, offset, due, now)
        if now >= due + SETTLE:
            event.reminders_queued = {**done, str(offset): due.isoformat()}
    return queued


def _queue(session: Session, event: Event, offset: int, due: datetime, now: datetime) -> int:
    return outbox.enqueue_for_registrations(
        session,
        outbox.REMINDER,
        (Registration.event_id == event.id) & (Registration.status == CONFIRMED) & (Registration.confirmed_at <= due),
        now,
        {"offset": offset},
        dedupe=("reminder:", f":{offset}"),
    )

"""Taking an event's seats under a lock.

Every change to an event's registrations starts by locking the event row. On PostgreSQL that
is SELECT ... FOR UPDATE, which serialises concurrent registrations for one event across
workers and instances; on SQLite the transaction already holds the database's write lock
(BEGIN IMMEDIATE, see eventsvc.db), and FOR UPDATE renders as nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventsvc.domain.errors import NotFound
from eventsvc.domain.models import Event


def lock_event(session: Session, event_id: int) -> Event:
    event = session.scalar(
        select(Event).where(Event.id == event_id).with_for_update().execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFound("No such event.")
    return event

"""Taking an event's seats under a lock.

Every change to an event's registrations starts by locking the event row. On PostgreSQL that
is SELECT ... FOR UPDATE, which serialises concurrent registrations for one event across
workers and instances; on SQLite the write transaction already holds the database's write
lock (see eventsvc.db), and FOR UPDATE renders as nothing. Both refuse to run outside a
unit of work that writes.

Whoever locks an event may change its registrations, so the seats taken and the people
waiting kept on the event row are counted again before that unit of work commits. A new
registration, the one change that locks through lock_event_rules, counts itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from eventsvc.db import Prepared, before_commit, do_before_commit_now, require_write_transaction, run_together
from eventsvc.domain.errors import NotFound
from eventsvc.domain.models import Event
from eventsvc.domain.rules import recount


def lock_event(session: Session, event_id: int) -> Event:
    require_write_transaction(session)
    event = session.scalar(
        select(Event).where(Event.id == event_id).with_for_update().execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFound("No such event.")
    before_commit(session, _recount_key(event_id), lambda session: recount(session, event_id))
    return event


def _recount_key(event_id: int) -> tuple[str, int]:
    return ("recount", event_id)


# Registering is the hot path: its statements are built once, executed with parameters.
_EVENTS = Event.__table__.c
_LOCK_SEAT_RULES = (
    select(
        _EVENTS.id,
        _EVENTS.status,
        _EVENTS.capacity,
        _EVENTS.waitlist_enabled,
        _EVENTS.registration_opens_at,
        _EVENTS.registration_closes_at,
        _EVENTS.starts_at,
        _EVENTS.sequence,
        _EVENTS.kept_seats_taken,
        _EVENTS.kept_waitlist_length,
        _EVENTS.questions,
        _EVENTS.roles,
        _EVENTS.promotion_cutoff,
        _EVENTS.organization_limit,
        _EVENTS.members_first_until,
        _EVENTS.contingents_release_at,
        _EVENTS.sessions,
    )
    .where(_EVENTS.id == bindparam("event_id"))
    .with_for_update()
)


_LOCK_SEAT_RULES_PREPARED = Prepared(_LOCK_SEAT_RULES)


def lock_event_rules(
    session: Session, event_id: int, *after: tuple[Prepared, Mapping[str, Any]]
) -> tuple[Any, list[list[Any]]]:
    """Lock the event row as lock_event does, reading only the fields that decide whether
    and how someone may register, as a plain row rather than a loaded Event. The statements
    `after` run once the lock is granted, in the same round trip; their rows come back too."""
    require_write_transaction(session)
    do_before_commit_now(session, _recount_key(event_id))
    rules, *results = run_together(session, (_LOCK_SEAT_RULES_PREPARED, {"event_id": event_id}), *after)
    if not rules:
        raise NotFound("No such event.")
    return rules[0], results

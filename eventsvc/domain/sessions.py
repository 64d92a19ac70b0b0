"""Sessions of an event (working groups, forums): each with its own seats and its own
waitlist, under the event's lock (locking.py).

A person's choices are rows of `registration_sessions`: `confirmed` (a seat in it),
`waitlisted` (in its queue) or `pending`. Only a person confirmed for the event holds a
session seat or queues for one: the choices of a person still waiting for the event are
`pending` (shown as `waitlisted`, without a position) and join the sessions' queues, in the
order they were made, when the person gets a seat (`activate`). So a session's counts are
counts of its rows by status, with no look at the registrations, which matters in a rush.
A seat left passes on at once, with a `session-promoted` email.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import bindparam, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from eventsvc.db import Prepared, run_later, run_together
from eventsvc.domain import history, outbox
from eventsvc.domain.errors import ValidationFailed
from eventsvc.domain.history import Actor
from eventsvc.domain.models import Event, Registration, RegistrationSession
from eventsvc.domain.statuses import CONFIRMED, WAITLISTED

KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
# A choice of someone who does not hold the event's seat yet (see the module's notes).
PENDING = "pending"
MAX_SESSIONS = 40


@dataclass(frozen=True)
class Counts:
    seats_taken: int
    waitlist_length: int


def parse_time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def normalised(sessions: Any, starts_at: datetime, ends_at: datetime) -> list[dict[str, Any]]:
    """An event's sessions, checked; 422 errors name `sessions` or `sessions.<n>`. Times are
    kept as ISO 8601 in UTC."""
    if not isinstance(sessions, list) or len(sessions) > MAX_SESSIONS:
        raise ValidationFailed({"sessions": [f"Must be a list of at most {MAX_SESSIONS} sessions."]})
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    result = []
    for number, item in enumerate(sessions):
        problems = []
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str) or not KEY.fullmatch(key):
            problems.append("key: must match [a-z][a-z0-9_]{0,39}.")
        elif key in seen:
            problems.append(f"key: {key} appears twice.")
        seen.add(str(key))
        try:
            starts, ends = parse_time(item["starts_at"]), parse_time(item["ends_at"])
        except (KeyError, TypeError, ValueError):
            errors[f"sessions.{number}"] = [*problems, "starts_at and ends_at: times with an offset."]
            continue
        if starts.tzinfo is None or ends.tzinfo is None:
            problems.append("starts_at and ends_at need an offset.")
        elif not (starts_at <= starts < ends <= ends_at):
            problems.append("The session's times must lie within the event's, ends_at after starts_at.")
        if problems:
            errors[f"sessions.{number}"] = problems
            continue
        result.append(
            {
                "key": key,
                "title": item["title"],
                "starts_at": starts.astimezone(starts_at.tzinfo).isoformat(),
                "ends_at": ends.astimezone(starts_at.tzinfo).isoformat(),
                "capacity": int(item["capacity"]),
                "location": item.get("location"),
            }
        )
    if errors:
        raise ValidationFailed(errors)
    return result


def checked_choice(event_sessions: list[dict[str, Any]], chosen: Optional[Iterable[str]]) -> list[str]:
    """The sessions a person chose, in the event's order; an unknown key or two sessions
    that overlap in time are a 422 on `sessions`."""
    if not chosen:
        return []
    wanted = list(dict.fromkeys(chosen))
    by_key = {item["key"]: item for item in event_sessions}
    unknown = [key for key in wanted if key not in by_key]
    if unknown:
        raise ValidationFailed({"sessions": [f"Unknown session: {', '.join(unknown)}."]})
    picked = [item for item in event_sessions if item["key"] in wanted]
    for index, first in enumerate(picked):
        for second in picked[index + 1 :]:
            if parse_time(first["starts_at"]) < parse_time(second["ends_at"]) and parse_time(
                second["starts_at"]
            ) < parse_time(first["ends_at"]):
                raise ValidationFailed(
                    {"sessions": [f"The sessions {first['key']} and {second['key']} overlap in time."]}
                )
    return [item["key"] for item in picked]


def counts(session: Session, event_id: int, keys: Optional[Sequence[str]] = None) -> dict[str, Counts]:
    """Seats taken and people waiting (of those confirmed for the event), per session key
    (of `keys` only, where given). An event has a handful of sessions: all are counted in
    one prepared statement, which registering runs under the event's lock."""
    [rows] = run_together(session, (_COUNTS, {"event_id": event_id}))
    taken: dict[str, int] = {}
    waiting: dict[str, int] = {}
    for key, status, number in rows:
        if keys is None or key in keys:
            (taken if status == CONFIRMED else waiting)[key] = int(number)
    return {key: Counts(taken.get(key, 0), waiting.get(key, 0)) for key in set(taken) | set(waiting)}


_COUNTS = Prepared(
    select(RegistrationSession.session_key, RegistrationSession.status, func.count())
    .where(
        RegistrationSession.event_id == bindparam("event_id"),
        RegistrationSession.status.in_([literal(CONFIRMED), literal(WAITLISTED)]),
    )
    .group_by(RegistrationSession.session_key, RegistrationSession.status)
)


def choose(
    session: Session, event: Any, registration_id: int, keys: Sequence[str], holds_seat: bool, now: datetime
) -> list[dict[str, Any]]:
    """A registration's new choices: session seats where free and nobody waits, else the
    session's waitlist (all pending while the person waits for the event). Returns the
    choices as responses show them (one count and one insert: this runs in the rush)."""
    if not keys:
        return []
    if not holds_seat:
        run_later(session, *pending_with_registration(event.id, registration_id, keys, now))
        return shown_pending(keys)
    current = counts(session, event.id, keys)
    capacity = {item["key"]: item["capacity"] for item in (event.sessions or [])}
    rows, shown = [], []
    for key in keys:
        held = current.get(key, Counts(0, 0))
        free = held.seats_taken < capacity[key] and held.waitlist_length == 0
        status = CONFIRMED if free else WAITLISTED
        rows.append(_choice_row(event.id, key, status, now))
        position = held.waitlist_length + 1 if status == WAITLISTED else None
        shown.append({"key": key, "status": status, "waitlist_position": position, "attended": False})
    run_later(session, _inserting(registration_id, rows))
    return shown


def pending_with_registration(
    event_id: int, registration_id: int, keys: Sequence[str], now: datetime
) -> list[tuple[Prepared, dict[str, Any]]]:
    """The statement that writes the choices of someone who waits for the event, to run
    with their registration's insert (db.run_later): someone still waiting holds pending
    choices whatever the sessions' counts, so nothing needs counting first."""
    return [_inserting(registration_id, _pending(event_id, keys, now))] if keys else []


def shown_pending(keys: Sequence[str]) -> list[dict[str, Any]]:
    return [{"key": key, "status": _shown(PENDING), "waitlist_position": None, "attended": False} for key in keys]


def _pending(event_id: int, keys: Sequence[str], now: datetime) -> list[dict[str, Any]]:
    return [_choice_row(event_id, key, PENDING, now) for key in keys]


def _choice_row(event_id: int, key: str, status: str, now: datetime) -> dict[str, Any]:
    return {"event_id": event_id, "session_key": key, "status": status, "created_at": now, "attended": False}


_CHOICE_COLUMNS = ("registration_id", "event_id", "session_key", "status", "created_at", "attended")
# One INSERT per number of choices, made when first needed.
_INSERTS: dict[int, Prepared] = {}


def _inserting(registration_id: int, rows: Sequence[dict[str, Any]]) -> tuple[Prepared, dict[str, Any]]:
    """A registration's choices written in one statement, whatever their number: a
    statement fewer to send and run for each choice after the first."""
    prepared = _INSERTS.get(len(rows))
    if prepared is None:
        table = RegistrationSession.__table__.c
        # Typed here: a row after the first would not take its column's type.
        columns = [
            {column: bindparam(f"{column}_{n}", type_=table[column].type) for column in _CHOICE_COLUMNS}
            for n in range(len(rows))
        ]
        prepared = _INSERTS[len(rows)] = Prepared(insert(RegistrationSession).values(columns))
    values = {
        f"{column}_{n}": registration_id if column == "registration_id" else row[column]
        for n, row in enumerate(rows)
        for column in _CHOICE_COLUMNS
    }
    return prepared, values


def change_choice(
    session: Session, event: Event, registration: Registration, keys: Sequence[str], by: Actor, now: datetime
) -> None:
    """Leave the sessions not in `keys` (their seats pass on at once) and join the new ones."""
    chosen = checked_choice(event.sessions or [], keys)
    current = {row.session_key for row in of_registration(session, registration.id)}
    left = current - set(chosen)
    joined = [key for key in chosen if key not in current]
    if not left and not joined:
        return
    if left:
        session.execute(
            delete(RegistrationSession).where(
                RegistrationSession.registration_id == registration.id, RegistrationSession.session_key.in_(left)
            )
        )
    choose(session, event, registration.id, joined, registration.status == CONFIRMED, now)
    history.record(session, registration.id, registration.status, "sessions_changed", by, now)
    fill(session, event, now)


def _shown(status: str) -> str:
    """Responses know `confirmed` and `waitlisted`; a pending choice waits too."""
    return WAITLISTED if status == PENDING else status


def activate(session: Session, registration_ids: Sequence[int]) -> None:
    """People who just got the event's seat queue for the sessions they chose (the caller
    then fills the sessions' free seats)."""
    session.execute(
        update(RegistrationSession)
        .where(RegistrationSession.registration_id.in_(list(registration_ids)), RegistrationSession.status == PENDING)
        .values(status=WAITLISTED)
        .execution_options(synchronize_session=False)
    )


def leave_all(session: Session, registration_ids: Sequence[int]) -> None:
    """Cancelled registrations leave every session (the caller passes the seats on)."""
    session.execute(delete(RegistrationSession).where(RegistrationSession.registration_id.in_(list(registration_ids))))


def pass_on(session: Session, old_registration_id: int, new_registration_id: int) -> None:
    """A substitute takes over the sessions with the seat."""
    session.execute(
        update(RegistrationSession)
        .where(RegistrationSession.registration_id == old_registration_id)
        .values(registration_id=new_registration_id)
    )


def fill(session: Session, event: Any, now: datetime, quiet: Iterable[int] = ()) -> list[int]:
    """Give each session's free seats to its waitlist in order (only people confirmed for the
    event), with a `session-promoted` email, except to `quiet` (people who just got their
    event seat and are told of their sessions in that email). Returns the rows' registrations."""
    if not event.sessions:
        return []
    current = counts(session, event.id)
    quiet = set(quiet)
    given: list[int] = []
    for item in event.sessions:
        free = item["capacity"] - current.get(item["key"], Counts(0, 0)).seats_taken
        if free <= 0:
            continue
        rows = session.execute(
            select(RegistrationSession.id, RegistrationSession.registration_id)
            .where(
                RegistrationSession.event_id == event.id,
                RegistrationSession.session_key == item["key"],
                RegistrationSession.status == WAITLISTED,
            )
            .order_by(RegistrationSession.id)
            .limit(free)
        ).all()
        if not rows:
            continue
        session.execute(
            update(RegistrationSession)
            .where(RegistrationSession.id.in_([row.id for row in rows]))
            .values(status=CONFIRMED)
        )
        for row in rows:
            given.append(row.registration_id)
            if row.registration_id in quiet:
                continue
            registration = session.get(Registration, row.registration_id)
            if registration is not None:
                outbox.enqueue(session, outbox.SESSION_PROMOTED, registration, now, {"session": item["key"]})
            history.record(session, row.registration_id, CONFIRMED, "session_promoted", history.BY_SYSTEM, now)
    return given


def of_registration(session: Session, registration_id: int) -> list[RegistrationSession]:
    return list(
        session.scalars(
            select(RegistrationSession)
            .where(RegistrationSession.registration_id == registration_id)
            .order_by(RegistrationSession.id)
        )
    )


def positions(session: Session, event_id: int) -> dict[int, int]:
    """RegistrationSession id → place on its session's waitlist (1, 2, …)."""
    rows = session.execute(
        select(RegistrationSession.id, RegistrationSession.session_key)
        .where(RegistrationSession.event_id == event_id, RegistrationSession.status == WAITLISTED)
        .order_by(RegistrationSession.id)
    )
    place: dict[str, int] = {}
    found: dict[int, int] = {}
    for row_id, key in rows:
        place[key] = place.get(key, 0) + 1
        found[row_id] = place[key]
    return found


def choices_of(session: Session, registration_id: int) -> list[dict[str, Any]]:
    """One registration's sessions as responses show them."""
    found = []
    for row in of_registration(session, registration_id):
        position = None
        if row.status == WAITLISTED:
            position = session.scalar(
                select(func.count())
                .select_from(RegistrationSession)
                .where(
                    RegistrationSession.event_id == row.event_id,
                    RegistrationSession.session_key == row.session_key,
                    RegistrationSession.status == WAITLISTED,
                    RegistrationSession.id <= row.id,
                )
            )
        found.append(
            {
                "key": row.session_key,
                "status": _shown(row.status),
                "waitlist_position": position,
                "attended": row.attended,
            }
        )
    return found


def choices_by_registration(session: Session, event_id: int) -> dict[int, list[dict[str, Any]]]:
    """Each registration's sessions as responses show them: key, status, waitlist position."""
    places = positions(session, event_id)
    found: dict[int, list[dict[str, Any]]] = {}
    for row in session.scalars(
        select(RegistrationSession).where(RegistrationSession.event_id == event_id).order_by(RegistrationSession.id)
    ):
        found.setdefault(row.registration_id, []).append(
            {
                "key": row.session_key,
                "status": _shown(row.status),
                "waitlist_position": places.get(row.id),
                "attended": row.attended,
            }
        )
    return found


def check_in(session: Session, registration_id: int, key: str, attended: bool) -> None:
    row = session.scalar(
        select(RegistrationSession).where(
            RegistrationSession.registration_id == registration_id, RegistrationSession.session_key == key
        )
    )
    if row is None or row.status != CONFIRMED:
        raise ValidationFailed({"session": ["This person holds no seat in that session."]})
    row.attended = attended

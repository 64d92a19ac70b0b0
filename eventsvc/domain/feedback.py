"""Feedback from the people who came, and only from them.

At `ends_at + send_after` every person checked in gets one `feedback` email with a personal
link (a token of its own, not the registration's); those who have not answered by
`ends_at + remind_after` get one `feedback-reminder`; from `ends_at + closes_after` the
form is closed. Nobody who was not checked in, who cancelled, or whose data is gone gets
either email.

Anonymous by construction: an answer is stored apart from the registration, in
`feedback_answers`, with the event and the answers only (no time, no token, no person).
The registration keeps only the fact that its invitation was answered, which the reminder
needs. So the feedback holds no personal data and survives the end of retention.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.orm import Session

from eventsvc.domain import outbox, questions
from eventsvc.domain.errors import AlreadyAnswered, FeedbackClosed, NotFound, ValidationFailed
from eventsvc.domain.models import Event, FeedbackAnswer, Registration
from eventsvc.domain.rules import looks_like_token
from eventsvc.domain.statuses import CONFIRMED, EventStatus

DEFAULT_SEND_AFTER = 2 * 3600
DEFAULT_REMIND_AFTER = 7 * 86400
DEFAULT_CLOSES_AFTER = 21 * 86400
# People invited per tick at most; the rest follow on the next tick.
ROWS_PER_TICK = 2_000


def normalised(settings: Any) -> Optional[dict[str, Any]]:
    """An event's feedback settings, checked; 422 errors name `feedback.…`."""
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise ValidationFailed({"feedback": ["Must be an object."]})
    asked = questions.normalised(settings.get("questions") or [], questions.FEEDBACK_TYPES, "feedback.questions")
    send, remind, closes = (
        int(settings.get("send_after", DEFAULT_SEND_AFTER)),
        int(settings.get("remind_after", DEFAULT_REMIND_AFTER)),
        int(settings.get("closes_after", DEFAULT_CLOSES_AFTER)),
    )
    if not send < remind < closes:
        raise ValidationFailed({"feedback": ["send_after, remind_after and closes_after must follow one another."]})
    if not asked:
        raise ValidationFailed({"feedback.questions": ["Ask at least one question."]})
    return {"questions": asked, "send_after": send, "remind_after": remind, "closes_after": closes}


def _moment(event: Event, name: str) -> datetime:
    return event.ends_at + timedelta(seconds=int((event.feedback or {})[name]))


def closes_at(event: Event) -> datetime:
    return _moment(event, "closes_after")


def is_open(event: Event, now: datetime) -> bool:
    return bool(event.feedback) and _moment(event, "send_after") <= now < closes_at(event)


def _invitable(event_id: int) -> ColumnElement[bool]:
    return (
        (Registration.event_id == event_id)
        & (Registration.status == CONFIRMED)
        & Registration.attended.is_(True)
        & Registration.anonymised_at.is_(None)
    )


def send_due(session: Session, now: datetime, budget: int = ROWS_PER_TICK) -> int:
    """Invitations and reminders that have fallen due, in bounded batches."""
    done = 0
    events = session.scalars(
        select(Event).where(
            Event.feedback.is_not(None),
            Event.status == EventStatus.PUBLISHED.value,
            Event.ends_at <= now,
            Event.personal_data_removed_at.is_(None),
        )
    )
    for event in list(events):
        if not event.feedback or done >= budget or now >= closes_at(event):
            continue
        if _moment(event, "send_after") <= now:
            done += _invite(session, event, now, budget - done)
        if _moment(event, "remind_after") <= now and done < budget:
            done += _remind(session, event, now, budget - done)
    return done


def _invite(session: Session, event: Event, now: datetime, limit: int) -> int:
    ids = list(
        session.scalars(
            select(Registration.id)
            .where(_invitable(event.id), Registration.feedback_invited_at.is_(None))
            .order_by(Registration.id)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    session.connection().execute(
        _SET_TOKEN, [{"registration_id": rid, "new_token": secrets.token_urlsafe(32), "now": now} for rid in ids]
    )
    outbox.enqueue_for_registrations(session, outbox.FEEDBACK, Registration.id.in_(ids), now, dedupe=("feedback:", ""))
    return len(ids)


def _remind(session: Session, event: Event, now: datetime, limit: int) -> int:
    whom = (
        _invitable(event.id)
        & Registration.feedback_invited_at.is_not(None)
        & Registration.feedback_answered_at.is_(None)
        & Registration.feedback_reminded_at.is_(None)
    )
    ids = list(session.scalars(select(Registration.id).where(whom).order_by(Registration.id).limit(limit)))
    if not ids:
        return 0
    session.execute(update(Registration).where(Registration.id.in_(ids)).values(feedback_reminded_at=now))
    outbox.enqueue_for_registrations(
        session, outbox.FEEDBACK_REMINDER, Registration.id.in_(ids), now, dedupe=("feedback-reminder:", "")
    )
    return len(ids)


_SET_TOKEN = (
    update(Registration)
    .where(Registration.id == bindparam("registration_id"))
    .values(feedback_token=bindparam("new_token"), feedback_invited_at=bindparam("now"))
)


def invitation(session: Session, token: str) -> Registration:
    registration: Optional[Registration] = (
        session.scalar(select(Registration).where(Registration.feedback_token == token))
        if looks_like_token(token)
        else None
    )
    if not registration or registration.anonymised_at is not None:
        raise NotFound("No such feedback invitation.")
    return registration


def answer(session: Session, token: str, answers: Any, now: datetime) -> None:
    """Store one answer, apart from the person; the invitation only learns it was answered."""
    registration = invitation(session, token)
    event = registration.event
    if now >= closes_at(event):
        raise FeedbackClosed("The feedback form is closed.")
    if registration.feedback_answered_at is not None:
        raise AlreadyAnswered("This invitation has been answered already.")
    stored, _sensitive = questions.checked_answers((event.feedback or {})["questions"], answers, True)
    # Only the first of two concurrent answers marks the invitation; the other stores nothing.
    marked = session.connection().execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.feedback_answered_at.is_(None))
        .values(feedback_answered_at=now)
    )
    if marked.rowcount != 1:
        raise AlreadyAnswered("This invitation has been answered already.")
    session.add(FeedbackAnswer(event_id=event.id, answers=stored))
    session.flush()


def results(session: Session, event: Event) -> dict[str, Any]:
    """Counts per option, the average rating with its distribution, the free texts (in
    random order) and how many were invited and answered; no person is named."""
    invited, answered = session.execute(
        select(
            func.count(Registration.feedback_invited_at),
            func.count(Registration.feedback_answered_at),
        ).where(Registration.event_id == event.id)
    ).one()
    all_answers = list(session.scalars(select(FeedbackAnswer.answers).where(FeedbackAnswer.event_id == event.id)))
    stored = len(all_answers)
    shown = []
    for question in (event.feedback or {}).get("questions", []):
        key, kind = question["key"], question["type"]
        given = [answers[key] for answers in all_answers if key in answers]
        entry: dict[str, Any] = {
            "key": key,
            "label": question["label"],
            "type": kind,
            "counts": {},
            "average": None,
            "texts": [],
        }
        if kind == "text":
            texts = [str(value) for value in given]
            random.shuffle(texts)
            entry["texts"] = texts
        elif kind == questions.RATING:
            counts = Counter(int(value) for value in given)
            entry["counts"] = {str(n): counts.get(n, 0) for n in range(1, 6)}
            entry["average"] = round(sum(given) / len(given), 2) if given else None
        elif kind == "boolean":
            counts = Counter(bool(value) for value in given)
            entry["counts"] = {"true": counts.get(True, 0), "false": counts.get(False, 0)}
        else:
            counts = Counter(option for value in given for option in (value if isinstance(value, list) else [value]))
            entry["counts"] = {option: counts.get(option, 0) for option in question["options"]}
        shown.append(entry)
    # After retention the invitations are gone; the answers still count.
    return {"invited": max(int(invited), stored), "answered": max(int(answered), stored), "questions": shown}

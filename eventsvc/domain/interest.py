"""A series' interest list: people who want to hear of the next event of a series.

Joining is a double opt-in: the request stores an unconfirmed entry and sends an
`interest-confirm` email (at most one a day per address and series); the link in it leads to
a page whose button confirms. The answer to a request is the same whether or not the address
is known, so the list cannot be probed. Unconfirmed entries go after UNCONFIRMED_KEPT; a
confirmed address that heard of no event of its series for the installation's interest
retention goes too, logged as an erasure. When an event of the series is published, every
confirmed address gets one `series-event` email, queued in one INSERT … SELECT.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import String, cast, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from eventsvc.domain import outbox
from eventsvc.domain.errors import NotFound
from eventsvc.domain.models import Erasure, Event, InterestEntry, OutboxMessage
from eventsvc.domain.rules import looks_like_token
from eventsvc.domain.statuses import EventStatus

log = logging.getLogger(__name__)

UNCONFIRMED_KEPT = timedelta(days=7)
CONFIRM_EMAIL_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Interested:
    series: str
    name: str
    email: str
    language: str
    privacy_url: Optional[str] = None


def normalized(email: str) -> str:
    return email.strip().lower()


def ask_to_join(session: Session, person: Interested, now: datetime) -> None:
    """Store the request and send the confirming link, unless one went out within a day.
    Nothing in the outcome tells whether the address was known."""
    entry = session.scalar(
        select(InterestEntry).where(
            InterestEntry.series == person.series, InterestEntry.email_normalized == normalized(person.email)
        )
    )
    if entry is None:
        entry = InterestEntry(
            series=person.series,
            name=person.name,
            email=person.email.strip(),
            email_normalized=normalized(person.email),
            language=person.language,
            token=secrets.token_urlsafe(32),
            created_at=now,
            consented_at=now,
            privacy_url=person.privacy_url,
        )
        session.add(entry)
        session.flush()
    if entry.confirmed_at is not None:
        return
    if entry.confirm_sent_at is not None and now - entry.confirm_sent_at < CONFIRM_EMAIL_EVERY:
        return
    entry.confirm_sent_at = now
    outbox.insert_row(
        session,
        outbox.new_row(
            outbox.INTEREST_CONFIRM,
            None,
            None,
            entry.email,
            None,
            now,
            {"series": entry.series},
            interest_entry_id=entry.id,
        ),
    )


def get_by_token(session: Session, token: str) -> InterestEntry:
    entry: Optional[InterestEntry] = (
        session.scalar(select(InterestEntry).where(InterestEntry.token == token)) if looks_like_token(token) else None
    )
    if not entry:
        raise NotFound("No such entry.")
    return entry


def confirm(session: Session, token: str, now: datetime) -> InterestEntry:
    entry = get_by_token(session, token)
    if entry.confirmed_at is None:
        entry.confirmed_at = now
        log.info("interest entry %s: confirmed", entry.id)
    return entry


def leave(session: Session, token: str) -> bool:
    """Remove the address from the list at once (one click); False if it was not on it."""
    entry = looks_like_token(token) and session.scalar(select(InterestEntry).where(InterestEntry.token == token))
    if not entry:
        return False
    session.delete(entry)
    session.flush()
    log.info("interest entry %s: left", entry.id)
    return True


def announce(session: Session, event: Event, now: datetime) -> int:
    """One `series-event` email to each confirmed address of the event's series, once per
    event, set-wise; returns how many were queued."""
    if not event.series or event.series_announced_at is not None or event.status != EventStatus.PUBLISHED.value:
        return 0
    event.series_announced_at = now
    entries = InterestEntry.__table__.c
    template = outbox.new_row(outbox.SERIES_EVENT, event.id, None, "", None, now, {})
    computed = {
        "recipient": entries.email,
        "interest_entry_id": entries.id,
        "message_key": literal(secrets.token_hex(12) + ".i") + cast(entries.id, String),
        "dedupe_key": literal(f"series-event:{event.id}:") + cast(entries.id, String),
    }
    names = [column.name for column in OutboxMessage.__table__.c if column.name != "id"]
    values = [
        computed[name] if name in computed else literal(template[name], type_=OutboxMessage.__table__.c[name].type)
        for name in names
    ]
    rows = select(*values).where(entries.series == event.series, entries.confirmed_at.is_not(None))
    queued = (
        session.connection()
        .execute(insert(OutboxMessage).from_select(names, rows).execution_options(preserve_rowcount=True))
        .rowcount
    )
    if queued:
        outbox.mark_written(session)
        log.info("event %s: announced to %d addresses of series %s", event.id, queued, event.series)
    return queued


def confirmed_entries(session: Session, series: str) -> list[InterestEntry]:
    return list(
        session.scalars(
            select(InterestEntry)
            .where(InterestEntry.series == series, InterestEntry.confirmed_at.is_not(None))
            .order_by(InterestEntry.confirmed_at, InterestEntry.id)
        )
    )


def entries_of(session: Session, email: str) -> list[InterestEntry]:
    return list(
        session.scalars(
            select(InterestEntry).where(InterestEntry.email_normalized == normalized(email)).order_by(InterestEntry.id)
        )
    )


def erase(session: Session, email: str, now: datetime) -> int:
    """An address's entries go with its erasure (logged per series, without the address)."""
    removed = entries_of(session, email)
    for entry in removed:
        session.add(
            Erasure(at=now, event_id=None, registrations=0, reason="request", series=entry.series, interest_entries=1)
        )
        session.delete(entry)
    session.flush()
    return len(removed)


def remove_stale(session: Session, now: datetime, retention: int) -> int:
    """Unconfirmed entries older than UNCONFIRMED_KEPT, and confirmed ones whose series
    published no event for `retention` seconds since they confirmed."""
    unconfirmed = (
        session.connection()
        .execute(
            delete(InterestEntry).where(
                InterestEntry.confirmed_at.is_(None), InterestEntry.created_at <= now - UNCONFIRMED_KEPT
            )
        )
        .rowcount
    )
    latest_news = (
        select(func.max(Event.series_announced_at)).where(Event.series == InterestEntry.series).scalar_subquery()
    )
    limit = now - timedelta(seconds=retention)
    stale = session.execute(
        select(InterestEntry.series, func.count())
        .where(
            InterestEntry.confirmed_at.is_not(None),
            InterestEntry.confirmed_at <= limit,
            func.coalesce(latest_news, InterestEntry.confirmed_at) <= limit,
        )
        .group_by(InterestEntry.series)
    ).all()
    for series, count in stale:
        session.connection().execute(
            delete(InterestEntry).where(
                InterestEntry.series == series,
                InterestEntry.confirmed_at.is_not(None),
                InterestEntry.confirmed_at <= limit,
                func.coalesce(latest_news, InterestEntry.confirmed_at) <= limit,
            )
        )
        session.add(
            Erasure(
                at=now, event_id=None, registrations=0, reason="retention", series=series, interest_entries=int(count)
            )
        )
    session.flush()
    return int(unconfirmed or 0) + sum(int(count) for _, count in stale)

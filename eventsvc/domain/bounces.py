"""Addresses mail cannot reach: learnt from a bounce message (`dsn`) or from the SMTP
server's permanent refusal when sending (`smtp`). Later emails to such an address are not
sent but marked `suppressed`, visible to organizers, until an organizer lifts the mark or
the person registers again. An offer whose email bounced expires at once, so the seat goes
to the next person instead of waiting out the deadline; a confirmed person is flagged for
the organizer, not cancelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from eventsvc.db import insert_ignoring_duplicates
from eventsvc.domain import history, outbox, seats
from eventsvc.domain.locking import lock_event
from eventsvc.domain.models import Event, OutboxMessage, Registration, UndeliverableAddress
from eventsvc.domain.statuses import OFFERED, CancelReason

log = logging.getLogger(__name__)

DSN = "dsn"
SMTP = "smtp"
# VERP (variable envelope return path): bounces+TAG@domain, TAG the outbox row's key.
VERP_SEPARATOR = "+"
REPORT_EVERY = timedelta(days=1)


def normalized(email: str) -> str:
    return email.strip().lower()


def verp_address(bounce_address: str, message_key: str) -> str:
    """The envelope sender of the email with `message_key`: a bounce to it names the email."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}{VERP_SEPARATOR}{message_key}@{domain}"


def tag_of(address: str, bounce_address: str) -> Optional[str]:
    """The tag of a VERP address made by verp_address for `bounce_address`, else None."""
    local, _, domain = bounce_address.strip().lower().rpartition("@")
    got_local, _, got_domain = address.strip().strip("<>").lower().rpartition("@")
    prefix = local + VERP_SEPARATOR
    if got_domain != domain or not got_local.startswith(prefix):
        return None
    return got_local[len(prefix) :] or None


def message_by_key(session: Session, message_key: str) -> Optional[OutboxMessage]:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.message_key == message_key))


def mark_undeliverable(
    session: Session,
    email: str,
    reason: str,
    kind: str,
    now: datetime,
    message: Optional[OutboxMessage] = None,
) -> None:
    """Record the address as undeliverable (once; a later bounce keeps the first record),
    and expire an open offer whose email this was."""
    address = normalized(email)
    session.execute(
        insert_ignoring_duplicates(session, UndeliverableAddress, ["email_normalized"]),
        {
            "email_normalized": address,
            "at": now,
            "reason": reason[:2000],
            "kind": kind,
            "outbox_id": message.id if message else None,
            "reported_at": None,
        },
    )
    log.info("address undeliverable (%s), outbox %s", kind, message.id if message else "-")
    if message is not None and message.kind == outbox.OFFER and message.registration_id:
        expire_bounced_offer(session, message.registration_id, now)


def learn_from_bounce(
    session: Session, message_key: Optional[str], addresses: set[str], reason: str, now: datetime
) -> int:
    """A permanent failure reported by a bounce: the email it names (by its key) marks its
    recipient; without one, the addresses the bounce names are marked. Returns how many."""
    message = message_by_key(session, message_key) if message_key else None
    if message is not None:
        mark_undeliverable(session, message.recipient, reason, DSN, now, message)
        return 1
    for address in sorted(addresses):
        mark_undeliverable(session, address, reason, DSN, now)
    return len(addresses)


def expire_bounced_offer(session: Session, registration_id: int, now: datetime) -> None:
    """The offer cannot reach its person: it expires now and the seat is offered on."""
    registration = session.get(Registration, registration_id)
    if registration is None:
        return
    event = lock_event(session, registration.event_id)
    session.refresh(registration)
    if registration.status != OFFERED:
        return
    seats.set_cancelled(session, registration, CancelReason.OFFER_EXPIRED.value, history.BY_SYSTEM, now)
    session.flush()
    seats.fill_free_seats(session, event, now, freed=True)


def lift(session: Session, email: str) -> bool:
    """The address may be mailed again; False if it was not marked."""
    result = session.connection().execute(
        delete(UndeliverableAddress).where(UndeliverableAddress.email_normalized == normalized(email))
    )
    return bool(result.rowcount)


_LIFT = delete(UndeliverableAddress)


def lift_for_new_registration(session: Session, email_normalized: str) -> None:
    """Registering again says the address works: its mark is lifted."""
    session.execute(_LIFT.where(UndeliverableAddress.email_normalized == email_normalized))


def undeliverable(session: Session) -> list[UndeliverableAddress]:
    return list(session.scalars(select(UndeliverableAddress).order_by(UndeliverableAddress.at)))


def undeliverable_among(session: Session, emails: set[str]) -> set[str]:
    if not emails:
        return set()
    wanted = {normalized(email) for email in emails}
    return set(
        session.scalars(
            select(UndeliverableAddress.email_normalized).where(UndeliverableAddress.email_normalized.in_(wanted))
        )
    )


@dataclass(frozen=True)
class Report:
    organizer_email: str
    event_id: int
    addresses: list[dict[str, Any]]


def queue_daily_reports(session: Session, now: datetime) -> int:
    """One `bounces` email a day per organizer address, listing the addresses of its events'
    participants that became undeliverable since the last one."""
    rows = session.execute(
        select(
            Event.organizer_email,
            Event.id,
            Event.title,
            UndeliverableAddress.email_normalized,
            UndeliverableAddress.reason,
        )
        .join(Registration, Registration.email_normalized == UndeliverableAddress.email_normalized)
        .join(Event, Event.id == Registration.event_id)
        .where(UndeliverableAddress.reported_at.is_(None), Event.organizer_email.is_not(None))
        .order_by(Event.organizer_email, UndeliverableAddress.at)
    )
    by_organizer: dict[str, Report] = {}
    for organizer, event_id, title, email, reason in rows:
        report = by_organizer.setdefault(str(organizer).lower(), Report(str(organizer), event_id, []))
        if all(entry["email"] != email or entry["event"] != title for entry in report.addresses):
            report.addresses.append({"email": email, "event": title, "reason": (reason or "")[:300]})
    queued = 0
    reported: set[str] = set()
    for key, report in by_organizer.items():
        if _reported_lately(session, key, now):
            continue
        outbox.insert_row(
            session,
            outbox.new_row(
                outbox.BOUNCES,
                report.event_id,
                None,
                report.organizer_email,
                None,
                now,
                {"addresses": report.addresses},
                dedupe_key=f"bounces:{key}:{now.date().isoformat()}",
            ),
            once=True,
        )
        reported.update(entry["email"] for entry in report.addresses)
        queued += 1
    if reported:
        session.execute(
            update(UndeliverableAddress)
            .where(UndeliverableAddress.email_normalized.in_(reported))
            .values(reported_at=now)
        )
    return queued


def _reported_lately(session: Session, organizer: str, now: datetime) -> bool:
    last = session.scalar(
        select(OutboxMessage.created_at)
        .where(OutboxMessage.kind == outbox.BOUNCES, OutboxMessage.recipient.ilike(organizer))
        .order_by(OutboxMessage.created_at.desc())
        .limit(1)
    )
    return last is not None and now - last < REPORT_EVERY

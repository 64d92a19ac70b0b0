"""Certificates of attendance and the sign-in sheet: who gets a certificate, its number, and
the plain values a certificate or a sheet shows. Rendering them is eventsvc.pdf's job.

A certificate is issued to a person who was checked in, once the event has ended, if the
event issues certificates at all (`Event.certificate`). It is made from the registration as
it is when asked for, so a name corrected later gives a corrected certificate; its number
comes from the event and the registration alone, so it stays the same, and it survives the
end of retention, when the registration keeps its id and attendance but loses its name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventsvc.domain.errors import NotFound
from eventsvc.domain.models import Event, Registration, RegistrationSession
from eventsvc.domain.statuses import CONFIRMED
from eventsvc.domain.vocabulary import language_or_default
from eventsvc.formatting import date_text, event_when


def number(event: Event, registration: Registration) -> str:
    """Unique to the person's registration and the event: year, event, registration."""
    return f"{event.starts_at.year}-{event.id:04d}-{registration.id:06d}"


def is_issued(event: Event, registration: Registration, now: datetime) -> bool:
    return (
        bool(event.certificate)
        and now >= event.ends_at
        and registration.status == CONFIRMED
        and registration.attended
        and registration.anonymised_at is None
    )


@dataclass(frozen=True)
class Certificate:
    language: str
    number: str
    name: str
    organization: Optional[str]
    event_title: str
    when: str
    location: Optional[str]
    hours: float
    topics: list[str]
    signer: str
    issuer: str
    issued_on: str
    # The titles of the sessions the person was checked in to, in the event's order.
    sessions: tuple[str, ...] = ()


def certificate_of(
    event: Event, registration: Registration, issuer: Optional[str], now: datetime, attended: Sequence[str] = ()
) -> Certificate:
    """What the person's certificate shows, in their language; NotFound unless one is
    issued. `attended`: the keys of the sessions the person was checked in to."""
    if not is_issued(event, registration, now):
        raise NotFound("No certificate for this registration.")
    settings = event.certificate or {}
    language = language_or_default(registration.language)
    return Certificate(
        language=language,
        number=number(event, registration),
        name=registration.name,
        organization=registration.organization,
        event_title=event.title,
        when=event_when(event.starts_at, event.ends_at, event.timezone, language),
        location=event.location,
        hours=float(settings["hours"]),
        topics=list(settings.get("topics") or []),
        signer=settings["signer"],
        issuer=issuer or event.organizer_name or "",
        issued_on=date_text(event.ends_at, event.timezone, language),
        sessions=tuple(item["title"] for item in event.sessions or [] if item["key"] in set(attended)),
    )


def certificates_of_event(session: Session, event: Event, issuer: Optional[str], now: datetime) -> list[Certificate]:
    """Every certificate the event has issued, by registration."""
    attended = session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == CONFIRMED,
            Registration.attended.is_(True),
            Registration.anonymised_at.is_(None),
        )
        .order_by(Registration.id)
    )
    sessions_attended: dict[int, list[str]] = {}
    for registration_id, key in session.execute(
        select(RegistrationSession.registration_id, RegistrationSession.session_key).where(
            RegistrationSession.event_id == event.id, RegistrationSession.attended.is_(True)
        )
    ):
        sessions_attended.setdefault(registration_id, []).append(key)
    return [
        certificate_of(event, registration, issuer, now, sessions_attended.get(registration.id, []))
        for registration in attended
        if event.certificate
    ]


def sessions_attended(session: Session, registration_id: int) -> list[str]:
    return list(
        session.scalars(
            select(RegistrationSession.session_key).where(
                RegistrationSession.registration_id == registration_id, RegistrationSession.attended.is_(True)
            )
        )
    )


@dataclass(frozen=True)
class SheetRow:
    name: str
    organization: str


def sheet_rows(session: Session, event_id: int, session_key: Optional[str] = None) -> list[SheetRow]:
    """The confirmed people of an event (or of one of its sessions), by surname: what a
    sign-in sheet lists (no addresses). An organization's key stands beside its name."""
    if session.get(Event, event_id) is None:
        raise NotFound("No such event.")
    query = select(Registration.name, Registration.organization, Registration.organization_key).where(
        Registration.event_id == event_id,
        Registration.status == CONFIRMED,
        Registration.anonymised_at.is_(None),
    )
    if session_key is not None:
        query = query.join(RegistrationSession, RegistrationSession.registration_id == Registration.id).where(
            RegistrationSession.session_key == session_key, RegistrationSession.status == CONFIRMED
        )
    people = session.execute(query).all()
    return sorted(
        (SheetRow(name, _organization_line(organization, key)) for name, organization, key in people),
        key=lambda row: (surname_key(row.name), _plain(row.name)),
    )


def _organization_line(organization: Optional[str], key: Optional[str]) -> str:
    if key and organization:
        return f"{organization} ({key})"
    return organization or key or ""


def surname_key(name: str) -> str:
    """Sort key of a person's surname: the last word of the name, letters compared without
    their accents (Ärger next to Arnold, as in a German telephone book's first pass)."""
    words = name.split()
    return _plain(words[-1] if words else "")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()

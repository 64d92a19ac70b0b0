"""The figures of an event (and of a series) for its press release and the association's
statistics: who registered, who came, from which organizations, in which roles; and the
sentence a press release starts with, built from those counts with honest wording.

The counts are kept on the event when its personal data is removed (report_snapshot), so
that they survive the end of retention.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from eventsvc.domain.models import Event, Organization, Registration, RegistrationChange, RegistrationSession
from eventsvc.domain.statuses import CANCELLED, CONFIRMED, WAITLISTED, EventStatus

# Organization kinds that are municipalities: a report of only these speaks of "Kommunen".
MUNICIPAL_KINDS = {"gemeinde", "stadt", "landkreis"}


def counts(session: Session, event: Event) -> dict[str, Any]:
    """The report of one event (its snapshot, once its personal data is gone)."""
    if event.report_snapshot is not None:
        return dict(event.report_snapshot)
    was_waitlisted = (Registration.registered_as == WAITLISTED) | exists().where(
        RegistrationChange.registration_id == Registration.id, RegistrationChange.status == WAITLISTED
    )
    rows: Any = session.execute(
        select(
            Registration.status,
            Registration.attended,
            Registration.role,
            Registration.organization_key,
            Registration.organization,
            Organization.kind,
            Organization.region,
            was_waitlisted.label("was_waitlisted"),
        )
        .outerjoin(Organization, Organization.key == Registration.organization_key)
        .where(Registration.event_id == event.id)
    )
    rows = list(rows)
    attended_rows = [row for row in rows if row.status == CONFIRMED and row.attended]
    confirmed_rows = [row for row in rows if row.status == CONFIRMED]
    report: dict[str, Any] = {
        "registered": len(rows),
        "confirmed": len(confirmed_rows),
        "attended": len(attended_rows),
        "no_shows": len(confirmed_rows) - len(attended_rows),
        "cancelled": sum(row.status == CANCELLED for row in rows),
        "waitlisted_ever": sum(bool(row.was_waitlisted) for row in rows),
        "organizations_attended": len(_organizations(attended_rows)),
        "by_role": _grouped(rows, "role", event.roles or []),
        "by_kind": _grouped(rows, "kind", []),
        "by_region": _grouped(rows, "region", []),
        "sessions": _sessions(session, event),
    }
    counted = attended_rows or confirmed_rows
    report["summary"] = summary(
        len(counted),
        len(_organizations(counted)),
        bool(attended_rows),
        _largest_role(counted, event.roles or []),
        municipal=_all_municipal(counted),
    )
    return report


def _sessions(session: Session, event: Event) -> list[dict[str, Any]]:
    """Per session: seats held by confirmed people, and who of them was checked in to it."""
    held: Counter[str] = Counter()
    came: Counter[str] = Counter()
    for key, attended in session.execute(
        select(RegistrationSession.session_key, RegistrationSession.attended)
        .join(Registration, Registration.id == RegistrationSession.registration_id)
        .where(
            RegistrationSession.event_id == event.id,
            RegistrationSession.status == CONFIRMED,
            Registration.status == CONFIRMED,
        )
    ):
        held[key] += 1
        came[key] += bool(attended)
    return [
        {"key": item["key"], "confirmed": held[item["key"]], "attended": came[item["key"]]}
        for item in event.sessions or []
    ]


def _organizations(rows: list[Any]) -> set[str]:
    """Distinct organizations: by key where known, else by the free text."""
    found = set()
    for row in rows:
        if row.organization_key:
            found.add("key:" + row.organization_key)
        elif row.organization:
            found.add("text:" + " ".join(row.organization.lower().split()))
    return found


def _all_municipal(rows: list[Any]) -> bool:
    kinds = {row.kind for row in rows if row.organization_key}
    return bool(kinds) and kinds <= MUNICIPAL_KINDS and all(row.organization_key for row in rows if row.organization)


def _grouped(rows: list[Any], name: str, order: list[str]) -> list[dict[str, Any]]:
    """Registered and attended per value of `name` (None for none): the event's own order
    first (its roles), then by number registered."""
    registered: Counter[str] = Counter(getattr(row, name) for row in rows)
    attended: Counter[str] = Counter(getattr(row, name) for row in rows if row.status == CONFIRMED and row.attended)
    values = [value for value in order if value in registered] + sorted(
        (value for value in registered if value not in order),
        key=lambda value: (value is None, -registered[value], str(value)),
    )
    return [{name: value, "registered": registered[value], "attended": attended[value]} for value in values]


def _largest_role(rows: list[Any], roles: list[str]) -> Optional[tuple[str, int]]:
    """The event's role most people counted hold, where the event names its roles."""
    if not roles:
        return None
    held = Counter(row.role for row in rows if row.role in roles)
    if not held:
        return None
    role, number = max(held.items(), key=lambda item: (item[1], -roles.index(item[0])))
    return role, number


def roughly(number: int) -> tuple[str, str]:
    """A count as a press release states it, honestly: "mehr als 160" only when there are
    more than 160; exact below 20 and for round numbers."""
    if number < 20 or number % 10 == 0:
        return str(number), str(number)
    floor = number // 10 * 10
    return f"mehr als {floor}", f"more than {floor}"


_GENDERED = re.compile(r"^(?P<base>.+?)\s*/\s*-?in$")


def role_plural(role: str) -> tuple[str, str]:
    """ "Bürgermeister/in" → "Bürgermeisterinnen und Bürgermeister" (German); other roles as written."""
    match = _GENDERED.match(role)
    if match:
        base = match.group("base")
        return f"{base}innen und {base}", role
    return role, role


def summary(
    people: int, organizations: int, came: bool, role: Optional[tuple[str, int]], municipal: bool = True
) -> dict[str, str]:
    """The press release's first sentence, German and English, numbers as digits."""
    de_people, en_people = roughly(people)
    if came:
        de_noun = "Teilnehmende" if people != 1 else "teilnehmende Person"
        en_noun = "participants" if people != 1 else "participant"
    else:
        de_noun = "Angemeldete" if people != 1 else "angemeldete Person"
        en_noun = "registered participants" if people != 1 else "registered participant"
    de = f"{de_people} {de_noun}"
    en = f"{en_people} {en_noun}"
    if organizations:
        de_places = (
            ("Kommune" if organizations == 1 else "Kommunen")
            if municipal
            else ("Organisation" if organizations == 1 else "Organisationen")
        )
        en_places = (
            ("municipality" if organizations == 1 else "municipalities")
            if municipal
            else ("organization" if organizations == 1 else "organizations")
        )
        de += f" aus {organizations} {de_places}"
        en += f" from {organizations} {en_places}"
    if role is not None:
        name, number = role
        de_role, en_role = role_plural(name) if number != 1 else (name, name)
        de += f", darunter {number} {de_role}"
        en += f", including {number} in the role {en_role}"
    return {"de": de[0].upper() + de[1:] + ".", "en": en[0].upper() + en[1:] + "."}


def seats_over_time(session: Session, event: Event) -> list[dict[str, Any]]:
    """Day by day until the event (in its time zone): registrations made, cancellations, and
    how many were waiting at the end of the day."""
    zone = ZoneInfo(event.timezone)
    changes = session.execute(
        select(RegistrationChange.registration_id, RegistrationChange.at, RegistrationChange.status)
        .join(Registration, Registration.id == RegistrationChange.registration_id)
        .where(Registration.event_id == event.id)
        .order_by(RegistrationChange.at, RegistrationChange.id)
    ).all()
    created = session.execute(
        select(Registration.id, Registration.created_at, Registration.registered_as).where(
            Registration.event_id == event.id
        )
    ).all()
    events: list[tuple[datetime, int, str, bool]] = [(at, rid, status, True) for rid, at, status in created]
    events += [(at, rid, status, False) for rid, at, status in changes]
    events.sort(key=lambda item: (item[0], not item[3]))
    if not events:
        return []
    first = min(item[0] for item in events).astimezone(zone).date()
    last = min(max(item[0] for item in events), event.starts_at).astimezone(zone).date()
    days: dict[Any, dict[str, Any]] = {}
    day = first
    while day <= last and len(days) < 400:
        days[day] = {"day": day.isoformat(), "registrations": 0, "cancellations": 0, "waiting": 0}
        day += timedelta(days=1)
    status_of: dict[int, str] = {}
    for at, registration_id, status, is_creation in events:
        day = at.astimezone(zone).date()
        if day not in days:
            continue
        if is_creation:
            days[day]["registrations"] += 1
        elif status == CANCELLED and status_of.get(registration_id) != CANCELLED:
            days[day]["cancellations"] += 1
        status_of[registration_id] = status
        days[day]["waiting"] = sum(value == WAITLISTED for value in status_of.values())
    running = 0
    for entry in days.values():
        if entry["registrations"] or entry["cancellations"]:
            running = entry["waiting"]
        entry["waiting"] = running
    return list(days.values())


def series_report(session: Session, series: str) -> dict[str, Any]:
    events = list(
        session.scalars(
            select(Event)
            .where(Event.series == series, Event.status != EventStatus.DRAFT.value)
            .order_by(Event.starts_at, Event.id)
        )
    )
    shown = []
    for event in events:
        figures = counts(session, event)
        shown.append(
            {
                "id": event.id,
                "title": event.title,
                "starts_at": event.starts_at,
                "timezone": event.timezone,
                **{
                    name: figures[name]
                    for name in ("registered", "confirmed", "attended", "waitlisted_ever", "organizations_attended")
                },
            }
        )
    return {"series": series, "events": shown}

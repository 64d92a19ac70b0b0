"""iCalendar objects: invites for one participant (iTIP/iMIP) and subscription feeds.

Times are written in UTC. Every client we care about (Outlook, Gmail, Apple Calendar) shows
UTC times in the reader's own zone, and UTC cannot be misread: no VTIMEZONE to get wrong
(Outlook mishandles the long RDATE lists that generated VTIMEZONEs contain), no ambiguity
at the DST switch. The event's own zone is named in feeds (X-WR-TIMEZONE) for display.

One participant's cancellation is an attendee-scoped CANCEL under the event's UID
(RFC 5546 §3.2.5, "uninvite"): the event keeps one UID everywhere, as the contract wants,
and the CANCEL carries a SEQUENCE above any invite that person holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Optional

from icalendar import Calendar, Parameters, vCalAddress, vDDDTypes, vDuration, vText
from icalendar import Event as VEvent
from icalendar.parser import Contentline

from eventsvc.domain.models import Event, EventStatus, Registration

PRODID = "-//eventsvc//Fachveranstaltungen//DE"
REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"


@dataclass(frozen=True)
class InviteContext:
    """What an invite needs beyond the event and the participant."""

    organizer_email: str  # the event's organizer, or the sender address
    event_url: str
    manage_url: str
    stamp: datetime  # DTSTAMP: when this message was made (the outbox row), stable on retries
    # The person's sessions, one line each ("title: when, place"), named in the description.
    sessions: tuple[str, ...] = ()


def invite(event: Event, registration: Registration, method: str, sequence: int, context: InviteContext) -> bytes:
    """One participant's invite as iCalendar bytes.

    Everything but DTSTAMP, DESCRIPTION (it holds the personal link) and ATTENDEE is the same
    for every participant of an event, so that part is serialised once per state of the
    event and reused; an email's invite only serialises its three personal lines.
    """
    head, tail = _shared_part(EventFacts.of(event), method, sequence, context.organizer_email, context.event_url)
    description = _description(event, context.manage_url, context.sessions)
    # The lines as a VEVENT of these three properties writes them, in its order, through
    # icalendar's own value types; a component built for three lines cost three times that.
    lines = [
        "DTSTAMP:" + vDDDTypes(context.stamp).to_ical().decode(),
        _attendee_line(registration, method),
        "DESCRIPTION:" + vText(description).to_ical().decode() if description else "",
    ]
    return head + b"".join(folded(line) + b"\r\n" for line in lines if line) + tail


_END = b"END:VEVENT\r\n"
# RFC 5545 §3.1: a content line is folded into lines of at most 75 octets, a fold being CRLF
# and one space; each line here holds at most 74 octets besides that space, as icalendar's.
_FOLD_AT = 74


def folded(line: str) -> bytes:
    """A content line folded as icalendar folds it (never inside a UTF-8 character, nor
    between a backslash or caret and the character it escapes), in slices of its bytes:
    icalendar measures each character on its own, which costs an email's invite more than
    all its other lines."""
    data = line.encode("utf-8")
    pieces = []
    start = 0
    while len(data) - start > _FOLD_AT:
        cut = start + _FOLD_AT
        while data[cut] & 0xC0 == 0x80:  # a continuation byte: the character began earlier
            cut -= 1
        if data[cut - 1] in b"\\^" and cut - 1 > start:
            cut -= 1
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return b"\r\n ".join(pieces)


@dataclass(frozen=True)
class EventFacts:
    """What an invite says of its event: a value, so that it can key the cache of shared parts."""

    uid: str
    created_at: datetime
    changed_at: datetime
    starts_at: datetime
    ends_at: datetime
    title: str
    location: Optional[str]
    status: str
    organizer_name: Optional[str]
    organizer_email: Optional[str]

    @classmethod
    def of(cls, event: Event) -> EventFacts:
        return cls(
            event.uid,
            event.created_at,
            event.changed_at,
            event.starts_at,
            event.ends_at,
            event.title,
            event.location,
            event.status,
            event.organizer_name,
            event.organizer_email,
        )


@lru_cache(maxsize=256)
def _shared_part(facts: EventFacts, method: str, sequence: int, organizer_email: str, url: str) -> tuple[bytes, bytes]:
    """The invite up to where the personal lines go, and from there to the end."""
    calendar = _calendar(method)
    vevent = _vevent(facts, sequence, None, url)
    # A CANCEL to one participant (RFC 5546 §3.2.5) removes them, not the event: its STATUS
    # stays what it is, CANCELLED only when the event itself is.
    vevent.add("organizer", _organizer(facts, organizer_email))
    calendar.add_component(vevent)
    serialised = calendar.to_ical()
    cut = serialised.index(_END)
    return serialised[:cut], serialised[cut:]


def _attendee_line(registration: Registration, method: str) -> str:
    parameters = Parameters(
        CN=registration.name,
        CUTYPE="INDIVIDUAL",
        ROLE="REQ-PARTICIPANT",
        PARTSTAT="ACCEPTED" if method == REQUEST else "DECLINED",
        # We take no replies: the registration is the answer. RSVP=FALSE keeps clients quiet.
        RSVP="FALSE",
    )
    return str(Contentline.from_parts("ATTENDEE", parameters, vCalAddress(f"mailto:{registration.email}")))


def feed(
    events: Iterable[Event],
    name: str,
    url_for_event: Callable[[Event], str],
    organizer_fallback: str,
    timezone_name: Optional[str] = "Europe/Berlin",
) -> Calendar:
    """A subscription calendar. Its bytes depend only on the events, never on 'now'."""
    calendar = _calendar(PUBLISH)
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    if timezone_name:
        calendar.add("x-wr-timezone", timezone_name)
    calendar.add("refresh-interval", vDuration(timedelta(hours=1)), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for event in events:
        vevent = _vevent(event, event.sequence, event.changed_at, url_for_event(event))
        if event.description:
            vevent.add("description", _description(event, None))
        vevent.add("organizer", _organizer(event, organizer_fallback))
        calendar.add_component(vevent)
    return calendar


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def _vevent(event: Event | EventFacts, sequence: int, stamp: Optional[datetime], url: str) -> VEvent:
    vevent = VEvent()
    vevent.add("uid", event.uid)
    vevent.add("sequence", sequence)
    if stamp is not None:
        vevent.add("dtstamp", stamp)
    vevent.add("created", event.created_at)
    vevent.add("last-modified", event.changed_at)
    vevent.add("dtstart", event.starts_at)
    vevent.add("dtend", event.ends_at)
    vevent.add("summary", event.title)
    if event.location:
        vevent.add("location", event.location)
    vevent.add("url", url)
    vevent.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED.value else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    vevent.add("class", "PUBLIC")
    return vevent


def _organizer(event: Event | EventFacts, fallback_email: str) -> vCalAddress:
    organizer = vCalAddress(f"mailto:{event.organizer_email or fallback_email}")
    organizer.params["CN"] = event.organizer_name or "eventsvc"
    return organizer


def _description(event: Event, manage_url: Optional[str], sessions: tuple[str, ...] = ()) -> str:
    parts = [event.description or ""]
    if sessions:
        parts.append("\n".join(sessions))
    if manage_url:
        parts.append(f"Ihre Anmeldung verwalten / manage your registration: {manage_url}")
    return "\n\n".join(part for part in parts if part)

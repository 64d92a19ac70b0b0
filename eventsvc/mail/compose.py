"""Turning an outbox row into an email: templates, invite, headers, MIME layout.

Layout (RFC 6047, and what Outlook expects of a meeting request):

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST|CANCEL; charset=UTF-8     (where the kind has an invite)
      application/ics; name=invite.ics                          (the same calendar, attached)

Flask-Mail cannot put a text/calendar part inside the alternative, so emails are built with
the standard library's email.mime classes (the policy-based EmailMessage re-parses every
header it sets, which was half the cost of an email). Parts are UTF-8 in base64: every client
reads it and Python encodes it in C. Names from people's input have line breaks removed and
are quoted (formataddr) or written as RFC 2047 encoded words, so no input can add a header.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from eventsvc.domain import certificates, feedback, invites, messages, organizations, outbox, policies
from eventsvc.domain import sessions as event_sessions
from eventsvc.domain.documents import delivered_documents
from eventsvc.domain.models import Event, InterestEntry, OrganizerMessage, Registration
from eventsvc.domain.outbox import Claimed
from eventsvc.domain.statuses import CANCELLED, CONFIRMED, OFFERED, EventStatus
from eventsvc.domain.vocabulary import DEFAULT_LANGUAGE, language_or_default
from eventsvc.formatting import event_when, moment_text, zone_note
from eventsvc.links import Links
from eventsvc.mail.addresses import address_header, encoded_words
from eventsvc.mail.templates import EmailTemplates
from eventsvc.translations import translations
from eventsvc.wording import when_known, why_waiting

# Kinds that only make sense while the person holds a seat. Confirmations and the like are
# sent even if the person cancelled meanwhile: they tell what happened, in order.
NEEDS_SEAT = {
    outbox.REMINDER,
    outbox.EVENT_UPDATED,
    outbox.DOCUMENTATION,
    outbox.RECONFIRM,
    outbox.FEEDBACK,
    outbox.FEEDBACK_REMINDER,
}
_LINE_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f]+")


class Skip(Exception):
    """The email lost its reason before it went out; it is marked skipped, not sent."""


@dataclass(frozen=True)
class MailSettings:
    links: Links
    sender: str
    templates_override: Optional[str] = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(Links(config["BASE_URL"]), config["MAIL_DEFAULT_SENDER"], config.get("EMAIL_TEMPLATES"))


def message_id(key: str, sender: str) -> str:
    """The Message-ID of the outbox row with `key`: fixed when the row was written, in the
    sender address's domain."""
    domain = _parsed(sender)[1].rpartition("@")[2] or "eventsvc.invalid"
    return f"<{key}@{domain}>"


def compose(
    session: Session, message: Claimed, settings: MailSettings, templates: EmailTemplates, now: datetime
) -> Message:
    if message.interest_entry_id is not None:
        return _compose_for_interest(session, message, settings, templates, now)
    if message.registration_id is None:
        return _compose_for_organizer(session, message, settings, templates, now)
    registration = session.get(Registration, message.registration_id)
    if registration is None:
        raise Skip("the registration no longer exists")
    event = registration.event
    _check_still_due(message, registration, event, now)
    language = language_or_default(registration.language)
    context = _context(session, message, registration, event, settings, language, now)
    if message.kind == outbox.MESSAGE:
        content = session.get(OrganizerMessage, message.params.get("message_id"))
        if content is None:
            raise Skip("the message no longer exists")
        context |= _message_context(session, content, registration, settings.links, bool(message.params.get("test")))
    subject, body = _render(templates, message.kind, language, context)
    method = _invite_method(message, registration)
    if method:
        ics = invites.invite(
            event,
            registration,
            method,
            _sequence(message, registration, event),
            invites.InviteContext(
                organizer_email=event.organizer_email or _parsed(settings.sender)[1],
                event_url=settings.links.event(event.id),
                manage_url=context["manage_url"],
                stamp=message.created_at,
                sessions=tuple(
                    f"{item['title']}: {item['when']}" + (f", {item['location']}" if item["location"] else "")
                    for item in context["sessions"]
                    if item["status"] == "confirmed"
                ),
            ),
        )
        body.attach(_base64_part(f'text/calendar; charset="utf-8"; method={method}', ics))  # CRLF kept inside
        attachment = _base64_part('application/ics; name="invite.ics"', ics)
        attachment["Content-Disposition"] = 'attachment; filename="invite.ics"'
        email: Message = _multipart("mixed")
        email.attach(body)
        email.attach(attachment)
    else:
        email = body
    # A message's test copy goes to the organizer's address, written for the first recipient.
    to = (registration.name, registration.email) if message.recipient == registration.email else ("", message.recipient)
    return _with_headers(email, subject, to, event, message, settings, language, now)


@dataclass(frozen=True)
class Preview:
    subject: str
    text: str
    html: str


def preview_message(
    session: Session,
    content: OrganizerMessage,
    event: Event,
    registration: Registration,
    settings: MailSettings,
    templates: EmailTemplates,
    now: datetime,
) -> Preview:
    """A message as `registration` would get it, rendered as the sender would render it."""
    language = language_or_default(registration.language)
    row = Claimed(0, outbox.MESSAGE, event.id, registration.id, registration.email, {}, 0, now, "")
    context = _context(session, row, registration, event, settings, language, now)
    context |= _message_context(session, content, registration, settings.links, False)
    rendered = templates.render(outbox.MESSAGE, language, context)
    return Preview(rendered.subject, rendered.text, rendered.html)


def _message_context(
    session: Session, content: OrganizerMessage, registration: Registration, links: Links, test: bool
) -> dict[str, Any]:
    documents = messages.documents_for(session, content, registration.id, links)
    return {"message_subject": content.subject, "message_body": content.body, "documents": documents, "test": test}


def _compose_for_organizer(
    session: Session, message: Claimed, settings: MailSettings, templates: EmailTemplates, now: datetime
) -> Message:
    """An email to the event's organizer (a seat is free after the cut-off, personal data
    will be removed), in the service's own language."""
    event = session.get(Event, message.event_id)
    if event is None:
        raise Skip("the event no longer exists")
    language = DEFAULT_LANGUAGE
    context = {
        "recipient_name": None,
        "event": event,
        "when": event_when(event.starts_at, event.ends_at, event.timezone, language),
        "zone_note": zone_note(event.starts_at, event.timezone, language),
        "event_url": settings.links.event(event.id),
        "waiting": int(message.params.get("waiting", 0)),
        "addresses": list(message.params.get("addresses", [])),
        "console_url": settings.links.console(),
        "seats_left": int(message.params.get("seats_left", 1)),
        "removal_at": moment_text(datetime.fromisoformat(message.params["removal_at"]), event.timezone, language)
        if "removal_at" in message.params
        else "",
    }
    subject, body = _render(templates, message.kind, language, context)
    return _with_headers(
        body, subject, (event.organizer_name or "", message.recipient), event, message, settings, language, now
    )


def _compose_for_interest(
    session: Session, message: Claimed, settings: MailSettings, templates: EmailTemplates, now: datetime
) -> Message:
    """An email to an address of a series' interest list: the link that confirms it, or the
    news of an event of the series, with a one-click way off the list (RFC 8058)."""
    entry = session.get(InterestEntry, message.interest_entry_id)
    if entry is None:
        raise Skip("the address has left the interest list")
    event = session.get(Event, message.event_id) if message.event_id is not None else None
    if message.kind == outbox.SERIES_EVENT and (event is None or event.status != EventStatus.PUBLISHED.value):
        raise Skip("the event is no longer published")
    language = language_or_default(entry.language)
    links = settings.links
    context: dict[str, Any] = {
        "recipient_name": entry.name,
        "sessions": [],
        "series": entry.series,
        "confirm_url": links.interest_confirm(entry.token),
        "leave_url": links.interest_leave(entry.token),
        "series_url": links.series(entry.series),
        "event": event,
        "when": event_when(event.starts_at, event.ends_at, event.timezone, language) if event else "",
        "zone_note": zone_note(event.starts_at, event.timezone, language) if event else "",
        "event_url": links.event(event.id) if event else "",
        "organizer_name": event.organizer_name if event else None,
        "organizer_email": event.organizer_email if event else None,
    }
    subject, body = _render(templates, message.kind, language, context)
    email = _with_headers(body, subject, (entry.name, message.recipient), event, message, settings, language, now)
    if message.kind == outbox.SERIES_EVENT:
        email["List-Unsubscribe"] = f"<{context['leave_url']}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return email


def _render(templates: EmailTemplates, kind: str, language: str, context: dict[str, Any]) -> tuple[str, MIMEMultipart]:
    """The subject line, and the text and HTML alternatives."""
    rendered = templates.render(kind, language, context)
    body = _multipart("alternative")
    body.attach(_text_part(rendered.text, "plain"))
    body.attach(_text_part(rendered.html, "html"))
    return rendered.subject, body


def _with_headers(
    email: Message,
    subject: str,
    to: tuple[str, str],
    event: Optional[Event],
    message: Claimed,
    settings: MailSettings,
    language: str,
    now: datetime,
) -> Message:
    email["Subject"] = encoded_words(subject, "Subject")
    email["From"] = _sender(settings.sender, event)
    email["To"] = address_header(_one_line(to[0]), to[1], "To")
    if event is not None and event.organizer_email:
        email["Reply-To"] = address_header(_one_line(event.organizer_name or ""), event.organizer_email, "Reply-To")
    email["Date"] = format_datetime(now)
    email["Message-ID"] = message_id(message.message_key, settings.sender)
    email["Auto-Submitted"] = "auto-generated"
    email["X-Auto-Response-Suppress"] = "All"  # no out-of-office replies from Outlook
    email["X-Eventsvc-Kind"] = message.kind
    email["Content-Language"] = language
    return email


def _text_part(text: str, subtype: str) -> Message:
    """UTF-8, base64, with the CRLF line ends of canonical MIME text."""
    return _base64_part(f'text/{subtype}; charset="utf-8"', text.replace("\r\n", "\n").replace("\n", "\r\n").encode())


def _base64_part(content_type: str, data: bytes) -> Message:
    """A leaf part, encoded here in one call rather than through email.charset, which
    encodes base64 line by line in Python (a noticeable share of an email's cost)."""
    part = Message()
    part["Content-Type"] = content_type
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(data).decode("ascii"))
    return part


def _multipart(subtype: str) -> MIMEMultipart:
    """A multipart with its boundary chosen here: random, and never found in base64 or in
    our headers. Left to the generator, the boundary costs a regular expression built and
    run over the whole message for each multipart."""
    return MIMEMultipart(subtype, boundary=f"=_{secrets.token_hex(16)}")


def _check_still_due(message: Claimed, registration: Registration, event: Event, now: datetime) -> None:
    if registration.anonymised_at is not None:
        raise Skip("the registration's personal data has been removed")
    status = registration.status
    if message.kind in NEEDS_SEAT and status != CONFIRMED:
        raise Skip(f"{message.kind} to someone who is {status}")
    if message.kind == outbox.MESSAGE and status == CANCELLED and not message.params.get("test"):
        raise Skip("a message to someone who has cancelled since")
    if message.kind in (outbox.FEEDBACK, outbox.FEEDBACK_REMINDER) and (
        not registration.feedback_token or registration.feedback_answered_at is not None
    ):
        raise Skip("feedback already given, or its invitation is gone")
    if message.kind == outbox.OFFER and status != OFFERED:
        raise Skip(f"an offer to someone who is {status}")
    if message.kind in (outbox.REMINDER, outbox.EVENT_UPDATED) and event.status != EventStatus.PUBLISHED.value:
        raise Skip(f"{message.kind} for an event that is {event.status}")
    if message.kind == outbox.REMINDER and event.starts_at <= now:
        raise Skip("reminder for an event that has begun")


def _invite_method(message: Claimed, registration: Registration) -> Optional[str]:
    return policies.email_invite_method(message.kind, bool(message.params.get("had_seat")))


def _sequence(message: Claimed, registration: Registration, event: Event) -> int:
    """An invite to someone who still holds a seat shows the event as it is now, with its
    current SEQUENCE. Anything else keeps the number it was queued with: a CANCEL's is above
    every invite the person held, and a late REQUEST (say, retried after the person
    cancelled) stays below the CANCEL that followed it, so calendars ignore it."""
    holds_seat = registration.status == CONFIRMED and event.status == EventStatus.PUBLISHED.value
    if policies.EMAIL_INVITE.get(message.kind) == invites.REQUEST and holds_seat:
        return event.sequence
    return int(message.params.get("sequence", event.sequence))


def _days_ahead(event: Event, now: datetime) -> int:
    """Calendar days from now to the event's start, in the event's time zone: 1 is tomorrow."""
    zone = ZoneInfo(event.timezone)
    return (event.starts_at.astimezone(zone).date() - now.astimezone(zone).date()).days


def _context(
    session: Session,
    message: Claimed,
    registration: Registration,
    event: Event,
    settings: MailSettings,
    language: str,
    now: datetime,
) -> dict[str, Any]:
    links = settings.links
    gettext = translations(language).gettext
    reason = registration.waitlist_reason if registration.status != CONFIRMED else None
    ends = policies.waiting_ends_at(event, reason)
    return {
        "kind": message.kind,
        "params": message.params,
        "participant": registration,
        "recipient_name": registration.name,
        "waiting_because": why_waiting(
            gettext,
            reason,
            organizations.name_of(session, registration.organization_key) if reason else None,
            event.organization_limit,
        ),
        "learn_more": when_known(gettext, reason, moment_text(ends, event.timezone, language) if ends else None),
        "event": event,
        "when": event_when(event.starts_at, event.ends_at, event.timezone, language),
        "zone_note": zone_note(event.starts_at, event.timezone, language),
        "manage_url": links.manage(registration.token),
        "invite_url": links.invite(registration.token),
        "event_url": links.event(event.id),
        "series_url": links.series(event.series) + "#interest" if event.series else "",
        "feed_url": links.personal_feed(registration.feed_token),
        "position": message.params.get("position"),
        # How far ahead the event is when the email goes out, not the offset it was queued
        # for: a reminder that went out late (no scheduler for a while) still says it right.
        "days_ahead": _days_ahead(event, now),
        "hours_ahead": max(1, round((event.starts_at - now).total_seconds() / 3600)),
        "documents": delivered_documents(session, registration.id, message.params.get("document_ids", []), links)
        if message.kind == outbox.DOCUMENTATION
        else [],
        "certificate_url": links.certificate(registration.token)
        if message.kind == outbox.DOCUMENTATION and certificates.is_issued(event, registration, now)
        else "",
        "had_seat": bool(message.params.get("had_seat")),
        **_previous(message.params.get("previous"), event, language),
        "offer_until": moment_text(registration.offer_expires_at, event.timezone, language)
        if registration.offer_expires_at
        else "",
        "reconfirm_until": moment_text(
            registration.reconfirm_asked_at + timedelta(seconds=event.reconfirm_window), event.timezone, language
        )
        if registration.reconfirm_asked_at
        else "",
        "organizer_name": event.organizer_name,
        "organizer_email": event.organizer_email,
        "sessions": _sessions_listed(session, message.kind, registration, event, language),
        "feedback_url": links.feedback(registration.feedback_token) if registration.feedback_token else "",
        "feedback_follows": bool(event.feedback) and registration.attended,
        "feedback_closes": moment_text(feedback.closes_at(event), event.timezone, language) if event.feedback else "",
        "session": _promoted_session(message, event, language),
    }


# The emails that list the person's sessions with their times and places.
LISTS_SESSIONS = {outbox.CONFIRMATION, outbox.PROMOTED, outbox.REMINDER}


def _session_text(item: dict[str, Any], event: Event, language: str) -> dict[str, Any]:
    starts, ends = event_sessions.parse_time(item["starts_at"]), event_sessions.parse_time(item["ends_at"])
    when = event_when(starts, ends, event.timezone, language)
    location = item.get("location") or ""
    return {
        "key": item["key"],
        "title": item["title"],
        "when": when,
        "location": location,
        "line": f"{item['title']}: {when}" + (f", {location}" if location else ""),
    }


def _sessions_listed(session: Session, kind: str, registration: Registration, event: Event, language: str) -> list[Any]:
    if kind not in LISTS_SESSIONS or not event.sessions:
        return []
    by_key = {item["key"]: item for item in event.sessions}
    return [
        _session_text(by_key[choice["key"]], event, language)
        | {"status": choice["status"], "position": choice["waitlist_position"]}
        for choice in event_sessions.choices_of(session, registration.id)
        if choice["key"] in by_key
    ]


def _promoted_session(message: Claimed, event: Event, language: str) -> Optional[dict[str, Any]]:
    key = message.params.get("session")
    item = next((item for item in event.sessions or [] if item["key"] == key), None)
    return _session_text(item, event, language) if item else None


def _previous(previous: Optional[dict[str, Any]], event: Event, language: str) -> dict[str, Any]:
    """What an event-updated email says changed: the time and place before the change."""
    if not previous:
        return {"changed_when": False, "changed_where": False, "previous_when": "", "previous_location": ""}
    starts, ends = datetime.fromisoformat(previous["starts_at"]), datetime.fromisoformat(previous["ends_at"])
    return {
        "changed_when": (starts, ends) != (event.starts_at, event.ends_at),
        "changed_where": previous.get("location") != event.location,
        "previous_when": event_when(starts, ends, event.timezone, language)
        + zone_note(starts, event.timezone, language),
        "previous_location": previous.get("location") or "–",
    }


def _sender(configured: str, event: Optional[Event]) -> str:
    name, address = _parsed(configured)
    shown = (event.organizer_name if event is not None else None) or name
    return address_header(_one_line(shown), address, "From") if address else configured


@lru_cache(maxsize=16)
def _parsed(address: str) -> tuple[str, str]:
    """The configured sender, parsed once rather than for every email."""
    return parseaddr(address)


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text).strip()

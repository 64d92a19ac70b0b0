"""Calendars over HTTP: the public subscription feed, one event, a person's own feed, and a
participant's invite as a file.

Feed bodies depend only on stored data (DTSTAMP is the event's last change), so the strong
ETag is a hash of the bytes and a conditional request can be answered with 304. The public
feed is cached in the process, keyed by a one-row summary of the visible events.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from email.utils import parseaddr

from flask import Flask, Response, current_app, request
from sqlalchemy import func, select

from eventsvc.db import db
from eventsvc.domain import events as event_service
from eventsvc.domain import invites
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.errors import InvalidState, NotFound
from eventsvc.domain.models import Event, EventStatus, RegistrationStatus
from eventsvc.edges.common import now

CALENDAR_MIMETYPE = "text/calendar"


def register(app: Flask) -> None:
    app.add_url_rule("/calendar.ics", "calendar_feed", public_feed)
    app.add_url_rule("/events/<id:event_id>.ics", "event_ics", event_ics)
    app.add_url_rule("/feeds/<token>.ics", "personal_feed", personal_feed)
    app.add_url_rule("/api/v1/registrations/<token>/invite.ics", "invite_ics", invite_ics)


def _organizer_fallback() -> str:
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]


def _event_url(event: Event) -> str:
    return f"{current_app.config['BASE_URL']}/events/{event.id}"


def _feed_body(events: list[Event], name: str) -> bytes:
    return invites.feed(events, name, _event_url, _organizer_fallback()).to_ical()


def body_etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def calendar_response(body: bytes, last_modified: datetime | None, filename: str, etag: str | None = None) -> Response:
    etag = etag or body_etag(body)
    response = Response(body, mimetype=CALENDAR_MIMETYPE)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-cache"  # revalidate with the ETag each time
    response.set_etag(etag)
    if last_modified:
        response.last_modified = last_modified.replace(microsecond=0)
    if _not_modified(etag, response.last_modified):
        response.status_code = 304
        response.set_data(b"")
        response.headers.pop("Content-Length", None)
    return response


def _not_modified(etag: str, last_modified: datetime | None) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains(etag) or request.if_none_match.star_tag
    since = request.if_modified_since
    return bool(since and last_modified and last_modified <= since)


def public_feed() -> Response:
    moment = now()
    key = _feed_fingerprint(moment)
    cache = current_app.extensions.setdefault("eventsvc.feed_cache", {})
    cached = cache.get("public")
    if cached is None or cached[0] != key:
        events = event_service.feed_events(db.session, moment)
        body = _feed_body(events, "Fachveranstaltungen")
        last = max((event.changed_at for event in events), default=None)
        cached = (key, body, last, body_etag(body))
        cache["public"] = cached  # one assignment: readers see the old entry or the new one
    db.session.rollback()
    _key, body, last, etag = cached
    return calendar_response(body, last, "calendar.ics", etag)


def _feed_fingerprint(moment: datetime) -> tuple:
    """Changes whenever the feed's content would: an event added, changed, or dropped."""
    visible = (Event.status == EventStatus.PUBLISHED.value) | (
        (Event.status == EventStatus.CANCELLED.value)
        & (Event.cancelled_at > moment - event_service.CANCELLED_VISIBLE_FOR))
    row = db.session.execute(
        select(func.count(), func.max(Event.changed_at), func.sum(Event.id), func.sum(Event.sequence)).where(visible)
    ).one()
    return tuple(row) + (current_app.config["BASE_URL"],)


def event_ics(event_id: int) -> Response:
    event = event_service.get_event(db.session, event_id, public=True)
    body = _feed_body([event], event.title)
    db.session.rollback()
    return calendar_response(body, event.changed_at, f"event-{event.id}.ics")


def personal_feed(token: str) -> Response:
    events = registration_service.events_held_by_feed(db.session, token)
    body = _feed_body(events, "Meine Fachveranstaltungen")
    last = max((event.changed_at for event in events), default=datetime(2000, 1, 1, tzinfo=timezone.utc))
    db.session.rollback()
    return calendar_response(body, last, "meine-veranstaltungen.ics")


def invite_ics(token: str) -> Response:
    """The participant's own invite: REQUEST while they hold a seat, CANCEL once they gave it up."""
    registration = registration_service.get_by_token(db.session, token)
    event = registration.event
    if registration.status == RegistrationStatus.WAITLISTED.value:
        raise InvalidState("No invite while on the waiting list.")
    if event.status == EventStatus.DRAFT.value:
        raise NotFound("No such event.")
    cancelled = registration.status == RegistrationStatus.CANCELLED.value or event.status == EventStatus.CANCELLED.value
    method = invites.CANCEL if cancelled else invites.REQUEST
    body = invites.invite(event, registration, method, event.sequence, invites.InviteContext(
        organizer_email=event.organizer_email or _organizer_fallback(),
        event_url=_event_url(event),
        manage_url=f"{current_app.config['BASE_URL']}/r/{registration.token}",
        stamp=event.changed_at,
    ))
    db.session.rollback()
    response = calendar_response(body, event.changed_at, "invite.ics")
    response.headers["Content-Type"] = f"text/calendar; method={method}; charset=utf-8"
    return response

"""Calendars over HTTP: the public subscription feed, one event, a person's own feed, and a
participant's invite as a file.

Feed bodies depend only on stored data (DTSTAMP is the event's last change), so a strong
ETag can stand for them and a conditional request can be answered with 304. The public feed,
which calendar apps poll, takes its ETag from a one-row summary of the visible events: a
304 costs that one query and no rendering. Its body is cached in the process under the same
summary.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Optional

from flask import Flask, Response, current_app, request
from sqlalchemy import bindparam, func, select

from eventsvc.db import unit_of_work
from eventsvc.domain import events as event_service
from eventsvc.domain import invites, policies
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.errors import InvalidState, NotFound
from eventsvc.domain.models import Event
from eventsvc.domain.rules import feed_cutoff, in_public_feed, is_public
from eventsvc.edges.common import links, now

CALENDAR_MIMETYPE = "text/calendar"


def register(app: Flask) -> None:
    app.add_url_rule("/calendar.ics", "calendar_feed", public_feed)
    app.add_url_rule("/events/<id:event_id>.ics", "event_ics", event_ics)
    app.add_url_rule("/feeds/<token>.ics", "personal_feed", personal_feed)
    app.add_url_rule("/api/v1/registrations/<token>/invite.ics", "invite_ics", invite_ics)


def _organizer_fallback() -> str:
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]


def _feed_body(events: list[Event], name: str) -> bytes:
    calendar = invites.feed(events, name, lambda event: links().event(event.id), _organizer_fallback())
    return bytes(calendar.to_ical())


def body_etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def calendar_response(
    body: bytes, last_modified: Optional[datetime], filename: str, etag: Optional[str] = None
) -> Response:
    etag = etag or body_etag(body)
    if _not_modified(etag, last_modified):
        return _not_modified_response(etag, last_modified)
    response = Response(body, mimetype=CALENDAR_MIMETYPE)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    _validators(response, etag, last_modified)
    return response


def _validators(response: Response, etag: str, last_modified: Optional[datetime]) -> None:
    response.headers["Cache-Control"] = "no-cache"  # revalidate with the ETag each time
    response.set_etag(etag)
    if last_modified:
        response.last_modified = last_modified.replace(microsecond=0)


def _not_modified_response(etag: str, last_modified: Optional[datetime]) -> Response:
    response = Response(status=304)
    _validators(response, etag, last_modified)
    return response


def _not_modified(etag: str, last_modified: Optional[datetime]) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains(etag) or request.if_none_match.star_tag
    since = request.if_modified_since
    return bool(since and last_modified and last_modified.replace(microsecond=0) <= since)


# Changes whenever the feed's content would: an event added, changed, cancelled, or gone
# from it. Built once: it runs for every poll of every subscribed calendar.
_FEED_SUMMARY = select(func.count(), func.max(Event.changed_at), func.sum(Event.id), func.sum(Event.sequence)).where(
    in_public_feed(bindparam("cutoff", type_=Event.cancelled_at.type))
)


def public_feed() -> Response:
    moment = now()
    with unit_of_work(writes=False) as session:
        summary = session.connection().execute(_FEED_SUMMARY, {"cutoff": feed_cutoff(moment)}).one()
        key = (tuple(summary), links().base, _organizer_fallback())
        etag = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        last = summary[1]
        if _not_modified(etag, last):
            return _not_modified_response(etag, last)
        cache = current_app.extensions.setdefault("eventsvc.feed_cache", {})
        cached = cache.get("public")
        if cached is None or cached[0] != key:
            cached = (key, _feed_body(event_service.feed_events(session, moment), "Fachveranstaltungen"))
            cache["public"] = cached  # one assignment: readers see the old entry or the new one
    return calendar_response(cached[1], last, "calendar.ics", etag)


def event_ics(event_id: int) -> Response:
    with unit_of_work(writes=False) as session:
        event = event_service.get_event(session, event_id, public=True)
        body = _feed_body([event], event.title)
        changed = event.changed_at
    return calendar_response(body, changed, f"event-{event_id}.ics")


def personal_feed(token: str) -> Response:
    with unit_of_work(writes=False) as session:
        events = registration_service.events_held_by_feed(session, token)
        body = _feed_body(events, "Meine Fachveranstaltungen")
        last = max((event.changed_at for event in events), default=datetime(2000, 1, 1, tzinfo=UTC))
    return calendar_response(body, last, "meine-veranstaltungen.ics")


def invite_ics(token: str) -> Response:
    """The participant's own invite: REQUEST while they hold a seat, CANCEL once they gave it up."""
    with unit_of_work(writes=False) as session:
        registration = registration_service.get_by_token(session, token)
        event = registration.event
        method = policies.download_invite_method(registration.status, event.status)
        if method is None:
            raise InvalidState("No invite while on the waiting list.")
        if not is_public(event.status):
            raise NotFound("No such event.")
        body = invites.invite(
            event,
            registration,
            method,
            event.sequence,
            invites.InviteContext(
                organizer_email=event.organizer_email or _organizer_fallback(),
                event_url=links().event(event.id),
                manage_url=links().manage(registration.token),
                stamp=now(),  # made now: never older than an invite the person was emailed
            ),
        )
        changed = event.changed_at
    response = calendar_response(body, changed, "invite.ics")
    response.headers["Content-Type"] = f"text/calendar; method={method}; charset=utf-8"
    return response

"""Invites and feeds, property by property, read by two independent parsers (icalendar and ical).

Parsing is not validation: both parsers accept invites without DTSTAMP, so every property
the clients rely on is asserted explicitly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, iso, parts, register


def check_wire_format(raw: bytes) -> None:
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line  # folded at 75 octets (RFC 5545 §3.1)


def both_parsers(raw: bytes):
    check_wire_format(raw)
    first = Calendar.from_ical(raw)
    second = IcsCalendarStream.calendar_from_ics(raw.decode("utf-8"))
    return first, second


def check_invite(raw: bytes, method: str, event: dict, email: str, name: str, token: str | None):
    first, second = both_parsers(raw)
    assert first["METHOD"] == method and second.method == method
    [vevent] = first.events
    [other] = second.events
    assert str(vevent["UID"]) == other.uid and other.uid.endswith("@eventsvc")
    assert vevent["DTSTAMP"].dt.tzinfo is not None and vevent["DTSTAMP"].dt.utcoffset() == timedelta(0)
    assert other.dtstamp.utcoffset() == timedelta(0)
    assert vevent["DTSTART"].dt == datetime.fromisoformat(event["starts_at"])
    assert vevent["DTEND"].dt == datetime.fromisoformat(event["ends_at"])
    assert other.dtstart == datetime.fromisoformat(event["starts_at"])
    assert str(vevent["ORGANIZER"]) == f"mailto:{event['organizer_email']}"
    assert vevent["ORGANIZER"].params["CN"] == event["organizer_name"] == other.organizer.common_name
    [attendee] = [vevent["ATTENDEE"]] if not isinstance(vevent["ATTENDEE"], list) else vevent["ATTENDEE"]
    assert str(attendee) == f"mailto:{email}" and attendee.params["CN"] == name
    assert other.attendees[0].common_name == name
    assert str(vevent["SUMMARY"]) == event["title"] == other.summary
    assert str(vevent["LOCATION"]) == event["location"]
    assert str(vevent["URL"]) == f"https://events.example.org/events/{event['id']}"
    if token:
        assert f"https://events.example.org/r/{token}" in str(vevent["DESCRIPTION"])
    if method == "CANCEL":
        assert attendee.params["PARTSTAT"] == "DECLINED"
    return vevent


def invite_of(message):
    calendar_part = parts(message)["text/calendar"]
    raw = calendar_part.get_payload(decode=True)
    assert calendar_part.get_param("method") == Calendar.from_ical(raw)["METHOD"]
    assert parts(message)["application/ics"].get_payload(decode=True) == raw
    return raw


def test_invites_of_every_kind_pass_the_checklist(mail_app, client, smtp, clock):
    event = create_event(
        client, capacity=1, title="Übergänge im Personenstandswesen – Änderungen 2027", reminders=["P1D"]
    )
    first = register(client, event["id"], "jurgen@example.org", name="Jürgen Groß").get_json()
    second = register(client, event["id"], "erika@example.org", name="Erika Müller").get_json()
    tick(mail_app)
    moved = client.patch(
        f"/api/v1/admin/events/{event['id']}", json={"location": "Rathaus Süd, Ratssaal"}, headers=ADMIN
    ).get_json()
    tick(mail_app)
    client.delete(f"/api/v1/registrations/{first['token']}")
    tick(mail_app)
    clock.set(T0 + timedelta(days=29))
    tick(mail_app)
    client.post(f"/api/v1/admin/events/{event['id']}/cancel", headers=ADMIN)
    tick(mail_app)
    sent = [(m["X-Eventsvc-Kind"], m) for m in smtp.messages if m["X-Eventsvc-Kind"] != "waitlisted"]
    assert [kind for kind, _ in sent] == [
        "confirmation",
        "event-updated",
        "cancelled",
        "promoted",
        "reminder",
        "event-cancelled",
    ]
    who = {
        "jurgen@example.org": ("Jürgen Groß", first["token"]),
        "erika@example.org": ("Erika Müller", second["token"]),
    }
    uids, sequences = set(), {}
    for kind, message in sent:
        email = message["To"].addresses[0].addr_spec
        method = "CANCEL" if kind in ("cancelled", "event-cancelled") else "REQUEST"
        shown = event if kind == "confirmation" else moved
        vevent = check_invite(invite_of(message), method, shown, email, *who[email])
        # One person's CANCEL removes them, not the event (RFC 5546 §3.2.5); the event's own
        # cancellation says CANCELLED.
        assert str(vevent["STATUS"]) == ("CANCELLED" if kind == "event-cancelled" else "CONFIRMED")
        uids.add(str(vevent["UID"]))
        sequences.setdefault(email, []).append(int(vevent["SEQUENCE"]))
        assert "Übergänge" in str(vevent["SUMMARY"])  # umlauts intact
    assert len(uids) == 1
    assert sequences["jurgen@example.org"] == sorted(set(sequences["jurgen@example.org"]))  # strictly growing
    assert sequences["erika@example.org"][-1] > sequences["erika@example.org"][0]


@pytest.mark.parametrize(
    "local_start, utc_start",
    [
        ("2027-03-28T09:00:00+02:00", "20270328T070000Z"),  # last Sunday of March: summer time begins
        ("2026-10-25T09:00:00+01:00", "20261025T080000Z"),  # last Sunday of October: winter time again
        ("2026-10-25T02:30:00+01:00", "20261025T013000Z"),  # the second 02:30 of that night
    ],
)
def test_dst_edges_are_written_in_utc(client, local_start, utc_start):
    start = datetime.fromisoformat(local_start)
    event = create_event(client, starts_at=local_start, ends_at=iso(start + timedelta(hours=3)))
    assert datetime.fromisoformat(event["starts_at"]) == start
    raw = client.get(f"/events/{event['id']}.ics").data
    assert f"DTSTART:{utc_start}".encode() in raw
    _first, second = both_parsers(raw)
    assert second.events[0].dtstart == start


def test_public_feed_is_deterministic_with_etag_and_304(client, clock):
    published = create_event(client, title="Öffentlich")
    create_event(client, title="Entwurf", status="draft")
    response = client.get("/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    first, _second = both_parsers(response.data)
    assert str(first["X-WR-CALNAME"]) == str(first["NAME"]) == "Fachveranstaltungen"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.data and b"X-PUBLISHED-TTL:PT1H" in response.data
    assert [str(e["SUMMARY"]) for e in first.events] == ["Öffentlich"]
    etag = response.headers["ETag"]
    assert etag.startswith('"') and response.headers["Last-Modified"]
    clock.advance(timedelta(hours=5))
    again = client.get("/calendar.ics")
    assert again.data == response.data and again.headers["ETag"] == etag  # no DTSTAMP of "now"
    assert client.get("/calendar.ics", headers={"If-None-Match": etag}).status_code == 304
    since = client.get("/calendar.ics", headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert since.status_code == 304 and since.data == b""
    client.patch(f"/api/v1/admin/events/{published['id']}", json={"title": "Umbenannt"}, headers=ADMIN)
    changed = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and b"SUMMARY:Umbenannt" in changed.data


def test_cancelled_events_stay_in_the_feed_for_30_days(client, clock):
    event = create_event(client)
    client.post(f"/api/v1/admin/events/{event['id']}/cancel", headers=ADMIN)
    first, _ = both_parsers(client.get("/calendar.ics").data)
    assert [str(e["STATUS"]) for e in first.events] == ["CANCELLED"]
    assert int(first.events[0]["SEQUENCE"]) == 1
    clock.advance(timedelta(days=31))
    first, _ = both_parsers(client.get("/calendar.ics").data)
    assert first.events == []
    assert client.get(f"/events/{event['id']}.ics").status_code == 200


def test_single_event_feed_and_draft_404(client):
    draft = create_event(client, status="draft")
    assert client.get(f"/events/{draft['id']}.ics").status_code == 404
    event = create_event(client)
    response = client.get(f"/events/{event['id']}.ics")
    first, _ = both_parsers(response.data)
    assert first.events[0]["UID"] == Calendar.from_ical(client.get("/calendar.ics").data).events[0]["UID"]
    assert (
        client.get(f"/events/{event['id']}.ics", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    )


def test_personal_feed_lists_the_events_an_address_holds_a_seat_for(mail_app, client, smtp):
    one = create_event(client, title="Erste")
    two = create_event(client, title="Zweite", capacity=1)
    three = create_event(client, title="Dritte")
    register(client, one["id"], "a@example.org")
    register(client, two["id"], "b@example.org")
    register(client, two["id"], "A@example.org")  # waitlisted: no seat
    token = register(client, three["id"], "a@example.org").get_json()["token"]
    tick(mail_app)
    text = parts(smtp.messages[0])["text/plain"].get_content()
    feed_url = next(word for word in text.split() if "/feeds/" in word)
    response = client.get(feed_url.replace("https://events.example.org", ""))
    first, _ = both_parsers(response.data)
    assert [str(e["SUMMARY"]) for e in first.events] == ["Erste", "Dritte"]
    client.delete(f"/api/v1/registrations/{token}")
    first, _ = both_parsers(client.get(feed_url.replace("https://events.example.org", "")).data)
    assert [str(e["SUMMARY"]) for e in first.events] == ["Erste"]
    assert client.get("/feeds/unknown.ics").status_code == 404


def test_invite_download_for_people_who_cannot_use_invites(client):
    event = create_event(client, capacity=1)
    seat = register(client, event["id"], "a@example.org", name="Anna").get_json()
    wait = register(client, event["id"], "b@example.org").get_json()
    response = client.get(f"/api/v1/registrations/{seat['token']}/invite.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Content-Type"].startswith("text/calendar; method=REQUEST")
    check_invite(response.data, "REQUEST", event, "a@example.org", "Anna", seat["token"])
    assert client.get(f"/api/v1/registrations/{wait['token']}/invite.ics").status_code == 409
    client.delete(f"/api/v1/registrations/{seat['token']}")
    cancelled = client.get(f"/api/v1/registrations/{seat['token']}/invite.ics")
    assert Calendar.from_ical(cancelled.data)["METHOD"] == "CANCEL"
    assert client.get("/api/v1/registrations/nope/invite.ics").status_code == 404

"""Registrations through the JSON API: seats, waitlist, duplicates, windows, the outbox rows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from eventsvc.db import db
from eventsvc.domain.models import OutboxMessage
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, iso, register, registrations


def outbox(kind: str | None = None) -> list[tuple[str, str]]:
    query = db.session.query(OutboxMessage).order_by(OutboxMessage.id)
    db.session.expire_all()
    return [(m.kind, m.recipient) for m in query if kind is None or m.kind == kind]


def test_seats_then_waitlist_with_positions_and_one_email_each(client):
    event = create_event(client, capacity=2)
    bodies = [register(client, event["id"], f"p{i}@example.org").get_json() for i in range(4)]
    assert [(b["status"], b["waitlist_position"]) for b in bodies] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    assert all(
        len(b["token"]) >= 43 and b["manage_url"] == f"https://events.example.org/r/{b['token']}" for b in bodies
    )
    assert outbox() == [
        ("confirmation", "p0@example.org"),
        ("confirmation", "p1@example.org"),
        ("waitlisted", "p2@example.org"),
        ("waitlisted", "p3@example.org"),
    ]
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    assert (shown["seats_taken"], shown["seats_left"], shown["waitlist_length"]) == (2, 0, 2)


def test_cancelling_a_seat_promotes_the_first_waitlisted_and_closes_the_gap(client):
    event = create_event(client, capacity=1)
    first, second, third = (register(client, event["id"], f"p{i}@example.org").get_json() for i in range(3))
    response = client.delete(f"/api/v1/registrations/{first['token']}")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert client.get(f"/api/v1/registrations/{second['token']}").get_json()["status"] == "confirmed"
    assert client.get(f"/api/v1/registrations/{third['token']}").get_json()["waitlist_position"] == 1
    assert outbox()[-2:] == [("cancelled", "p0@example.org"), ("promoted", "p1@example.org")]
    again = client.delete(f"/api/v1/registrations/{first['token']}")
    assert again.status_code == 200 and outbox()[-1] == ("promoted", "p1@example.org")


def test_a_waitlisted_person_leaving_moves_the_queue_up(client):
    event = create_event(client, capacity=1)
    bodies = [register(client, event["id"], f"p{i}@example.org").get_json() for i in range(4)]
    client.delete(f"/api/v1/registrations/{bodies[1]['token']}")
    listed = registrations(client, event["id"], "waitlisted")
    assert [(r["email"], r["waitlist_position"]) for r in listed] == [("p2@example.org", 1), ("p3@example.org", 2)]
    assert ("cancelled", "p1@example.org") not in outbox()  # the cancelled email is for seat holders
    newcomer = register(client, event["id"], "p4@example.org").get_json()
    assert (newcomer["status"], newcomer["waitlist_position"]) == ("waitlisted", 3)


def test_full_event_without_waitlist_is_409_event_full(client):
    event = create_event(client, capacity=1, waitlist=False)
    register(client, event["id"], "a@example.org")
    response = register(client, event["id"], "b@example.org")
    assert response.status_code == 409 and response.get_json()["code"] == "event_full"
    assert len(registrations(client, event["id"])) == 1


def test_duplicate_address_is_409_and_the_notice_goes_out_at_most_hourly(client, clock):
    event = create_event(client)
    first = register(client, event["id"], "Erika@Example.org").get_json()
    for _ in range(3):
        response = register(client, event["id"], "erika@example.ORG")
        assert response.status_code == 409 and response.get_json()["code"] == "already_registered"
    assert outbox("already-registered") == [("already-registered", "Erika@Example.org")]
    clock.advance(timedelta(minutes=61))
    register(client, event["id"], "ERIKA@example.org")
    assert len(outbox("already-registered")) == 2
    client.delete(f"/api/v1/registrations/{first['token']}")
    assert register(client, event["id"], "erika@example.org").status_code == 201


def test_registration_window(client, clock):
    event = create_event(
        client, registration_opens_at=iso(T0 + timedelta(days=1)), registration_closes_at=iso(T0 + timedelta(days=2))
    )
    assert register(client, event["id"], "early@example.org").get_json()["code"] == "registration_closed"
    clock.advance(timedelta(days=1, hours=1))
    assert register(client, event["id"], "ontime@example.org").status_code == 201
    clock.advance(timedelta(days=1))
    response = register(client, event["id"], "late@example.org")
    assert response.status_code == 409 and response.get_json()["code"] == "registration_closed"


def test_registration_closes_at_the_start_by_default(client, clock):
    event = create_event(client)
    clock.set(T0 + timedelta(days=30, minutes=1))
    assert register(client, event["id"], "late@example.org").get_json()["code"] == "registration_closed"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "a@example.org", "consent": True}, "name"),
        ({"name": "", "email": "a@example.org", "consent": True}, "name"),
        ({"name": "x" * 201, "email": "a@example.org", "consent": True}, "name"),
        ({"name": "Eva\u0007", "email": "a@example.org", "consent": True}, "name"),
        ({"name": "Eva", "email": "kaputt", "consent": True}, "email"),
        ({"name": "Eva", "email": "a" * 250 + "@example.org", "consent": True}, "email"),
        ({"name": "Eva", "email": "a@example.org\r\nBcc: x@example.org", "consent": True}, "email"),
        ({"name": "Eva", "email": "a@example.org", "consent": False}, "consent"),
        ({"name": "Eva", "email": "a@example.org"}, "consent"),
        ({"name": "Eva", "email": "a@example.org", "consent": True, "organization": "o" * 201}, "organization"),
        ({"name": "Eva", "email": "a@example.org", "consent": True, "role": "x\ny"}, "role"),
    ],
)
def test_invalid_registrations_are_422_and_change_nothing(client, body, field):
    event = create_event(client)
    response = client.post(f"/api/v1/events/{event['id']}/registrations", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert registrations(client, event["id"]) == [] and outbox() == []


def test_unknown_token_is_404(client):
    for method in (client.get, client.delete):
        response = method("/api/v1/registrations/not-a-token")
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_admin_list_filters_csv_checkin_and_cancel(client):
    event = create_event(client, capacity=1)
    seat = register(client, event["id"], "seat@example.org", name="Jürgen Groß", organization="=HYPERLINK(1)")
    register(client, event["id"], "wait@example.org")
    registration_id = seat.get_json()["id"]
    checked = client.post(f"/api/v1/admin/registrations/{registration_id}/checkin", headers=ADMIN)
    assert checked.status_code == 200 and checked.get_json()["attended"] is True
    assert [r["email"] for r in registrations(client, event["id"], "confirmed")] == ["seat@example.org"]
    response = client.get(f"/api/v1/admin/events/{event['id']}/registrations?format=csv", headers=ADMIN)
    assert response.mimetype == "text/csv" and response.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["name"] == "Jürgen Groß" and rows[0]["attended"] == "ja"
    assert rows[0]["organization"] == "'=HYPERLINK(1)"  # not a formula in Excel
    assert rows[1]["waitlist_position"] == "1"
    undone = client.delete(f"/api/v1/admin/registrations/{registration_id}/checkin", headers=ADMIN)
    assert undone.get_json()["attended"] is False
    cancelled = client.delete(f"/api/v1/admin/registrations/{registration_id}", headers=ADMIN)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert [r["status"] for r in registrations(client, event["id"])] == ["cancelled", "confirmed"]
    bad = client.get(f"/api/v1/admin/events/{event['id']}/registrations?status=gone", headers=ADMIN)
    assert bad.status_code == 422 and "status" in bad.get_json()["errors"]

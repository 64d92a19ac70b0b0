"""Events through the JSON API: validation, visibility, updates, cancellation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, event_payload, iso, parts, register, registrations


def test_create_returns_event_in_its_time_zone_with_counts(client):
    event = create_event(client)
    assert event["id"] > 0 and event["slug"].startswith("fachveranstaltung-standesamtswesen-")
    assert event["starts_at"] == "2026-12-02T09:00:00+01:00"  # stored UTC, shown in Europe/Berlin
    assert event["timezone"] == "Europe/Berlin"
    assert (event["seats_taken"], event["seats_left"], event["waitlist_length"]) == (0, 2, 0)
    assert event["reminders"] == ["P7D", "P1D"] and event["documentation_delay"] == "PT2H"
    assert event["waitlist"] is True


@pytest.mark.parametrize(
    "override, field",
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "a\nb"}, "title"),
        ({"starts_at": "2026-12-02T09:00:00"}, "starts_at"),  # no offset
        ({"starts_at": "gestern"}, "starts_at"),
        ({"ends_at": "2026-12-02T07:00:00+01:00"}, "ends_at"),  # before start
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": "10"}, "capacity"),
        ({"capacity": 2**40}, "capacity"),
        ({"reminders": ["7 days"]}, "reminders"),
        ({"reminders": ["P1Y"]}, "reminders"),
        ({"documentation_delay": "P9999D"}, "documentation_delay"),
        ({"status": "cancelled"}, "status"),
        ({"organizer_email": "kein-email"}, "organizer_email"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"starts_at": "9999-12-31T23:00:00+00:00"}, "starts_at"),
    ],
)
def test_invalid_event_is_a_422_naming_the_field_and_creates_nothing(client, override, field):
    response = client.post("/api/v1/admin/events", json=event_payload(**override), headers=ADMIN)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "validation_error" and field in body["errors"]
    assert client.get("/api/v1/admin/events", headers=ADMIN).get_json() == []


def test_missing_required_fields_are_each_named(client):
    response = client.post("/api/v1/admin/events", json={}, headers=ADMIN)
    assert response.status_code == 422
    assert {"title", "starts_at", "ends_at", "capacity"} <= set(response.get_json()["errors"])


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
        ("title=x", "application/x-www-form-urlencoded"),
        ("<xml/>", "text/xml"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_4xx_problems(client, body, content_type):
    response = client.post("/api/v1/admin/events", data=body, content_type=content_type, headers=ADMIN)
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json" and response.get_json()["code"]


def test_admin_endpoints_need_a_valid_bearer_token(client):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdA=="}):
        response = client.post("/api/v1/admin/events", json=event_payload(), headers=headers)
        assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"
        assert client.get("/api/v1/admin/events", headers=headers).status_code == 401
    assert client.get("/api/v1/admin/events", headers=ADMIN).get_json() == []


def test_tokens_made_by_the_cli_work_and_are_stored_hashed(app, client):
    result = app.test_cli_runner().invoke(args=["create-token", "Servicestelle"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("evs_")
    assert client.get("/api/v1/admin/events", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    from eventsvc.db import db
    from eventsvc.domain.models import AdminToken

    stored = db.session.query(AdminToken).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_drafts_are_invisible_to_the_public(client):
    draft = create_event(client, status="draft")
    published = create_event(client, title="Öffentlich")
    assert client.get(f"/api/v1/events/{draft['id']}").status_code == 404
    assert [e["id"] for e in client.get("/api/v1/events").get_json()] == [published["id"]]
    assert client.get(f"/api/v1/admin/events/{draft['id']}", headers=ADMIN).status_code == 200
    assert register(client, draft["id"], "a@example.org").status_code == 404


def test_public_list_is_soonest_first_and_leaves_out_ended_events(client, clock):
    later = create_event(
        client, title="Später", starts_at=iso(T0 + timedelta(days=60)), ends_at=iso(T0 + timedelta(days=60, hours=6))
    )
    sooner = create_event(
        client, title="Früher", starts_at=iso(T0 + timedelta(days=3)), ends_at=iso(T0 + timedelta(days=3, hours=6))
    )
    assert [e["id"] for e in client.get("/api/v1/events").get_json()] == [sooner["id"], later["id"]]
    clock.advance(timedelta(days=4))
    assert [e["id"] for e in client.get("/api/v1/events").get_json()] == [later["id"]]


def test_unknown_ids_and_routes_are_404_problems(client):
    for path in ("/api/v1/events/999", "/api/v1/events/99999999999999", "/api/v1/events/abc", "/api/v1/nope"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    response = client.put("/api/v1/events")
    assert response.status_code == 405 and response.get_json()["code"] == "method_not_allowed"


def test_patch_validates_against_the_stored_event(client):
    event = create_event(client)
    response = client.patch(
        f"/api/v1/admin/events/{event['id']}", json={"ends_at": "2020-01-01T00:00:00+00:00"}, headers=ADMIN
    )
    assert response.status_code == 422 and "ends_at" in response.get_json()["errors"]
    assert client.get(f"/api/v1/admin/events/{event['id']}", headers=ADMIN).get_json()["ends_at"] == event["ends_at"]


def test_raising_capacity_promotes_oldest_waitlisted_at_once(client):
    event = create_event(client, capacity=1)
    emails = [f"p{i}@example.org" for i in range(4)]
    for email in emails:
        register(client, event["id"], email)
    response = client.patch(f"/api/v1/admin/events/{event['id']}", json={"capacity": 3}, headers=ADMIN)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["seats_taken"], body["waitlist_length"]) == (3, 1)
    listed = registrations(client, event["id"])
    assert [(r["email"], r["status"], r["waitlist_position"]) for r in listed] == [
        ("p0@example.org", "confirmed", None),
        ("p1@example.org", "confirmed", None),
        ("p2@example.org", "confirmed", None),
        ("p3@example.org", "waitlisted", 1),
    ]


def test_lowering_capacity_below_seats_taken_moves_nobody_until_seats_free(client):
    event = create_event(client, capacity=3)
    tokens = [register(client, event["id"], f"p{i}@example.org").get_json()["token"] for i in range(4)]
    response = client.patch(f"/api/v1/admin/events/{event['id']}", json={"capacity": 1}, headers=ADMIN)
    assert response.get_json()["seats_taken"] == 3 and response.get_json()["seats_left"] == 0
    client.delete(f"/api/v1/registrations/{tokens[0]}")
    assert client.get(f"/api/v1/registrations/{tokens[3]}").get_json()["status"] == "waitlisted"
    client.delete(f"/api/v1/registrations/{tokens[1]}")
    client.delete(f"/api/v1/registrations/{tokens[2]}")
    assert client.get(f"/api/v1/registrations/{tokens[3]}").get_json()["status"] == "confirmed"


def test_cancel_event_tells_everyone_and_closes_registration(mail_app, client, smtp):
    event = create_event(client, capacity=1)
    register(client, event["id"], "seat@example.org")
    register(client, event["id"], "wait@example.org")
    response = client.post(f"/api/v1/admin/events/{event['id']}/cancel", headers=ADMIN)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert client.get(f"/api/v1/events/{event['id']}").status_code == 200
    assert register(client, event["id"], "late@example.org").get_json()["code"] == "registration_closed"
    again = client.post(f"/api/v1/admin/events/{event['id']}/cancel", headers=ADMIN)
    assert again.status_code == 200
    tick(mail_app)
    told = {m["To"].addresses[0].addr_spec: m for m in smtp.messages if m["X-Eventsvc-Kind"] == "event-cancelled"}
    assert sorted(told) == ["seat@example.org", "wait@example.org"]  # once each, though cancelled twice
    assert "text/calendar" in parts(told["seat@example.org"])  # the seat holder's invite is withdrawn
    assert "text/calendar" not in parts(told["wait@example.org"])
    assert "Warteliste entfällt" in parts(told["wait@example.org"])["text/plain"].get_content()
    patch = client.patch(f"/api/v1/admin/events/{event['id']}", json={"title": "x"}, headers=ADMIN)
    assert patch.status_code == 409


def test_moving_a_published_event_queues_updated_invites_for_the_confirmed(client):
    event = create_event(client, capacity=1)
    register(client, event["id"], "seat@example.org")
    register(client, event["id"], "wait@example.org")
    response = client.patch(
        f"/api/v1/admin/events/{event['id']}", json={"location": "Rathaus, Ratssaal"}, headers=ADMIN
    )
    assert response.get_json()["sequence"] == event["sequence"] + 1
    from eventsvc.db import db
    from eventsvc.domain.models import OutboxMessage

    updated = db.session.query(OutboxMessage).filter_by(kind="event-updated").all()
    assert [m.recipient for m in updated] == ["seat@example.org"]
    client.patch(f"/api/v1/admin/events/{event['id']}", json={"title": "Neuer Titel"}, headers=ADMIN)
    assert db.session.query(OutboxMessage).filter_by(kind="event-updated").count() == 1


def test_openapi_document_lists_every_json_endpoint(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/events",
        "/api/v1/events/{event_id}/registrations",
        "/api/v1/admin/events",
        "/api/v1/admin/events/{event_id}/cancel",
        "/api/v1/registrations/{token}",
        "/api/v1/admin/registrations/{registration_id}/checkin",
    ):
        assert path in spec["paths"], path


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_absurd_bodies_are_4xx_problems_not_500s(client):
    for body in ("[" * 100000 + "]" * 100000, '{"title": ' * 50000 + "1" + "}" * 50000, "null", "1e999999"):
        response = client.post("/api/v1/admin/events", data=body, content_type="application/json", headers=ADMIN)
        assert 400 <= response.status_code < 500, body[:20]
        assert response.mimetype == "application/problem+json"
    response = client.delete("/api/v1/events")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]

"""Waitlist offers with a deadline, the cut-off before the day, reconfirmation, and the
organizer's own promotion: through the API, the scheduler's ticks and real email."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar

from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, parts, register, registrations

START = T0 + timedelta(days=30)  # the helpers' events start here


def _status(client, token: str) -> dict:
    return client.get(f"/api/v1/registrations/{token}").get_json()


def _kinds(smtp) -> list[tuple[str, str]]:
    return smtp.kinds()


def test_a_freed_seat_is_offered_held_and_accepted(mail_app, client, smtp, clock):
    event = create_event(client, capacity=1, waitlist_mode="offer", reminders=[])
    first, second, third = (register(client, event["id"], f"p{i}@example.org").get_json() for i in range(3))
    client.delete(f"/api/v1/registrations/{first['token']}")
    offered = _status(client, second["token"])
    assert offered["status"] == "offered" and offered["waitlist_position"] is None
    assert datetime.fromisoformat(offered["offer_expires_at"]) == T0 + timedelta(hours=48)
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    assert (shown["seats_taken"], shown["seats_left"], shown["waitlist_length"]) == (1, 0, 1)  # the offer holds it
    assert register(client, event["id"], "late@example.org").get_json()["status"] == "waitlisted"
    tick(mail_app)
    offer = next(m for m in smtp.messages if m["X-Eventsvc-Kind"] == "offer")
    assert "text/calendar" not in parts(offer)
    assert "Mittwoch, 4. November 2026, 09:00 Uhr" in parts(offer)["text/plain"].get_content()  # T0 + 48 h, Berlin
    accepted = client.post(f"/api/v1/registrations/{second['token']}/accept")
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "confirmed"
    again = client.post(f"/api/v1/registrations/{second['token']}/accept")
    assert again.status_code == 409 and again.get_json()["code"] == "invalid_state"
    tick(mail_app)
    confirmation = next(
        m
        for m in smtp.messages
        if m["X-Eventsvc-Kind"] == "confirmation" and m["To"].addresses[0].addr_spec == "p1@example.org"
    )
    assert Calendar.from_ical(parts(confirmation)["text/calendar"].get_payload(decode=True))["METHOD"] == "REQUEST"
    history = client.get(f"/api/v1/admin/registrations/{second['id']}/history", headers=ADMIN).get_json()
    assert [(h["status"], h["reason"], h["by"]) for h in history] == [
        ("waitlisted", "registered", "participant"),
        ("offered", "offered", "system"),
        ("confirmed", "accepted", "participant"),
    ]
    assert _status(client, third["token"])["waitlist_position"] == 1


def test_declining_offers_the_seat_to_the_next_at_once(client):
    event = create_event(client, capacity=1, waitlist_mode="offer")
    first, second, third = (register(client, event["id"], f"p{i}@example.org").get_json() for i in range(3))
    client.delete(f"/api/v1/registrations/{first['token']}")
    declined = client.post(f"/api/v1/registrations/{second['token']}/decline").get_json()
    assert (declined["status"], declined["cancel_reason"]) == ("cancelled", "declined")
    assert _status(client, third["token"])["status"] == "offered"
    assert client.post(f"/api/v1/registrations/{first['token']}/decline").status_code == 409


def test_offers_expire_within_one_tick_and_pass_on(mail_app, client, smtp, clock):
    event = create_event(client, capacity=1, waitlist_mode="offer", offer_window="PT2H", reminders=[])
    made = [register(client, event["id"], f"p{i}@example.org").get_json() for i in range(8)]
    client.patch(f"/api/v1/admin/events/{event['id']}", json={"capacity": 4}, headers=ADMIN)  # three offers at once
    assert [_status(client, m["token"])["status"] for m in made[:5]] == [
        "confirmed",
        "offered",
        "offered",
        "offered",
        "waitlisted",
    ]
    clock.advance(timedelta(hours=2))
    late = client.post(f"/api/v1/registrations/{made[1]['token']}/accept")
    assert late.status_code == 409 and late.get_json()["code"] == "offer_expired"
    assert tick(mail_app)["offers_expired"] == 3
    assert [
        (_status(client, m["token"])["status"], _status(client, m["token"])["cancel_reason"]) for m in made[1:7]
    ] == [("cancelled", "offer_expired")] * 3 + [("offered", None)] * 3
    assert sum(kind == "offer-expired" for kind, _ in _kinds(smtp)) == 3


def test_after_the_cut_off_a_freed_seat_stays_free_and_the_organizer_is_told(mail_app, client, smtp, clock):
    event = create_event(client, capacity=1, waitlist_mode="offer", promotion_cutoff="P1D", reminders=[])
    first, second = (register(client, event["id"], f"p{i}@example.org").get_json() for i in range(2))
    clock.set(START - timedelta(days=2))
    client.delete(f"/api/v1/registrations/{first['token']}")
    offered = _status(client, second["token"])
    assert datetime.fromisoformat(offered["offer_expires_at"]) == START - timedelta(days=1)  # capped at the cut-off
    client.post(f"/api/v1/registrations/{second['token']}/decline")
    third = register(client, event["id"], "p2@example.org").get_json()  # nobody waits: the free seat is theirs
    assert third["status"] == "confirmed"
    clock.set(START - timedelta(hours=12))  # past the cut-off
    fourth = register(client, event["id"], "p3@example.org").get_json()
    client.delete(f"/api/v1/registrations/{third['token']}")
    assert _status(client, fourth["token"])["status"] == "waitlisted"
    assert client.get(f"/api/v1/events/{event['id']}").get_json()["seats_left"] == 1
    # The free seat belongs to the people waiting: a newcomer queues behind them.
    assert register(client, event["id"], "p4@example.org").get_json()["waitlist_position"] == 2
    tick(mail_app)
    [seat_free] = [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "seat-free"]
    assert seat_free["To"].addresses[0].addr_spec == "fortbildung@kommunen.example"
    assert "Auf der Warteliste: 1" in parts(seat_free)["text/plain"].get_content()
    promoted = client.post(f"/api/v1/admin/registrations/{fourth['id']}/promote", headers=ADMIN)
    assert promoted.status_code == 200 and promoted.get_json()["status"] == "confirmed"


def test_organizers_promote_only_into_a_free_seat_unless_over_capacity(client):
    event = create_event(client, capacity=1)
    register(client, event["id"], "a@example.org")
    waiting = register(client, event["id"], "b@example.org").get_json()
    refused = client.post(f"/api/v1/admin/registrations/{waiting['id']}/promote", headers=ADMIN)
    assert refused.status_code == 409 and refused.get_json()["code"] == "event_full"
    forced = client.post(
        f"/api/v1/admin/registrations/{waiting['id']}/promote", json={"over_capacity": True}, headers=ADMIN
    )
    assert forced.status_code == 200 and forced.get_json()["status"] == "confirmed"
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    assert (shown["seats_taken"], shown["seats_left"]) == (2, 0)
    again = client.post(f"/api/v1/admin/registrations/{waiting['id']}/promote", headers=ADMIN)
    assert again.status_code == 409 and again.get_json()["code"] == "invalid_state"
    history = client.get(f"/api/v1/admin/registrations/{waiting['id']}/history", headers=ADMIN).get_json()
    assert history[-1]["by"] == "organizer" and history[-1]["reason"] == "promoted"


def test_reconfirmation_asks_once_and_releases_who_did_not_answer(mail_app, client, smtp, clock):
    event = create_event(client, capacity=2, reconfirm_before="P7D", reconfirm_window="P3D", reminders=[])
    coming, silent = (register(client, event["id"], f"p{i}@example.org").get_json() for i in range(2))
    waiting = register(client, event["id"], "w@example.org").get_json()
    clock.set(START - timedelta(days=7))
    assert tick(mail_app)["reconfirm_asked"] == 2
    assert tick(mail_app)["reconfirm_asked"] == 0  # once
    asked = sorted(to for kind, to in _kinds(smtp) if kind == "reconfirm")
    assert asked == ["p0@example.org", "p1@example.org"]
    answer = client.post(f"/api/v1/registrations/{coming['token']}/reconfirm")
    assert answer.status_code == 200 and answer.get_json()["reconfirmed_at"] is not None
    clock.advance(timedelta(days=3))
    assert tick(mail_app)["released"] == 1
    assert (_status(client, silent["token"])["status"], _status(client, silent["token"])["cancel_reason"]) == (
        "cancelled",
        "not_reconfirmed",
    )
    assert _status(client, coming["token"])["status"] == "confirmed"
    assert _status(client, waiting["token"])["status"] == "confirmed"  # the seat went on (auto mode)
    [released] = [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "released"]
    assert Calendar.from_ical(parts(released)["text/calendar"].get_payload(decode=True))["METHOD"] == "CANCEL"
    clock.advance(timedelta(days=3))
    assert tick(mail_app)["released"] == 0  # the promoted person was confirmed after the request: never asked


def test_leaving_the_waitlist_or_an_offer_is_confirmed_by_email(mail_app, client, smtp):
    event = create_event(client, capacity=1, waitlist_mode="offer", reminders=[])
    first, second, third = (register(client, event["id"], f"p{i}@example.org").get_json() for i in range(3))
    client.delete(f"/api/v1/registrations/{third['token']}")  # waitlisted
    client.delete(f"/api/v1/registrations/{first['token']}")  # the seat is offered to the second
    client.delete(f"/api/v1/registrations/{second['token']}")  # offered
    tick(mail_app)
    assert sorted(to for kind, to in _kinds(smtp) if kind == "waitlist-left") == ["p1@example.org", "p2@example.org"]
    assert client.get(f"/api/v1/events/{event['id']}").get_json()["seats_left"] == 1


def test_offer_settings_are_checked(client):
    assert create_event(client)["waitlist_mode"] == "auto"
    for fields, field in (
        ({"offer_window": "PT30S"}, "offer_window"),
        ({"waitlist_mode": "lottery"}, "waitlist_mode"),
        ({"reconfirm_before": "P3D", "reconfirm_window": "P3D"}, "reconfirm_window"),
    ):
        body = {
            "title": "x",
            "starts_at": "2027-01-01T09:00:00+01:00",
            "ends_at": "2027-01-01T10:00:00+01:00",
            "capacity": 1,
            **fields,
        }
        response = client.post("/api/v1/admin/events", json=body, headers=ADMIN)
        assert response.status_code == 422 and field in response.get_json()["errors"], fields
    made = create_event(
        client, waitlist_mode="offer", offer_window="PT6H", promotion_cutoff="P2D", reconfirm_before="P5D"
    )
    assert (made["offer_window"], made["promotion_cutoff"], made["reconfirm_before"], made["reconfirm_window"]) == (
        "PT6H",
        "P2D",
        "P5D",
        "P3D",
    )


def test_the_manage_page_accepts_and_declines_with_buttons(client):
    event = create_event(client, capacity=1, waitlist_mode="offer")
    first, second = (register(client, event["id"], f"p{i}@example.org").get_json() for i in range(2))
    client.delete(f"/api/v1/registrations/{first['token']}")
    page = client.get(f"/r/{second['token']}").data.decode()
    assert "Platz annehmen" in page and "Ablehnen" in page and 'method="post"' in page
    assert "wirklich ablehnen" in client.get(f"/r/{second['token']}/decline").data.decode()  # GET changes nothing
    assert registrations(client, event["id"])[1]["status"] == "offered"
    answered = client.post(f"/r/{second['token']}/accept")
    assert answered.status_code == 303
    assert [r["status"] for r in registrations(client, event["id"])] == ["cancelled", "confirmed"]
    assert "Platz bestätigt" in client.get(f"/r/{second['token']}").data.decode()

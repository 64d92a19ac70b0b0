"""Sessions of an event: choices, seats and waitlists per session under the event's lock,
promotion, leaving, substitutes, check-in, the list, the CSV, the sheet, the emails."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

from eventsvc.db import unit_of_work
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.registrations import Applicant
from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, iso, register, registrations

START = T0 + timedelta(days=30)


def sessions(**capacity):
    afternoon = START + timedelta(hours=4)
    return [
        {
            "key": "standesamt",
            "title": "AG Standesamt",
            "starts_at": iso(afternoon),
            "ends_at": iso(afternoon + timedelta(hours=2)),
            "capacity": capacity.get("standesamt", 1),
            "location": "Raum 1",
        },
        {
            "key": "bauhof",
            "title": "AG Bauhof",
            "starts_at": iso(afternoon),
            "ends_at": iso(afternoon + timedelta(hours=2)),
            "capacity": capacity.get("bauhof", 5),
            "location": "Raum 2",
        },
        {
            "key": "it",
            "title": "Forum IT",
            "starts_at": iso(afternoon + timedelta(hours=2)),
            "ends_at": iso(afternoon + timedelta(hours=3)),
            "capacity": capacity.get("it", 5),
            "location": None,
        },
    ]


def choices(response) -> dict:
    return {c["key"]: (c["status"], c["waitlist_position"]) for c in response.get_json()["sessions"]}


def test_sessions_on_the_event_and_their_rules(client):
    event = create_event(client, sessions=sessions())
    assert [(s["key"], s["seats_taken"], s["waitlist_length"]) for s in event["sessions"]] == [
        ("standesamt", 0, 0),
        ("bauhof", 0, 0),
        ("it", 0, 0),
    ]
    outside = sessions()
    outside[0]["ends_at"] = iso(START + timedelta(days=1))
    refused = client.post("/api/v1/admin/events", json={**event_payload(), "sessions": outside}, headers=ADMIN)
    assert refused.status_code == 422 and "sessions.0" in refused.get_json()["errors"]
    twice = [*sessions(), sessions()[0]]
    assert (
        client.post("/api/v1/admin/events", json={**event_payload(), "sessions": twice}, headers=ADMIN).status_code
        == 422
    )


def event_payload():
    from tests.helpers import event_payload as payload

    return payload()


def test_choosing_overlaps_unknown_keys_and_seats_with_waitlists(client):
    event = create_event(client, capacity=3, sessions=sessions(standesamt=1))
    overlap = register(client, event["id"], "x@example.org", sessions=["standesamt", "bauhof"])
    assert overlap.status_code == 422 and "sessions" in overlap.get_json()["errors"]
    unknown = register(client, event["id"], "x@example.org", sessions=["nope"])
    assert unknown.status_code == 422 and "sessions" in unknown.get_json()["errors"]
    assert registrations(client, event["id"]) == []  # nothing stored
    first = register(client, event["id"], "a@example.org", sessions=["standesamt", "it"])
    second = register(client, event["id"], "b@example.org", sessions=["standesamt"])
    assert choices(first) == {"standesamt": ("confirmed", None), "it": ("confirmed", None)}
    assert choices(second) == {"standesamt": ("waitlisted", 1)}
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    assert [(s["key"], s["seats_taken"], s["waitlist_length"]) for s in shown["sessions"]] == [
        ("standesamt", 1, 1),
        ("bauhof", 0, 0),
        ("it", 1, 0),
    ]
    # Leaving a session passes its seat on at once, with a session-promoted email.
    changed = client.put(f"/api/v1/registrations/{first.get_json()['token']}/sessions", json={"sessions": ["it"]})
    assert changed.status_code == 200 and choices(changed) == {"it": ("confirmed", None)}
    own = client.get(f"/api/v1/registrations/{second.get_json()['token']}")
    assert choices(own) == {"standesamt": ("confirmed", None)}
    history = client.get(f"/api/v1/admin/registrations/{first.get_json()['id']}/history", headers=ADMIN).get_json()
    assert history[-1]["reason"] == "sessions_changed" and history[-1]["by"] == "participant"
    bad = client.put(
        f"/api/v1/registrations/{first.get_json()['token']}/sessions", json={"sessions": ["bauhof", "standesamt"]}
    )
    assert bad.status_code == 422


def test_a_person_waiting_for_the_event_keeps_choices_and_takes_seats_on_promotion(mail_app, smtp):
    client = mail_app.test_client()
    event = create_event(client, capacity=1, sessions=sessions(standesamt=1))
    holder = register(client, event["id"], "a@example.org", sessions=["bauhof"]).get_json()
    waiting = register(client, event["id"], "b@example.org", sessions=["standesamt", "it"])
    assert waiting.get_json()["status"] == "waitlisted"
    assert choices(waiting) == {"standesamt": ("waitlisted", None), "it": ("waitlisted", None)}
    client.delete(f"/api/v1/registrations/{holder['token']}")  # b moves up, takes both seats
    own = client.get(f"/api/v1/registrations/{waiting.get_json()['token']}")
    assert own.get_json()["status"] == "confirmed"
    assert choices(own) == {"standesamt": ("confirmed", None), "it": ("confirmed", None)}
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    assert {s["key"]: s["seats_taken"] for s in shown["sessions"]} == {"standesamt": 1, "bauhof": 0, "it": 1}
    tick(mail_app)
    promoted = next(m for m in smtp.messages if m["X-Eventsvc-Kind"] == "promoted")
    text = promoted.get_body(("plain",)).get_content()
    assert "AG Standesamt" in text and "Raum 1" in text and "Forum IT" in text
    assert not [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "session-promoted"]  # told in one email
    calendar = next(p for p in promoted.walk() if p.get_content_type() == "text/calendar").get_content()
    assert "AG Standesamt" in calendar.replace("\r\n ", "")


def test_session_promoted_email_and_a_substitute_takes_the_sessions(mail_app, smtp):
    client = mail_app.test_client()
    event = create_event(client, capacity=5, sessions=sessions(standesamt=1))
    first = register(client, event["id"], "a@example.org", sessions=["standesamt"]).get_json()
    second = register(client, event["id"], "b@example.org", sessions=["standesamt"]).get_json()
    substitute = {"name": "Sam Substitut", "email": "s@example.org", "consent": True}
    moved = client.post(f"/api/v1/registrations/{first['token']}/transfer", json=substitute)
    assert moved.status_code == 201 and choices(moved) == {"standesamt": ("confirmed", None)}
    assert choices(client.get(f"/api/v1/registrations/{second['token']}")) == {"standesamt": ("waitlisted", 1)}
    client.delete(f"/api/v1/registrations/{moved.get_json()['token']}")
    assert choices(client.get(f"/api/v1/registrations/{second['token']}")) == {"standesamt": ("confirmed", None)}
    tick(mail_app)
    [told] = [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "session-promoted"]
    assert told["To"].addresses[0].addr_spec == "b@example.org"
    assert "AG Standesamt" in told.get_body(("plain",)).get_content()
    assert told.get_body(("html",)) is not None
    # A larger session's capacity works like the event's.
    third = register(client, event["id"], "c@example.org", sessions=["standesamt"]).get_json()
    assert choices(client.get(f"/api/v1/registrations/{third['token']}")) == {"standesamt": ("waitlisted", 1)}
    client.patch(f"/api/v1/admin/events/{event['id']}", json={"sessions": sessions(standesamt=2)}, headers=ADMIN)
    assert choices(client.get(f"/api/v1/registrations/{third['token']}")) == {"standesamt": ("confirmed", None)}
    dropped = client.patch(f"/api/v1/admin/events/{event['id']}", json={"sessions": sessions()[1:]}, headers=ADMIN)
    assert dropped.status_code == 422  # people chose it


def test_the_list_csv_checkin_sheet_report_and_certificate_per_session(client, clock):
    event = create_event(
        client,
        capacity=5,
        sessions=sessions(standesamt=1),
        certificate={"hours": 6, "signer": "Dr. Beispiel", "topics": []},
    )
    a = register(client, event["id"], "a@example.org", name="Anna Amsel", sessions=["standesamt"]).get_json()
    register(client, event["id"], "b@example.org", name="Bert Brot", sessions=["standesamt", "it"])
    register(client, event["id"], "c@example.org", name="Cora Cello")
    listed = client.get(f"/api/v1/admin/events/{event['id']}/registrations?session=standesamt", headers=ADMIN)
    assert [row["email"] for row in listed.get_json()] == ["a@example.org", "b@example.org"]
    assert (
        client.get(f"/api/v1/admin/events/{event['id']}/registrations?session=nope", headers=ADMIN).status_code == 422
    )
    text = client.get(f"/api/v1/admin/events/{event['id']}/registrations?format=csv", headers=ADMIN).data.decode()
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert [(r["session.standesamt"], r["session.it"]) for r in rows] == [
        ("confirmed", ""),
        ("waitlisted", "confirmed"),
        ("", ""),
    ]
    checked = client.post(
        f"/api/v1/admin/registrations/{a['id']}/checkin", json={"session": "standesamt"}, headers=ADMIN
    )
    assert checked.status_code == 200 and checked.get_json()["attended"] is True
    no_seat = client.post(f"/api/v1/admin/registrations/{a['id']}/checkin", json={"session": "it"}, headers=ADMIN)
    assert no_seat.status_code == 422
    sheet = client.get(f"/api/v1/admin/events/{event['id']}/attendance-sheet.pdf?session=standesamt", headers=ADMIN)
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    from pypdf import PdfReader

    sheet_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(sheet.data)).pages)
    assert "Amsel" in sheet_text and "Brot" not in sheet_text and "AG Standesamt" in sheet_text
    figures = client.get(f"/api/v1/admin/events/{event['id']}/report", headers=ADMIN).get_json()
    assert figures["sessions"] == [
        {"key": "standesamt", "confirmed": 1, "attended": 1},
        {"key": "bauhof", "confirmed": 0, "attended": 0},
        {"key": "it", "confirmed": 1, "attended": 0},
    ]
    clock.set(START + timedelta(hours=8))
    certificate = client.get(f"/api/v1/registrations/{a['token']}/certificate.pdf")
    assert certificate.status_code == 200
    certificate_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(certificate.data)).pages)
    assert "AG Standesamt" in certificate_text and "Forum IT" not in certificate_text


def test_a_rush_on_one_session_never_overfills_it(app):
    client = app.test_client()
    event = create_event(client, capacity=50, sessions=sessions(standesamt=3))
    barrier = threading.Barrier(8)

    def one(n: int) -> None:
        barrier.wait()
        with app.app_context(), unit_of_work() as session:
            registration_service.register(
                session, event["id"], Applicant(name=f"P{n}", email=f"p{n}@example.org", sessions=("standesamt",)), T0
            )

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    standesamt = next(s for s in shown["sessions"] if s["key"] == "standesamt")
    assert (standesamt["seats_taken"], standesamt["waitlist_length"]) == (3, 5)


def test_the_form_and_the_manage_page_choose_and_change_sessions(client):
    event = create_event(client, capacity=5, sessions=sessions(standesamt=1))
    page = client.get(f"/events/{event['id']}").data.decode()
    assert 'name="sessions" value="standesamt"' in page and "Raum 1" in page and "1 Platz frei" in page
    form = {"name": "Ada", "email": "ada@example.org", "consent": "y", "sessions": ["standesamt", "bauhof"]}
    refused = client.post(f"/events/{event['id']}", data=form)
    assert refused.status_code == 422 and 'id="sessions-error"' in refused.data.decode()
    form["sessions"] = ["standesamt", "it"]
    made = client.post(f"/events/{event['id']}", data=form)
    assert made.status_code == 303
    token = made.headers["Location"].split("/r/")[1].split("?")[0]
    manage = client.get(f"/r/{token}").data.decode()
    assert "AG Standesamt" in manage and f"/r/{token}/sessions" in manage
    # Giving up a held seat asks once more; nothing changes until it is confirmed.
    asked = client.post(f"/r/{token}/sessions", data={"sessions": ["it"]})
    assert (
        asked.status_code == 200
        and "AG Standesamt" in asked.data.decode()
        and 'name="confirmed"' in asked.data.decode()
    )
    assert choices(client.get(f"/api/v1/registrations/{token}"))["standesamt"] == ("confirmed", None)
    done = client.post(f"/r/{token}/sessions", data={"sessions": ["it"], "confirmed": "1"})
    assert done.status_code == 303
    assert choices(client.get(f"/api/v1/registrations/{token}")) == {"it": ("confirmed", None)}
    assert "standesamt" not in choices(client.get(f"/api/v1/registrations/{token}"))


def test_in_offer_mode_the_choices_queue_only_once_the_offer_is_accepted(client):
    event = create_event(client, capacity=1, waitlist_mode="offer", sessions=sessions(standesamt=1))
    holder = register(client, event["id"], "a@example.org").get_json()
    seated = register(client, event["id"], "b@example.org")
    waiting = register(client, event["id"], "c@example.org", sessions=["standesamt"]).get_json()
    assert seated.get_json()["status"] == "waitlisted"
    client.delete(f"/api/v1/registrations/{holder['token']}")  # b is offered the seat
    b = seated.get_json()
    client.post(f"/api/v1/registrations/{b['token']}/decline")  # c is offered it
    offered = client.get(f"/api/v1/registrations/{waiting['token']}").get_json()
    assert offered["status"] == "offered"
    assert choices(client.get(f"/api/v1/registrations/{waiting['token']}")) == {"standesamt": ("waitlisted", None)}
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    assert [(s["seats_taken"], s["waitlist_length"]) for s in shown["sessions"] if s["key"] == "standesamt"] == [(0, 0)]
    client.post(f"/api/v1/registrations/{waiting['token']}/accept")
    assert choices(client.get(f"/api/v1/registrations/{waiting['token']}")) == {"standesamt": ("confirmed", None)}

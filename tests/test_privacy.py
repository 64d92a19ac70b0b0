"""A person's data and its erasure, checked through the API, the pages and the database."""

from __future__ import annotations

from eventsvc.db import db
from eventsvc.domain.models import OutboxMessage
from eventsvc.scheduler.jobs import tick
from tests.helpers import ADMIN, create_event, register, registrations

QUESTIONS = [{"key": "diet", "label": "Ernährung", "type": "text", "sensitive": True}]


def test_a_person_sees_everything_held_about_them(mail_app, client, smtp):
    event = create_event(client, questions=QUESTIONS, reminders=[])
    made = register(
        client, event["id"], "Erika@example.org", answers={"diet": "vegan"}, sensitive_consent=True
    ).get_json()
    tick(mail_app)
    held = client.get("/api/v1/admin/people?email=erika@example.org", headers=ADMIN).get_json()
    [registration] = held["registrations"]
    assert registration["event"]["id"] == event["id"] and registration["answers"] == {"diet": "vegan"}
    assert registration["consented_at"] and registration["sensitive_consent_at"]
    assert [entry["reason"] for entry in registration["history"]] == ["registered"]
    assert [(email["kind"], email["status"]) for email in held["emails"]] == [("confirmation", "sent")]
    own = client.get(f"/api/v1/registrations/{made['token']}/data").get_json()
    assert own["registrations"] == held["registrations"] and own["emails"] == held["emails"]
    assert "Meine Daten herunterladen" in client.get(f"/r/{made['token']}").data.decode()
    assert client.get("/api/v1/admin/people?email=erika@example.org").status_code == 401


def test_erasure_cancels_passes_seats_on_and_leaves_nothing_findable(mail_app, client, smtp):
    full = create_event(client, capacity=1, reminders=[])
    other = create_event(client, capacity=1, reminders=[])
    seat = register(client, full["id"], "gone@example.org", name="Gerda Gone").get_json()
    behind = register(client, full["id"], "next@example.org").get_json()
    register(client, other["id"], "someone@example.org")
    waiting = register(client, other["id"], "gone@example.org", name="Gerda Gone").get_json()
    tick(mail_app)
    sent_before = len(smtp.raw())
    client.patch(f"/api/v1/admin/events/{full['id']}", json={"location": "Rathaus"}, headers=ADMIN)  # queues email
    erased = client.delete("/api/v1/admin/people?email=gone@example.org", headers=ADMIN)
    assert erased.status_code == 200 and erased.get_json() == {"registrations": 2, "emails": 1}
    assert client.get("/api/v1/admin/people?email=gone@example.org", headers=ADMIN).get_json()["registrations"] == []
    for token in (seat["token"], waiting["token"]):
        assert client.get(f"/api/v1/registrations/{token}").status_code == 404
        assert client.get(f"/r/{token}").status_code == 404
    assert client.get(f"/api/v1/registrations/{behind['token']}").get_json()["status"] == "confirmed"  # seat went on
    listed = registrations(client, full["id"])[0]
    assert listed["anonymised"] is True and listed["name"] is None and listed["email"] is None
    assert (listed["status"], listed["cancel_reason"]) == ("cancelled", "erased")
    tick(mail_app)
    new = [m["To"].addresses[0].addr_spec for m in smtp.messages[sent_before:]]
    assert "gone@example.org" not in new and "next@example.org" in new
    db.session.expire_all()
    stored = " ".join(f"{m.recipient} {m.params}" for m in db.session.query(OutboxMessage))
    assert "gone@example.org" not in stored and "Gerda" not in stored
    history = client.get(f"/api/v1/admin/registrations/{seat['id']}/history", headers=ADMIN).get_json()
    assert [(h["status"], h["reason"]) for h in history] == [("confirmed", "registered"), ("cancelled", "erased")]
    log = client.get("/api/v1/admin/erasures", headers=ADMIN).get_json()
    assert sorted((entry["event_id"], entry["registrations"], entry["reason"]) for entry in log) == [
        (full["id"], 1, "request"),
        (other["id"], 1, "request"),
    ]
    assert "gone" not in str(log) and "Gerda" not in str(log)

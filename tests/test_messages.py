"""Messages from the organizer, through the API, the outbox and a real SMTP server."""

from __future__ import annotations

from collections import Counter

from eventsvc.scheduler.jobs import tick
from tests.helpers import ADMIN, create_event, parts, register
from tests.test_documents import links_in, path_of, upload

BODY = "der Raum hat sich geändert: Wir treffen uns in Saal 3.\n\nBitte bringen Sie Ihren Dienstausweis mit.\nDanke!"


def _people(client):
    """One of each: attended, absent (English), offered, waitlisted, and one who cancelled."""
    event = create_event(client, capacity=3, waitlist_mode="offer", reminders=[])
    attended = register(client, event["id"], "attended@example.org", name="Anna Amsel").get_json()
    absent = register(client, event["id"], "absent@example.org", name="Bob Brown", language="en").get_json()
    gone = register(client, event["id"], "gone@example.org").get_json()
    offered = register(client, event["id"], "offered@example.org").get_json()
    waiting = register(client, event["id"], "waiting@example.org").get_json()
    client.delete(f"/api/v1/registrations/{gone['token']}")
    client.post(f"/api/v1/admin/registrations/{attended['id']}/checkin", headers=ADMIN)
    assert client.get(f"/api/v1/registrations/{offered['token']}").get_json()["status"] == "offered"
    return event, {"attended": attended, "absent": absent, "offered": offered, "waiting": waiting}


def _message(**overrides) -> dict:
    return {"subject": "Raumänderung", "body": BODY, "audience": ["confirmed"], **overrides}


def _sent(smtp, kind="message"):
    return {m["To"].addresses[0].addr_spec: m for m in smtp.messages if m["X-Eventsvc-Kind"] == kind}


def test_each_audience_is_who_it_says(client):
    event, _ = _people(client)
    expected = {
        ("attended",): 1,
        ("absent",): 1,
        ("confirmed",): 2,
        ("offered",): 1,
        ("waitlisted",): 1,
        ("confirmed", "waitlisted", "offered"): 4,
    }
    before = client.get("/api/v1/admin/outbox?limit=1000", headers=ADMIN).get_json()
    for audience, count in expected.items():
        preview = client.post(
            f"/api/v1/admin/events/{event['id']}/messages/preview",
            json=_message(audience=list(audience)),
            headers=ADMIN,
        )
        assert preview.status_code == 200 and preview.get_json()["recipients"] == count, audience
    assert client.get("/api/v1/admin/outbox?limit=1000", headers=ADMIN).get_json() == before  # nothing sent
    assert client.get(f"/api/v1/admin/events/{event['id']}/messages", headers=ADMIN).get_json() == []


def test_a_message_reaches_each_person_once_in_their_language_with_their_own_links(mail_app, client, smtp):
    event, _ = _people(client)
    assert upload(client, event["id"]).status_code == 201
    document = client.get(f"/api/v1/admin/events/{event['id']}/documents", headers=ADMIN).get_json()[0]
    preview = client.post(
        f"/api/v1/admin/events/{event['id']}/messages/preview",
        json=_message(documents=[document["id"]]),
        headers=ADMIN,
    ).get_json()
    assert preview["subject"] == "Raumänderung" and preview["text"].startswith("Guten Tag Anna Amsel,")
    assert (
        "Saal 3." in preview["text"] and "<p" in preview["html"] and "Dienstausweis mit.<br>Danke!" in preview["html"]
    )

    queued = client.post(
        f"/api/v1/admin/events/{event['id']}/messages",
        json=_message(audience=["confirmed", "waitlisted"], documents=[document["id"]]),
        headers=ADMIN,
    )
    assert queued.status_code == 202 and queued.get_json()["recipients"] == 3
    tick(mail_app)
    tick(mail_app)
    sent = _sent(smtp)
    assert sorted(sent) == ["absent@example.org", "attended@example.org", "waiting@example.org"]
    german, english = sent["attended@example.org"], sent["absent@example.org"]
    assert german["Subject"] == "Raumänderung" and german["Auto-Submitted"] == "auto-generated"
    assert german["Reply-To"].addresses[0].addr_spec == "fortbildung@kommunen.example"
    text = parts(german)["text/plain"].get_content()
    assert text.startswith("Guten Tag Anna Amsel,") and "Saal 3." in text
    assert parts(english)["text/plain"].get_content().startswith("Dear Bob Brown,")
    html = parts(german)["text/html"].get_content()
    assert '<p style="margin:0 0 12px 0;">der Raum hat sich geändert: Wir treffen uns in Saal 3.</p>' in html
    links = {address: [u for u in links_in(m) if "/d/" in u] for address, m in sent.items()}
    assert len({link for found in links.values() for link in found}) == 3  # personal links
    assert all(client.get(path_of(found[0])).status_code == 200 for found in links.values())
    assert len({m["Message-ID"] for m in smtp.messages}) == len(smtp.messages)
    log = client.get(f"/api/v1/admin/events/{event['id']}/messages", headers=ADMIN).get_json()
    assert [(e["subject"], e["recipients"], e["sent"], e["failed"], e["queued"]) for e in log] == [
        ("Raumänderung", 3, 3, 0, 0)
    ]
    count = len(smtp.messages)
    tick(mail_app)
    assert len(smtp.messages) == count  # never twice


def test_a_test_copy_goes_only_to_the_test_address(mail_app, client, smtp):
    event, _ = _people(client)
    queued = client.post(
        f"/api/v1/admin/events/{event['id']}/messages", json=_message(test_to="orga@kommunen.example"), headers=ADMIN
    )
    assert queued.status_code == 202 and queued.get_json()["recipients"] == 1
    tick(mail_app)
    [copy] = _sent(smtp).values()
    assert copy["To"].addresses[0].addr_spec == "orga@kommunen.example"
    assert copy["Subject"] == "[Test] Raumänderung"
    assert "Testkopie" in parts(copy)["text/plain"].get_content()
    log = client.get(f"/api/v1/admin/events/{event['id']}/messages", headers=ADMIN).get_json()
    assert log[0]["test_to"] == "orga@kommunen.example" and log[0]["sent"] == 1
    empty = create_event(client)
    nobody = client.post(
        f"/api/v1/admin/events/{empty['id']}/messages", json=_message(test_to="orga@kommunen.example"), headers=ADMIN
    )
    assert nobody.status_code == 409


def test_failed_and_skipped_are_counted(mail_app, client, smtp):
    event, people = _people(client)
    client.post(f"/api/v1/admin/events/{event['id']}/messages", json=_message(), headers=ADMIN)
    client.delete(f"/api/v1/registrations/{people['absent']['token']}")  # cancels before it goes
    smtp.recorder.mode = "permanent"
    tick(mail_app)
    [entry] = client.get(f"/api/v1/admin/events/{event['id']}/messages", headers=ADMIN).get_json()
    # The confirmation's 5xx went first and marked the address: the message is not tried.
    assert (entry["recipients"], entry["sent"], entry["failed"], entry["skipped"], entry["suppressed"]) == (
        2,
        0,
        0,
        1,
        1,
    )


def test_bad_messages_are_refused_and_change_nothing(client):
    event, _ = _people(client)
    other = create_event(client)
    assert upload(client, other["id"]).status_code == 201
    foreign = client.get(f"/api/v1/admin/events/{other['id']}/documents", headers=ADMIN).get_json()[0]["id"]
    cases = {
        "subject": _message(subject="Hallo\r\nBcc: evil@example.org"),
        "body": _message(body="Klingel\x07"),
        "audience": _message(audience=[]),
        "audience.0": _message(audience=["everyone"]),
        "documents": _message(documents=[foreign]),
        "test_to": _message(test_to="not an address"),
    }
    for field, body in cases.items():
        response = client.post(f"/api/v1/admin/events/{event['id']}/messages", json=body, headers=ADMIN)
        assert response.status_code == 422, field
        errors = response.get_json()["errors"]
        assert field.split(".")[0] in errors, (field, errors)
    long = client.post(f"/api/v1/admin/events/{event['id']}/messages", json=_message(body="x" * 20001), headers=ADMIN)
    assert long.status_code == 422
    assert client.post("/api/v1/admin/events/999/messages", json=_message(), headers=ADMIN).status_code == 404
    assert client.post(f"/api/v1/admin/events/{event['id']}/messages", json=_message()).status_code == 401
    assert client.get(f"/api/v1/admin/events/{event['id']}/messages", headers=ADMIN).get_json() == []
    kinds = Counter(m["kind"] for m in client.get("/api/v1/admin/outbox?limit=1000", headers=ADMIN).get_json())
    assert kinds["message"] == 0

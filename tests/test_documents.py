"""Documentation after the event: real uploads, delivery through SMTP, downloads via the emailed links."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import unquote

from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, parts, register

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a1c6f1a40000000049454e44ae426082"
)
EVENT_END = T0 + timedelta(days=30, hours=7)


def upload(client, event_id, content=PDF, filename="Protokoll Übersicht.pdf", title="Protokoll"):
    data = {"title": title, "file": (io.BytesIO(content), filename)}
    return client.post(
        f"/api/v1/admin/events/{event_id}/documents", data=data, headers=ADMIN, content_type="multipart/form-data"
    )


def links_in(message) -> list[str]:
    return re.findall(
        r"https://events\.example\.org/d/[\w-]+|https://docs\.example\.org/\S+",
        parts(message)["text/plain"].get_content(),
    )


def path_of(url: str) -> str:
    return url.replace("https://events.example.org", "")


def documentation_emails(smtp):
    return [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "documentation"]


def test_delivery_after_the_event_with_personal_links(mail_app, client, smtp, clock):
    event = create_event(client, capacity=2)
    alice = register(client, event["id"], "alice@example.org", name="Alice").get_json()
    register(client, event["id"], "bob@example.org", name="Bob")
    register(client, event["id"], "wait@example.org")
    gone = register(client, event["id"], "gone@example.org").get_json()
    client.delete(f"/api/v1/registrations/{gone['token']}")
    assert upload(client, event["id"]).status_code == 201
    link = client.post(
        f"/api/v1/admin/events/{event['id']}/documents",
        headers=ADMIN,
        json={"title": "Folien", "url": "https://docs.example.org/folien.pdf"},
    )
    assert link.status_code == 201 and link.get_json()["kind"] == "link"
    clock.set(EVENT_END + timedelta(hours=1, minutes=59))
    tick(mail_app)
    assert documentation_emails(smtp) == []  # documentation_delay is PT2H
    clock.set(EVENT_END + timedelta(hours=2))
    tick(mail_app)
    tick(mail_app)
    sent = documentation_emails(smtp)
    assert sorted(m["To"].addresses[0].addr_spec for m in sent) == ["alice@example.org", "bob@example.org"]
    alice_links = links_in(next(m for m in sent if m["To"].addresses[0].addr_spec == "alice@example.org"))
    bob_links = links_in(next(m for m in sent if m["To"].addresses[0].addr_spec == "bob@example.org"))
    assert "https://docs.example.org/folien.pdf" in alice_links
    [alice_file] = [u for u in alice_links if "/d/" in u]
    [bob_file] = [u for u in bob_links if "/d/" in u]
    assert alice_file != bob_file
    response = client.get(path_of(alice_file))
    assert response.status_code == 200 and response.data == PDF and response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "Protokoll" in unquote(disposition)
    assert "Übersicht.pdf" in unquote(disposition.split("filename*=UTF-8''")[1])
    client.get(path_of(bob_file))
    client.get(path_of(bob_file))
    listed = client.get(f"/api/v1/admin/events/{event['id']}/documents", headers=ADMIN).get_json()
    stats = {d["title"]: (d["recipients"], d["downloads"]) for d in listed}
    assert stats == {"Protokoll": (2, 3), "Folien": (2, 0)}
    assert client.get("/d/not-a-token").status_code == 404
    # Cancelled people lose their links (after the event only an organizer can cancel).
    client.delete(f"/api/v1/admin/registrations/{alice['id']}", headers=ADMIN)
    assert client.get(path_of(alice_file)).status_code == 404


def test_nothing_twice_and_later_documents_only_through_send(mail_app, client, smtp, clock):
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    upload(client, event["id"], title="Erstes")
    clock.set(EVENT_END + timedelta(hours=3))
    tick(mail_app)
    assert len(documentation_emails(smtp)) == 1
    upload(client, event["id"], content=PNG, filename="foto.png", title="Foto")
    tick(mail_app)
    assert len(documentation_emails(smtp)) == 1  # added later: waits for send
    first = client.post(f"/api/v1/admin/events/{event['id']}/documents/send", headers=ADMIN)
    assert first.status_code == 202 and first.get_json() == {"emails_queued": 1, "documents_delivered": 1}
    again = client.post(f"/api/v1/admin/events/{event['id']}/documents/send", headers=ADMIN)
    assert again.get_json() == {"emails_queued": 0, "documents_delivered": 0}
    tick(mail_app)
    tick(mail_app)
    sent = documentation_emails(smtp)
    assert len(sent) == 2
    second_text = parts(sent[1])["text/plain"].get_content()
    assert "Foto" in second_text and "Erstes" not in second_text


def test_no_documents_no_email_and_the_first_document_goes_out(mail_app, client, smtp, clock):
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    clock.set(EVENT_END + timedelta(hours=3))
    tick(mail_app)
    assert documentation_emails(smtp) == []
    upload(client, event["id"])
    tick(mail_app)
    assert len(documentation_emails(smtp)) == 1


def test_attended_only_mode_and_attendance_csv(mail_app, client, smtp, clock):
    event = create_event(client, documentation_recipients="attended")
    came = register(client, event["id"], "came@example.org").get_json()
    register(client, event["id"], "absent@example.org")
    client.post(f"/api/v1/admin/registrations/{came['id']}/checkin", headers=ADMIN)
    csv_text = client.get(f"/api/v1/admin/events/{event['id']}/attendance", headers=ADMIN).data.decode("utf-8-sig")
    assert "came@example.org" in csv_text and ";ja;" in csv_text and ";nein;" in csv_text
    upload(client, event["id"])
    clock.set(EVENT_END + timedelta(hours=3))
    tick(mail_app)
    assert [m["To"].addresses[0].addr_spec for m in documentation_emails(smtp)] == ["came@example.org"]


def test_bad_uploads_are_refused(app, client):
    event = create_event(client)
    fake = upload(client, event["id"], content=b"#!/bin/sh\nrm -rf /\n", filename="harmlos.pdf")
    assert fake.status_code == 422 and "file" in fake.get_json()["errors"]
    no_title = client.post(
        f"/api/v1/admin/events/{event['id']}/documents",
        headers=ADMIN,
        data={"file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert no_title.status_code == 422 and "title" in no_title.get_json()["errors"]
    bad_link = client.post(
        f"/api/v1/admin/events/{event['id']}/documents",
        headers=ADMIN,
        json={"title": "x", "url": "javascript:alert(1)"},
    )
    assert bad_link.status_code == 422 and "url" in bad_link.get_json()["errors"]
    app.config["UPLOAD_MAX_BYTES"] = 50
    app.config["MAX_CONTENT_LENGTH"] = 50 + 64 * 1024
    too_big = upload(client, event["id"], content=PDF + b"0" * 100)
    assert too_big.status_code == 413 and too_big.get_json()["code"] == "payload_too_large"
    huge = upload(client, event["id"], content=PDF + b"0" * 200_000)
    assert huge.status_code == 413
    assert client.get(f"/api/v1/admin/events/{event['id']}/documents", headers=ADMIN).get_json() == []
    assert upload(client, 999).status_code == 404


def test_deleted_documents_stop_downloading(mail_app, client, smtp, clock):
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    document = upload(client, event["id"]).get_json()
    clock.set(EVENT_END + timedelta(hours=3))
    tick(mail_app)
    [url] = [u for u in links_in(documentation_emails(smtp)[0]) if "/d/" in u]
    assert client.get(path_of(url)).status_code == 200
    assert client.delete(f"/api/v1/admin/documents/{document['id']}", headers=ADMIN).status_code == 200
    assert client.get(path_of(url)).status_code == 404


def test_a_restarted_service_sends_nothing_again(mail_app, app_config, client, smtp, clock):
    from eventsvc import create_app

    event = create_event(client)
    register(client, event["id"], "a@example.org")
    upload(client, event["id"])
    clock.set(EVENT_END + timedelta(hours=3))
    tick(mail_app)
    assert len(documentation_emails(smtp)) == 1
    restarted = create_app(app_config | {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port})
    tick(restarted)
    with restarted.test_client() as again:
        assert again.post(f"/api/v1/admin/events/{event['id']}/documents/send", headers=ADMIN).get_json() == {
            "emails_queued": 0,
            "documents_delivered": 0,
        }
    tick(restarted)
    assert len(documentation_emails(smtp)) == 1

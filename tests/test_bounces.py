"""Bounces: VERP envelope senders, `eventsvc bounce` on real DSNs, permanent SMTP refusals,
suppression, the effect on offers, and the organizer's daily report."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, register, registrations


def dsn(to: str, status: str = "5.1.1", message_id: str | None = None, recipient: str = "gone@example.org") -> bytes:
    """A delivery status notification as Postfix writes one (RFC 3464)."""
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mx.example.org (Mail Delivery System)"
    report["To"] = to
    report["Delivered-To"] = to
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.set_content("This is the mail system at host mx.example.org.\n\nI'm sorry to have to inform you ...\n")
    report.make_mixed()
    report.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; boundary="b1"')
    status_part = EmailMessage()
    status_part.set_payload(
        "Reporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822;{recipient}\n"
        f"Action: {'failed' if status.startswith('5') else 'delayed'}\nStatus: {status}\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown\n"
    )
    raw = report.as_bytes().decode()
    headers = f"Message-ID: {message_id}\nSubject: Anmeldung\n" if message_id else "Subject: Anmeldung\n"
    return (
        raw.split("--b1")[0]
        + "--b1\nContent-Type: text/plain\n\nThe mail system\n\n<gone@example.org>: host said: 550 5.1.1 User unknown\n"
        + "--b1\nContent-Type: message/delivery-status\n\n"
        + status_part.get_payload()
        + "\n--b1\nContent-Type: text/rfc822-headers\n\n"
        + headers
        + "\n--b1--\n"
    ).encode()


def bounce_cli(app, data: bytes):
    return app.test_cli_runner().invoke(args=["bounce"], input=data)


def outbox_rows(client, **query):
    response = client.get("/api/v1/admin/outbox", query_string=query, headers=ADMIN)
    assert response.status_code == 200
    return response.get_json()


def test_every_email_goes_out_with_its_own_verp_envelope_sender(mail_app, smtp):
    mail_app.config["BOUNCE_ADDRESS"] = "bounces@kommunen.example"
    client = mail_app.test_client()
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    register(client, event["id"], "b@example.org")
    tick(mail_app)
    senders = [mail_from for mail_from, _ in smtp.recorder.envelopes]
    assert len(senders) == 2 and len(set(senders)) == 2
    assert all(s.startswith("bounces+") and s.endswith("@kommunen.example") for s in senders)


def test_a_dsn_marks_the_address_and_later_emails_are_suppressed_until_lifted(mail_app, smtp, clock):
    client = mail_app.test_client()
    event = create_event(client)
    made = register(client, event["id"], "gone@example.org").get_json()
    tick(mail_app)
    tag_address = smtp.recorder.envelopes[0][0]
    result = bounce_cli(mail_app, dsn(tag_address))
    assert result.exit_code == 0
    listed = client.get("/api/v1/admin/bounces", headers=ADMIN).get_json()
    assert [(row["email"], row["kind"]) for row in listed] == [("gone@example.org", "dsn")]
    assert "5.1.1" in listed[0]["reason"]
    assert registrations(client, event["id"])[0]["email_undeliverable"] is True
    # An organizer's message to everyone is not sent to it, but shown as suppressed.
    client.post(
        f"/api/v1/admin/events/{event['id']}/messages",
        json={"subject": "Hinweis", "body": "Text", "audience": ["confirmed"]},
        headers=ADMIN,
    )
    tick(mail_app)
    assert [kind for kind, to in smtp.kinds() if to == "gone@example.org"] == ["confirmation"]
    assert [row["kind"] for row in outbox_rows(client, status="suppressed")] == ["message"]
    person = client.get("/api/v1/admin/people", query_string={"email": "gone@example.org"}, headers=ADMIN)
    assert "suppressed" in {email["status"] for email in person.get_json()["emails"]}
    lifted = client.delete("/api/v1/admin/bounces", query_string={"email": "Gone@example.org"}, headers=ADMIN)
    assert lifted.status_code == 200
    assert client.get("/api/v1/admin/bounces", headers=ADMIN).get_json() == []
    assert (
        client.delete("/api/v1/admin/bounces", query_string={"email": "x@example.org"}, headers=ADMIN).status_code
        == 404
    )
    assert client.get(f"/api/v1/registrations/{made['token']}").get_json()["email_undeliverable"] is False


def test_a_dsn_found_by_the_quoted_message_id_and_temporary_or_garbled_ones_change_nothing(mail_app, smtp):
    client = mail_app.test_client()
    event = create_event(client)
    register(client, event["id"], "gone@example.org")
    tick(mail_app)
    message_id = smtp.messages[0]["Message-ID"]
    assert bounce_cli(mail_app, dsn("postmaster@elsewhere.example", "4.4.1", message_id)).exit_code == 0
    assert bounce_cli(mail_app, b"\x00\xff not a mail at all").exit_code == 0
    assert bounce_cli(mail_app, b"").exit_code == 0
    assert client.get("/api/v1/admin/bounces", headers=ADMIN).get_json() == []
    assert bounce_cli(mail_app, dsn("postmaster@elsewhere.example", "5.1.1", message_id)).exit_code == 0
    assert [row["email"] for row in client.get("/api/v1/admin/bounces", headers=ADMIN).get_json()] == [
        "gone@example.org"
    ]


def test_a_5xx_when_sending_marks_the_address_and_registering_again_lifts_it(mail_app, smtp):
    client = mail_app.test_client()
    event = create_event(client, capacity=5)
    made = register(client, event["id"], "gone@example.org").get_json()
    smtp.recorder.mode = "permanent"
    tick(mail_app)
    smtp.recorder.mode = "ok"
    listed = client.get("/api/v1/admin/bounces", headers=ADMIN).get_json()
    assert [(row["email"], row["kind"]) for row in listed] == [("gone@example.org", "smtp")]
    assert registrations(client, event["id"])[0]["status"] == "confirmed"  # flagged, not cancelled
    client.delete(f"/api/v1/registrations/{made['token']}")
    tick(mail_app)
    assert outbox_rows(client, status="suppressed")[0]["kind"] == "cancelled"
    again = register(client, event["id"], "gone@example.org").get_json()
    assert again["email_undeliverable"] is False
    assert client.get("/api/v1/admin/bounces", headers=ADMIN).get_json() == []


def test_a_bounced_offer_expires_at_once_and_the_seat_is_offered_on(mail_app, smtp, clock):
    client = mail_app.test_client()
    event = create_event(client, capacity=1, waitlist_mode="offer")
    holder = register(client, event["id"], "holder@example.org").get_json()
    register(client, event["id"], "gone@example.org")
    register(client, event["id"], "next@example.org")
    tick(mail_app)
    client.delete(f"/api/v1/registrations/{holder['token']}")
    tick(mail_app)
    offer = next(m for m in smtp.messages if m["X-Eventsvc-Kind"] == "offer")
    index = [m["Message-ID"] for m in smtp.messages].index(offer["Message-ID"])
    envelope = smtp.recorder.envelopes[index][0]
    assert bounce_cli(mail_app, dsn(envelope)).exit_code == 0
    rows = {row["email"]: row for row in registrations(client, event["id"])}
    assert rows["gone@example.org"]["status"] == "cancelled"
    assert rows["gone@example.org"]["cancel_reason"] == "offer_expired"
    assert rows["next@example.org"]["status"] == "offered"


def test_the_organizer_gets_one_bounces_email_a_day(mail_app, smtp, clock):
    client = mail_app.test_client()
    event = create_event(client, capacity=5)
    register(client, event["id"], "gone@example.org")
    register(client, event["id"], "lost@example.org")
    smtp.recorder.mode = "permanent"
    tick(mail_app)
    smtp.recorder.mode = "ok"
    tick(mail_app)
    reports = [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "bounces"]
    assert len(reports) == 1 and reports[0]["To"].addresses[0].addr_spec == "fortbildung@kommunen.example"
    text = reports[0].get_body(("plain",)).get_content()
    assert "gone@example.org" in text and "lost@example.org" in text and "/admin/" in text
    register(client, event["id"], "third@example.org")
    smtp.recorder.mode = "permanent"
    tick(mail_app)
    smtp.recorder.mode = "ok"
    tick(mail_app)
    assert len([m for m in smtp.messages if m["X-Eventsvc-Kind"] == "bounces"]) == 1  # not twice a day
    clock.set(T0 + timedelta(days=1, minutes=1))
    tick(mail_app)
    reports = [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "bounces"]
    assert len(reports) == 2 and "third@example.org" in reports[1].get_body(("plain",)).get_content()
    assert "gone@example.org" not in reports[1].get_body(("plain",)).get_content()

"""Emails through a real SMTP server: every kind's content and headers, exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, iso, parts, register


def test_every_kind_has_the_required_headers_and_parts(mail_app, client, smtp):
    event = create_event(client, capacity=1)
    seat = register(client, event["id"], "seat@example.org", name="Jürgen Groß").get_json()
    register(client, event["id"], "wait@example.org", language="en")
    register(client, event["id"], "SEAT@example.org")  # already-registered
    client.patch(f"/api/v1/admin/events/{event['id']}", json={"location": "Rathaus"}, headers=ADMIN)
    tick(mail_app)
    client.delete(f"/api/v1/registrations/{seat['token']}")  # cancelled + promoted
    client.post(f"/api/v1/admin/events/{event['id']}/cancel", headers=ADMIN)
    tick(mail_app)
    kinds = smtp.kinds()
    assert kinds == [
        ("confirmation", "seat@example.org"),
        ("waitlisted", "wait@example.org"),
        ("already-registered", "seat@example.org"),
        ("event-updated", "seat@example.org"),
        ("cancelled", "seat@example.org"),
        ("promoted", "wait@example.org"),
        ("event-cancelled", "wait@example.org"),
    ]
    ids = set()
    for message in smtp.messages:
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Reply-To"].addresses[0].addr_spec == "fortbildung@kommunen.example"
        # The sender's domain, so that receiving servers can tell where the email came from.
        assert message["Message-ID"].endswith("@eventsvc.invalid>") and message["Message-ID"] not in ids
        ids.add(message["Message-ID"])
        found = parts(message)
        assert "text/plain" in found and "text/html" in found
        kind = message["X-Eventsvc-Kind"]
        if kind in ("confirmation", "promoted", "event-updated", "cancelled", "event-cancelled"):
            calendar_part = found["text/calendar"]
            method = "CANCEL" if kind in ("cancelled", "event-cancelled") else "REQUEST"
            assert calendar_part.get_param("method") == method
            assert calendar_part.get_content_charset() == "utf-8"
            assert Calendar.from_ical(calendar_part.get_content())["METHOD"] == method
            assert message.get_content_type() == "multipart/mixed"
            assert found["application/ics"].get_filename() == "invite.ics"
        else:
            assert "text/calendar" not in found
    german = smtp.messages[0]
    assert german["Subject"] == "Anmeldebestätigung: Fachveranstaltung Standesamtswesen"
    text = parts(german)["text/plain"].get_content()
    assert "Guten Tag Jürgen Groß" in text and "Mittwoch, 2. Dezember 2026, 09:00–16:00 Uhr" in text
    assert f"https://events.example.org/r/{seat['token']}" in text
    english = smtp.messages[1]
    assert english["Subject"] == "Waiting list: Fachveranstaltung Standesamtswesen"
    assert "number 1 on the waiting list" in parts(english)["text/plain"].get_content()


def test_confirmation_then_cancellation_in_one_tick_both_go_out_in_order(mail_app, client, smtp):
    event = create_event(client)
    token = register(client, event["id"], "a@example.org").get_json()["token"]
    client.delete(f"/api/v1/registrations/{token}")
    tick(mail_app)
    assert smtp.kinds() == [("confirmation", "a@example.org"), ("cancelled", "a@example.org")]
    request, cancel = (Calendar.from_ical(parts(m)["text/calendar"].get_content()) for m in smtp.messages)
    assert request.events[0]["SEQUENCE"] < cancel.events[0]["SEQUENCE"]


def test_nothing_is_sent_twice(mail_app, client, smtp):
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    tick(mail_app)
    tick(mail_app)
    assert smtp.kinds() == [("confirmation", "a@example.org")]


def test_reminders_go_once_at_their_time_and_only_to_seat_holders(mail_app, client, smtp, clock):
    event = create_event(client, capacity=1, reminders=["P7D", "P1D"])
    starts = T0 + timedelta(days=30)
    stay = register(client, event["id"], "stay@example.org").get_json()
    register(client, event["id"], "wait@example.org")
    tick(mail_app)
    assert smtp.kinds() == [("confirmation", "stay@example.org"), ("waitlisted", "wait@example.org")]
    clock.set(starts - timedelta(days=7, seconds=1))
    tick(mail_app)
    assert len(smtp.messages) == 2
    clock.set(starts - timedelta(days=7))
    tick(mail_app)
    tick(mail_app)
    assert smtp.kinds()[2:] == [("reminder", "stay@example.org")]
    reminder = smtp.messages[2]
    assert reminder["Subject"].endswith("in 7 Tagen")
    assert parts(reminder)["text/calendar"].get_param("method") == "REQUEST"
    # A seat taken after the 7-day reminder fell due gets only the 1-day one.
    clock.advance(timedelta(hours=1))
    client.delete(f"/api/v1/registrations/{stay['token']}")
    clock.set(starts - timedelta(days=1))
    tick(mail_app)
    assert smtp.kinds()[3:] == [
        ("cancelled", "stay@example.org"),
        ("promoted", "wait@example.org"),
        ("reminder", "wait@example.org"),
    ]
    assert smtp.messages[-1]["Subject"].endswith("morgen")


def test_a_late_reminder_says_how_far_ahead_the_event_really_is(mail_app, client, smtp, clock):
    event = create_event(client, reminders=["P7D"])
    register(client, event["id"], "a@example.org", language="en")
    clock.set(T0 + timedelta(days=27))  # no scheduler ran for the week before: the 7-day reminder is late
    tick(mail_app)
    reminder = smtp.messages[-1]
    assert reminder["X-Eventsvc-Kind"] == "reminder"
    assert reminder["Subject"].endswith("in 3 days")
    assert "registration in 3 days." in parts(reminder)["text/plain"].get_content()


def test_a_tick_queues_a_bounded_number_of_reminders_earliest_due_first(mail_app, client, clock):
    from eventsvc.db import db
    from eventsvc.domain.models import OutboxMessage
    from eventsvc.domain.reminders import queue_due_reminders

    later = create_event(
        client,
        capacity=5,
        reminders=["P1D"],
        starts_at=iso(T0 + timedelta(days=30, hours=12)),
        ends_at=iso(T0 + timedelta(days=30, hours=18)),
    )
    sooner = create_event(client, capacity=5, reminders=["P1D"])  # starts 12 hours before `later`
    for i in range(3):
        register(client, later["id"], f"later{i}@example.org")
        register(client, sooner["id"], f"sooner{i}@example.org")
    clock.set(T0 + timedelta(days=30) - timedelta(hours=1))  # both reminders are due, `sooner`'s first

    def reminders() -> list[str]:
        return sorted(db.session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "reminder")))

    assert queue_due_reminders(db.session, clock.now(), budget=1) == 3
    db.session.commit()
    assert reminders() == [f"sooner{i}@example.org" for i in range(3)]
    assert queue_due_reminders(db.session, clock.now(), budget=1) == 3
    db.session.commit()
    assert len(reminders()) == 6
    assert queue_due_reminders(db.session, clock.now(), budget=1) == 0


def test_reminders_follow_the_event_when_it_moves(mail_app, client, smtp, clock):
    event = create_event(client, reminders=["P1D"])
    register(client, event["id"], "a@example.org")
    new_start = T0 + timedelta(days=40)
    client.patch(
        f"/api/v1/admin/events/{event['id']}",
        headers=ADMIN,
        json={"starts_at": iso(new_start), "ends_at": iso(new_start + timedelta(hours=6))},
    )
    clock.set(T0 + timedelta(days=29))  # the old reminder time
    tick(mail_app)
    assert [k for k, _ in smtp.kinds()] == ["confirmation", "event-updated"]
    clock.set(new_start - timedelta(days=1))
    tick(mail_app)
    assert [k for k, _ in smtp.kinds()] == ["confirmation", "event-updated", "reminder"]


def test_temporary_failures_retry_with_backoff_permanent_ones_fail(mail_app, client, smtp, clock):
    event = create_event(client, capacity=5)
    register(client, event["id"], "a@example.org")
    smtp.recorder.mode = "temporary"
    tick(mail_app)
    queued = client.get("/api/v1/admin/outbox?status=queued", headers=ADMIN).get_json()
    assert len(queued) == 1 and queued[0]["attempts"] == 1 and queued[0]["last_error"].startswith("451")
    smtp.recorder.mode = "ok"
    tick(mail_app)
    assert smtp.kinds() == []  # backing off: not due yet
    clock.advance(timedelta(seconds=301))
    tick(mail_app)
    assert smtp.kinds() == [("confirmation", "a@example.org")]
    smtp.recorder.mode = "permanent"
    register(client, event["id"], "b@example.org")
    tick(mail_app)
    failed = client.get("/api/v1/admin/outbox?status=failed", headers=ADMIN).get_json()
    assert [(m["recipient"], m["last_error"][:3]) for m in failed] == [("b@example.org", "550")]
    smtp.recorder.mode = "ok"
    retried = client.post(f"/api/v1/admin/outbox/{failed[0]['id']}/retry", headers=ADMIN)
    assert retried.status_code == 200 and retried.get_json()["status"] == "queued"
    tick(mail_app)
    assert smtp.kinds()[-1] == ("confirmation", "b@example.org")


def test_each_answer_to_an_emails_content_is_recorded_for_that_email(mail_app, client, smtp):
    """The server's answer to an email's content is read while the next email is composed:
    refusals in the middle of a batch still land on the emails they were about."""
    from eventsvc.db import db
    from eventsvc.domain.models import OutboxMessage, UndeliverableAddress

    event = create_event(client, capacity=10)
    for name in "abcde":
        register(client, event["id"], f"{name}@example.org")
    smtp.recorder.refuse = {"b@example.org": "550 5.1.1 No such user", "d@example.org": "451 4.2.0 Try later"}
    tick(mail_app)
    rows = db.session.execute(select(OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.last_error)).all()
    found = {recipient: (status, (error or "")[:3]) for recipient, status, error in rows}
    assert found == {
        "a@example.org": ("sent", ""),
        "b@example.org": ("failed", "550"),
        "c@example.org": ("sent", ""),
        "d@example.org": ("queued", "451"),
        "e@example.org": ("sent", ""),
    }
    assert sorted(address for _, address in smtp.kinds()) == ["a@example.org", "c@example.org", "e@example.org"]
    assert db.session.scalars(select(UndeliverableAddress.email_normalized)).all() == ["b@example.org"]


def test_the_smtp_session_stuffs_leading_dots_and_reads_each_answer(mail_app, smtp):
    """Content is sent as RFC 5321 wants it (a line that starts with a dot gets a second
    one, which the server takes off again), and the answer to it is read on request."""
    from email.mime.text import MIMEText

    from eventsvc.mail.transport import PermanentFailure, SmtpTransport

    transport = SmtpTransport(mail_app.config)
    smtp.recorder.refuse = {"gone@example.org": "550 5.1.1 No such user"}
    body = "first line\n.a line with a leading dot\n.\nlast line\n"
    with mail_app.app_context(), transport.connect() as connection:
        for recipient in ("one@example.org", "gone@example.org", "two@example.org"):
            email = MIMEText(body, "plain", "us-ascii")
            email["Message-ID"] = f"<{recipient}>"
            connection.send(email, "bounces@example.org", recipient)
            if recipient == "gone@example.org":
                with pytest.raises(PermanentFailure, match="550"):
                    connection.answer()
            else:
                connection.answer()
        # Handing the next email over before reading the answer would lose that answer.
        email = MIMEText(body, "plain", "us-ascii")
        email["Message-ID"] = "<three@example.org>"
        connection.send(email, "bounces@example.org", "three@example.org")
        with pytest.raises(RuntimeError, match="not been read"):
            connection.send(email, "bounces@example.org", "four@example.org")
        connection.answer()
    received = smtp.messages
    assert [message["Message-ID"] for message in received] == [
        "<one@example.org>",
        "<two@example.org>",
        "<three@example.org>",
    ]
    assert all(message.get_content().replace("\r\n", "\n") == body for message in received)


def test_smtp_down_then_up_delivers_everything_once(mail_app, client, smtp, clock):
    event = create_event(client, capacity=10)
    smtp.stop()
    for i in range(5):
        register(client, event["id"], f"p{i}@example.org")
    tick(mail_app)
    clock.advance(timedelta(minutes=10))
    tick(mail_app)
    smtp.start()
    clock.advance(timedelta(minutes=10))
    tick(mail_app)
    tick(mail_app)
    assert sorted(smtp.kinds()) == [("confirmation", f"p{i}@example.org") for i in range(5)]


def test_connection_dropped_mid_data_is_retried_with_the_same_message_id(mail_app, client, smtp, clock):
    event = create_event(client, capacity=10)
    register(client, event["id"], "a@example.org")
    register(client, event["id"], "b@example.org")
    smtp.recorder.mode = "drop"
    tick(mail_app)
    first_try = client.get("/api/v1/admin/outbox", headers=ADMIN).get_json()
    assert all(m["status"] == "queued" for m in first_try)
    smtp.recorder.mode = "ok"
    clock.advance(timedelta(minutes=10))
    tick(mail_app)
    assert sorted(smtp.kinds()) == [("confirmation", "a@example.org"), ("confirmation", "b@example.org")]
    sent = {m["recipient"]: m["message_id"] for m in client.get("/api/v1/admin/outbox", headers=ADMIN).get_json()}
    assert {m["To"].addresses[0].addr_spec: m["Message-ID"] for m in smtp.messages} == sent


def _claim(clock, limit: int, sender: str = "crashed", lease: timedelta = timedelta(minutes=5)):
    from eventsvc.db import unit_of_work
    from eventsvc.domain import outbox

    with unit_of_work() as session:
        return outbox.claim_due(session, clock.now(), limit, lease, sender)


def test_a_crashed_senders_lease_expires_and_the_row_is_sent(mail_app, client, smtp, clock):
    mail_app.config["MAIL_LEASE"] = 120
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    queued = client.get("/api/v1/admin/outbox", headers=ADMIN).get_json()[0]["message_id"]
    assert len(_claim(clock, 10, lease=timedelta(seconds=120))) == 1  # a sender that then dies
    tick(mail_app)
    assert smtp.kinds() == []
    clock.advance(timedelta(seconds=121))
    tick(mail_app)
    assert smtp.kinds() == [("confirmation", "a@example.org")]
    assert smtp.messages[0]["Message-ID"] == queued


def test_sent_emails_are_recorded_while_the_batch_goes_on(mail_app, client, smtp):
    """Results are written a few at a time, not once at the end of a batch: while the
    server holds the 56th email, the first fifty are recorded as sent. A sender that died
    there would send again at most the five accepted since."""
    from eventsvc.mail.dispatch import RESULTS_PER_WRITE

    event = create_event(client, capacity=60)
    for i in range(60):
        register(client, event["id"], f"p{i}@example.org")
    smtp.recorder.hold_at = RESULTS_PER_WRITE + 6
    sender = threading.Thread(target=tick, args=(mail_app,))
    sender.start()
    try:
        assert smtp.recorder.holding.wait(10)
        statuses = [row["status"] for row in client.get("/api/v1/admin/outbox?limit=100", headers=ADMIN).get_json()]
        assert statuses.count("sent") >= RESULTS_PER_WRITE
        assert len(smtp.raw()) - statuses.count("sent") <= RESULTS_PER_WRITE
    finally:
        smtp.recorder.release.set()
        sender.join()
    statuses = [row["status"] for row in client.get("/api/v1/admin/outbox?limit=100", headers=ADMIN).get_json()]
    assert statuses == ["sent"] * 60 and len(smtp.raw()) == 60


def test_a_slow_mail_server_does_not_hold_up_registrations(mail_app, client, smtp):
    """The sender keeps no transaction open while it talks to the mail server: on SQLite an
    open transaction is the database's write lock, and registering would wait for SMTP."""
    event = create_event(client, capacity=10)
    register(client, event["id"], "a@example.org")
    smtp.recorder.mode = "hold"
    sender = threading.Thread(target=tick, args=(mail_app,))
    sender.start()
    try:
        assert smtp.recorder.holding.wait(10)
        registering = ThreadPoolExecutor(1).submit(register, client, event["id"], "b@example.org")
        assert registering.result(timeout=3).status_code == 201  # the SMTP time-out is 5 s
    finally:
        smtp.recorder.release.set()
        sender.join()
    # The sender claims again before it stops, so what was queued meanwhile went out too.
    assert smtp.kinds() == [("confirmation", "a@example.org"), ("confirmation", "b@example.org")]


def test_a_sender_claims_at_most_its_batch_size(mail_app, client, clock):
    """With many rows due, a claim takes `limit` of them, not all: a sender that took more
    than it can send within its lease would see them taken again by another sender."""
    event = create_event(client, capacity=60)
    for i in range(60):
        register(client, event["id"], f"p{i}@example.org")
    claimed = _claim(clock, 10, "one")
    assert len(claimed) == 10
    assert len({m.id for m in claimed} | {m.id for m in _claim(clock, 100, "two")}) == 60


def test_email_queued_while_the_sender_is_busy_goes_out_without_waiting_for_a_tick(mail_app, client, smtp):
    """The in-process scheduler is woken by each registration; a wake-up during a send must
    not be lost (the tick here is an hour)."""
    from eventsvc.scheduler import start_background, stop_background

    mail_app.config["TICK_SECONDS"] = 3600
    event = create_event(client, capacity=10)
    smtp.recorder.mode = "hold"
    scheduler, clockwork = start_background(mail_app)
    try:
        register(client, event["id"], "a@example.org")
        assert smtp.recorder.holding.wait(10)
        register(client, event["id"], "b@example.org")  # its wake-up finds the sender busy
        smtp.recorder.mode = "ok"
        smtp.recorder.release.set()
        deadline = time.monotonic() + 10
        while len(smtp.raw()) < 2 and time.monotonic() < deadline:
            smtp.recorder.received_one.wait(0.5)
            smtp.recorder.received_one.clear()
    finally:
        stop_background(scheduler, clockwork)
    assert sorted(smtp.kinds()) == [("confirmation", "a@example.org"), ("confirmation", "b@example.org")]


def test_user_input_cannot_add_headers(mail_app, client, smtp):
    event = create_event(client, organizer_name="Team")
    response = register(client, event["id"], "a@example.org", name="Eva\r\nBcc: victim@example.org")
    assert response.status_code == 422
    register(client, event["id"], "b@example.org", name='Eva "Bcc: x@example.org" <evil>')
    tick(mail_app)
    message = smtp.messages[0]
    assert message["Bcc"] is None and len(message["To"].addresses) == 1
    assert message["To"].addresses[0].addr_spec == "b@example.org"


def test_html_is_outlook_friendly(mail_app, client, smtp):
    event = create_event(client, title="<script>alert(1)</script>")
    register(client, event["id"], "a@example.org")
    tick(mail_app)
    html = parts(smtp.messages[0])["text/html"].get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<table" in html and "style=" in html and "<img" not in html and "<link" not in html


def test_operator_templates_override_defaults(mail_app, client, smtp, tmp_path):
    folder = tmp_path / "templates" / "de"
    folder.mkdir(parents=True)
    (folder / "confirmation.jinja").write_text(
        '{% extends "confirmation.jinja" %}{% block subject %}Bestätigt – {{ event.title }}{% endblock %}'
    )
    mail_app.config["EMAIL_TEMPLATES"] = str(tmp_path / "templates")
    mail_app.extensions.pop("eventsvc.mail_templates", None)
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    tick(mail_app)
    assert smtp.messages[0]["Subject"] == "Bestätigt – Fachveranstaltung Standesamtswesen"


def test_moving_an_event_after_its_reminders_went_out_reminds_only_the_new_seat_holders(mail_app, client, smtp, clock):
    event = create_event(client, capacity=1, reminders=["P1D"])
    starts = T0 + timedelta(days=30)
    first = register(client, event["id"], "first@example.org").get_json()
    register(client, event["id"], "second@example.org")
    clock.set(starts - timedelta(days=1) + timedelta(minutes=10))  # due, and settled
    tick(mail_app)
    tick(mail_app)
    assert [r for k, r in smtp.kinds() if k == "reminder"] == ["first@example.org"]
    client.delete(f"/api/v1/registrations/{first['token']}")  # second moves up after the reminder time
    tick(mail_app)
    assert [r for k, r in smtp.kinds() if k == "reminder"] == ["first@example.org"]
    later = starts + timedelta(days=7)
    client.patch(
        f"/api/v1/admin/events/{event['id']}",
        headers=ADMIN,
        json={"starts_at": iso(later), "ends_at": iso(later + timedelta(hours=6))},
    )
    clock.set(later - timedelta(days=1))
    tick(mail_app)
    assert [r for k, r in smtp.kinds() if k == "reminder"] == ["first@example.org", "second@example.org"]


def test_without_a_server_emails_are_eml_files_with_the_same_layout(app, client):
    import email
    from email.policy import default
    from pathlib import Path

    event = create_event(client, organizer_name="Servicestelle Fortbildung für Kommunen")
    register(client, event["id"], "a@example.org", name="Jürgen Groß")
    tick(app)
    [eml] = Path(app.config["MAIL_DIR"]).glob("*.eml")
    raw = eml.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    message = email.message_from_bytes(raw, policy=default)
    assert message["X-Eventsvc-Kind"] == "confirmation" and message["To"].addresses[0].display_name == "Jürgen Groß"
    assert message["From"].addresses[0].display_name == "Servicestelle Fortbildung für Kommunen"
    assert parts(message)["text/calendar"].get_param("method") == "REQUEST"


def test_a_long_outage_delays_email_but_loses_none(mail_app, client, smtp, clock):
    mail_app.config["MAIL_RETRY_MAX_DELAY"] = 60
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    smtp.stop()
    for _ in range(40):  # 40 failed tries, 40 minutes of outage
        tick(mail_app)
        clock.advance(timedelta(minutes=1))
    [queued] = client.get("/api/v1/admin/outbox?status=queued", headers=ADMIN).get_json()
    assert queued["attempts"] == 40
    smtp.start()
    tick(mail_app)
    assert smtp.kinds() == [("confirmation", "a@example.org")]


def test_after_two_days_of_trying_the_email_is_marked_failed(mail_app, client, smtp, clock):
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    smtp.stop()
    tick(mail_app)
    clock.advance(timedelta(days=2, minutes=10))
    tick(mail_app)
    [failed] = client.get("/api/v1/admin/outbox?status=failed", headers=ADMIN).get_json()
    assert failed["recipient"] == "a@example.org" and "connect" in failed["last_error"]

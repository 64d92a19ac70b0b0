"""The end of retention: the organizer's notice, sensitive answers first, then everything
personal, in batches that resume, checked through the API, the emails, the files and the
database."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from eventsvc.db import db
from eventsvc.domain.models import OutboxMessage, Registration, RegistrationChange
from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, event_payload, parts, register, registrations, wait_for
from tests.processes import service_env, start_worker
from tests.test_documents import links_in, path_of, upload

QUESTIONS = [
    {"key": "workshop", "label": "Workshop", "type": "choice", "options": ["A", "B"]},
    {"key": "diet", "label": "Ernährung", "type": "text", "sensitive": True},
]
ENDS = T0 + timedelta(days=30, hours=7)


def _register_with_answers(client, event_id, email, name, workshop="A"):
    made = register(
        client,
        event_id,
        email,
        name=name,
        answers={"workshop": workshop, "diet": "vegan"},
        sensitive_consent=True,
        role="Standesbeamtin",
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def test_notice_then_sensitive_answers_then_everything_personal(mail_app, client, smtp, clock):
    event = create_event(client, capacity=2, questions=QUESTIONS, retention="P60D", sensitive_retention="P10D")
    assert (event["retention"], event["sensitive_retention"]) == ("P60D", "P10D")
    anna = _register_with_answers(client, event["id"], "anna@example.org", "Anna Amsel")
    bernd = _register_with_answers(client, event["id"], "bernd@example.org", "Bernd Bussard", "B")
    waiting = _register_with_answers(client, event["id"], "clara@example.org", "Clara Chen")
    assert client.post(f"/api/v1/admin/registrations/{anna['id']}/checkin", headers=ADMIN).status_code == 200
    assert upload(client, event["id"]).status_code == 201
    clock.set(ENDS + timedelta(hours=2))
    tick(mail_app)
    [download] = [u for u in links_in(_last(smtp, "documentation", "anna@example.org")) if "/d/" in u]
    assert client.get(path_of(download)).status_code == 200

    clock.set(ENDS + timedelta(days=10) - timedelta(minutes=1))
    tick(mail_app)
    assert all("diet" in r["answers"] for r in registrations(client, event["id"]))
    clock.set(ENDS + timedelta(days=10))
    tick(mail_app)
    listed = registrations(client, event["id"])
    assert [r["answers"] for r in listed] == [{"workshop": "A"}, {"workshop": "B"}, {"workshop": "A"}]
    assert listed[0]["name"] == "Anna Amsel" and listed[0]["sensitive_consent_at"]  # the consent stays on record

    clock.set(ENDS + timedelta(days=46) - timedelta(minutes=1))
    tick(mail_app)
    assert _kinds(smtp)["retention-notice"] == 0
    clock.set(ENDS + timedelta(days=46))
    tick(mail_app)
    tick(mail_app)
    [notice] = [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "retention-notice"]
    assert notice["To"].addresses[0].addr_spec == "fortbildung@kommunen.example"
    body = parts(notice)["text/plain"].get_content()
    assert "Am Sonntag, 31. Januar 2027, 16:00 Uhr werden die personenbezogenen Daten" in body
    assert "Anna" not in body and "anna@" not in body

    clock.set(ENDS + timedelta(days=60))
    tick(mail_app)
    listed = registrations(client, event["id"])
    assert all(r["anonymised"] for r in listed)
    assert all(r[field] is None for r in listed for field in ("name", "email", "organization", "role"))
    assert [(r["status"], r["attended"]) for r in listed] == [
        ("confirmed", True),
        ("confirmed", False),
        ("waitlisted", False),
    ]
    shown = client.get(f"/api/v1/admin/events/{event['id']}", headers=ADMIN).get_json()
    assert (shown["seats_taken"], shown["waitlist_length"]) == (2, 1)  # the counts stay
    for made in (anna, bernd, waiting):
        assert client.get(f"/api/v1/registrations/{made['token']}").status_code == 404
        assert client.get(f"/r/{made['token']}").status_code == 404
        assert client.get(f"/api/v1/registrations/{made['token']}/data").status_code == 404
    assert client.get(path_of(download)).status_code == 404
    for address in ("anna@example.org", "bernd@example.org", "clara@example.org"):
        held = client.get(f"/api/v1/admin/people?email={address}", headers=ADMIN).get_json()
        assert held["registrations"] == [] and held["emails"] == []
    log = client.get("/api/v1/admin/erasures", headers=ADMIN).get_json()
    assert [(e["event_id"], e["registrations"], e["reason"]) for e in log] == [(event["id"], 3, "retention")]

    db.session.expire_all()
    rows = db.session.query(Registration).filter_by(event_id=event["id"]).all()
    stored = " ".join(f"{r.name} {r.email} {r.organization} {r.role} {r.answers} {r.token}" for r in rows)
    assert not any(word in stored for word in ("Anna", "anna@", "Stadt Musterstadt", "Standesbeamtin", "vegan"))
    assert {made["token"] for made in (anna, bernd, waiting)}.isdisjoint(r.token for r in rows)
    messages = db.session.query(OutboxMessage).filter(OutboxMessage.registration_id.is_not(None)).all()
    assert messages and all(m.recipient == "" and m.params == {} for m in messages)
    assert all(c.actor is None for c in db.session.query(RegistrationChange))
    db.session.remove()  # ends the read, which on SQLite holds the write lock
    tick(mail_app)  # nothing more to do, and nothing done twice
    assert len(client.get("/api/v1/admin/erasures", headers=ADMIN).get_json()) == 1


def test_retention_is_set_per_event_and_checked(client, app):
    assert create_event(client)["retention"] == "P365D"
    app.config["RETENTION_SECONDS"] = 2 * 365 * 86400  # as EVENTSVC_RETENTION=P730D gives
    assert create_event(client)["retention"] == "P730D"
    refused = client.post(
        "/api/v1/admin/events",
        json={**event_payload(), "retention": "P30D", "sensitive_retention": "P60D"},
        headers=ADMIN,
    )
    assert refused.status_code == 422 and "sensitive_retention" in refused.get_json()["errors"]
    assert (
        client.post("/api/v1/admin/events", json={**event_payload(), "retention": "P1M"}, headers=ADMIN).status_code
        == 422
    )


def test_a_large_event_goes_in_batches_that_resume_and_take_the_mail_files_along(app, client, clock, tmp_path):
    """File mail: the .eml files of the people anonymised go with them, batch by batch."""
    app.config.update(RETENTION_BATCH=2, RETENTION_ROWS_PER_TICK=2)
    event = create_event(client, capacity=10, retention="P30D", reminders=[])
    made = [register(client, event["id"], f"p{i}@example.org").get_json() for i in range(5)]
    tick(app)
    mail_dir = Path(app.config["MAIL_DIR"])
    assert len(list(mail_dir.glob("*.eml"))) == 5
    clock.set(ENDS + timedelta(days=30))
    done = [tick(app)["anonymised"] for _ in range(4)]
    assert done == [2, 2, 1, 0]
    assert list(mail_dir.glob("*.eml")) == []
    assert all(client.get(f"/api/v1/registrations/{m['token']}").status_code == 404 for m in made)
    log = client.get("/api/v1/admin/erasures", headers=ADMIN).get_json()
    assert [(e["registrations"], e["reason"]) for e in log] == [(5, "retention")]


@pytest.mark.slow
def test_a_worker_killed_mid_run_leaves_every_registration_whole_and_the_next_one_finishes(
    app, client, clock, database_url, tmp_path
):
    """The worker runs on the real clock, long after this event's retention ended. It is
    killed (SIGKILL, no chance to tidy up) while some batches are done and others not."""
    count = 400
    event = create_event(
        client,
        capacity=count,
        retention="PT1H",
        starts_at=(T0 + timedelta(days=1)).isoformat(),
        ends_at=(T0 + timedelta(days=1, hours=7)).isoformat(),
        reminders=[],
    )
    for start in range(0, count, 10):
        people = [
            {"name": f"Person {i}", "email": f"p{i}@example.org", "consent": True} for i in range(start, start + 10)
        ]
        assert (
            client.post(f"/api/v1/events/{event['id']}/registrations/batch", json={"people": people}).status_code == 201
        )
    tick(app)  # the confirmations, as files
    mail_dir = Path(app.config["MAIL_DIR"])
    assert len(list(mail_dir.glob("*.eml"))) == count
    env = service_env(
        database_url,
        tmp_path / "worker-instance",
        EVENTSVC_MAIL_DIR=str(mail_dir),
        EVENTSVC_TICK_SECONDS="0.2",
        EVENTSVC_RETENTION_BATCH="10",
        EVENTSVC_RETENTION_ROWS_PER_TICK="20",
    )
    engine = create_engine(database_url)
    anonymised = lambda: _scalar(engine, "SELECT count(*) FROM registrations WHERE anonymised_at IS NOT NULL")
    try:
        worker = start_worker(env, tmp_path / "first.log")
        wait_for(lambda: anonymised() >= 60, seconds=120, every=0.01)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        halfway = anonymised()
        assert 0 < halfway < count, halfway
        _check_each_registration_whole(engine, mail_dir)
        log = _scalar(engine, "SELECT coalesce(sum(registrations), 0) FROM erasures")
        assert log == halfway  # the log counts what was done, no more, no less
        second = start_worker(env, tmp_path / "second.log")
        try:
            wait_for(
                lambda: _scalar(engine, "SELECT count(*) FROM events WHERE personal_data_removed_at IS NOT NULL") == 1
            )
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        assert anonymised() == count
        _check_each_registration_whole(engine, mail_dir)
        assert list(mail_dir.glob("*.eml")) == []
        assert _scalar(engine, "SELECT sum(registrations) FROM erasures WHERE reason = 'retention'") == count
    finally:
        engine.dispose()


def _check_each_registration_whole(engine, mail_dir: Path) -> None:
    """Anonymised entirely (and its email's file gone) or not touched at all."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT r.anonymised_at IS NOT NULL, r.name, r.email, o.recipient, o.message_key "
                "FROM registrations r JOIN outbox_messages o ON o.registration_id = r.id"
            )
        ).all()
    states = Counter()
    for gone, name, email, recipient, key in rows:
        on_disk = (mail_dir / f"{key}.eml").exists()
        if gone:
            assert (name, recipient, on_disk) == ("", "", False) and email.endswith("@invalid")
        else:
            assert name.startswith("Person ") and recipient == email and on_disk
        states[gone] += 1
    assert sum(states.values()) > 0


def _scalar(engine, sql: str):
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


def _last(smtp, kind: str, address: str):
    return [m for m in smtp.messages if m["X-Eventsvc-Kind"] == kind and m["To"].addresses[0].addr_spec == address][-1]


def _kinds(smtp) -> Counter:
    return Counter(m["X-Eventsvc-Kind"] for m in smtp.messages)


def test_an_erasure_on_request_takes_the_mail_files_along(app, client):
    event = create_event(client, reminders=[])
    register(client, event["id"], "gone@example.org")
    register(client, event["id"], "stays@example.org")
    tick(app)
    mail_dir = Path(app.config["MAIL_DIR"])
    assert len(list(mail_dir.glob("*.eml"))) == 2
    assert client.delete("/api/v1/admin/people?email=gone@example.org", headers=ADMIN).status_code == 200
    [left] = mail_dir.glob("*.eml")
    assert b"stays@example.org" in left.read_bytes()


def test_a_changed_date_is_told_again_and_a_date_told_already_is_not(mail_app, client, smtp, clock):
    event = create_event(client, retention="P60D", reminders=[])
    clock.set(ENDS + timedelta(days=46))
    tick(mail_app)
    for retention, notices in (("P90D", 1), ("P60D", 1)):  # later, then back to the date told already
        client.patch(f"/api/v1/admin/events/{event['id']}", json={"retention": retention}, headers=ADMIN)
        clock.set(clock.now() + timedelta(minutes=1))
        tick(mail_app)
        assert _kinds(smtp)["retention-notice"] == notices, retention

"""What a new user, an operator and a participant meet first: links that work on any port,
the installed entry points, documentation that stays with its event, pages and emails that
say what happened, invites that calendars take as the newest, and the API's own docs."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
import requests
from icalendar import Calendar

from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, parts, register, wait_for
from tests.processes import ROOT, free_port, running, service_env

EVENT_END = T0 + timedelta(days=30, hours=7)


@pytest.mark.slow
def test_serve_on_any_port_hands_out_links_to_that_port(tmp_path):
    port = free_port()
    instance = tmp_path / "instance"
    env = service_env(f"sqlite:///{instance / 'eventsvc.sqlite3'}", instance)
    command = [sys.executable, "-m", "eventsvc.edges.cli", "serve", "--port", str(port)]
    log = tmp_path / "serve.log"
    with running(command, env, port, log) as base:
        event = requests.post(f"{base}/api/v1/admin/events", json=_event_body(), headers=ADMIN).json()
        made = requests.post(
            f"{base}/api/v1/events/{event['id']}/registrations",
            json={"name": "Eva", "email": "eva@example.org", "consent": True},
        ).json()
        assert made["manage_url"].startswith(f"http://127.0.0.1:{port}/r/")
        assert event["url"] == f"http://127.0.0.1:{port}/events/{event['id']}"
    output = log.read_text()
    assert f"links start with http://127.0.0.1:{port}" in output
    assert f"instance folder: {instance}" in output and "eventsvc.sqlite3" in output
    assert f"written as files to {instance / 'mail'}" in output


def _event_body() -> dict:
    return {
        "title": "Fachtag",
        "starts_at": "2031-03-01T09:00:00+01:00",
        "ends_at": "2031-03-01T16:00:00+01:00",
        "capacity": 10,
        "status": "published",
        "reminders": [],
    }


@pytest.mark.slow
def test_the_installed_wsgi_app_runs_anywhere_and_logs_no_tokens(database_url, app, tmp_path):
    port = free_port()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = service_env(database_url, tmp_path / "instance")
    env.pop("PYTHONPATH", None)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "1",
        "-b",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
        "--logger-class",
        "eventsvc.access_log.TokenRedactingLogger",
        "eventsvc.wsgi:app",
    ]
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, cwd=elsewhere, stdout=output, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _healthy(base), seconds=60)
            event = requests.post(f"{base}/api/v1/admin/events", json=_event_body(), headers=ADMIN).json()
            made = requests.post(
                f"{base}/api/v1/events/{event['id']}/registrations",
                json={"name": "Eva", "email": "eva@example.org", "consent": True},
            ).json()
            assert requests.get(f"{base}/r/{made['token']}").status_code == 200
        finally:
            process.terminate()
            process.wait(timeout=15)
    logged = log.read_text()
    assert made["token"] not in logged and "GET /r/… HTTP" in logged


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_the_command_says_its_version():
    result = subprocess.run(
        [sys.executable, "-m", "eventsvc.edges.cli", "--version"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert re.fullmatch(r"eventsvc \d+\.\d+\.\d+\n", result.stdout)


def test_documentation_is_not_sent_before_the_event_ends_unless_forced(client, clock):
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    client.post(
        f"/api/v1/admin/events/{event['id']}/documents",
        json={"title": "Folien", "url": "https://x.example/f"},
        headers=ADMIN,
    )
    early = client.post(f"/api/v1/admin/events/{event['id']}/documents/send", headers=ADMIN)
    assert early.status_code == 409 and early.get_json()["code"] == "invalid_state"
    forced = client.post(f"/api/v1/admin/events/{event['id']}/documents/send", json={"force": True}, headers=ADMIN)
    assert forced.status_code == 202 and forced.get_json()["emails_queued"] == 1


def test_a_cancelled_person_sees_no_documents(client, clock):
    event = create_event(client)
    made = register(client, event["id"], "a@example.org").get_json()
    client.post(
        f"/api/v1/admin/events/{event['id']}/documents",
        json={"title": "Folien", "url": "https://x.example/f"},
        headers=ADMIN,
    )
    clock.set(EVENT_END + timedelta(hours=1))
    client.post(f"/api/v1/admin/events/{event['id']}/documents/send", headers=ADMIN)
    assert "Folien" in client.get(f"/r/{made['token']}").data.decode()
    # After the event only an organizer can cancel (a correction of the list).
    client.delete(f"/api/v1/admin/registrations/{made['id']}", headers=ADMIN)
    assert "Folien" not in client.get(f"/r/{made['token']}").data.decode()


def test_a_cancel_after_the_start_is_refused_on_the_page(client, clock):
    event = create_event(client)
    made = register(client, event["id"], "a@example.org").get_json()
    clock.set(T0 + timedelta(days=30, hours=1))  # the event is under way
    page = client.post(f"/r/{made['token']}/cancel")
    assert "nicht mehr möglich" in page.data.decode()
    assert client.get(f"/api/v1/registrations/{made['token']}").get_json()["status"] == "confirmed"


def test_api_registrations_take_their_language_from_accept_language(client):
    event = create_event(client)
    made = client.post(
        f"/api/v1/events/{event['id']}/registrations",
        headers={"Accept-Language": "en-GB,en;q=0.8"},
        json={"name": "Ann", "email": "ann@example.org", "consent": True},
    ).get_json()
    assert client.get(f"/api/v1/registrations/{made['token']}").get_json()["language"] == "en"
    german = register(client, event["id"], "b@example.org").get_json()
    assert client.get(f"/api/v1/registrations/{german['token']}").get_json()["language"] == "de"


def _text(message) -> str:
    return parts(message)["text/plain"].get_payload(decode=True).decode()


def _html(message) -> str:
    return parts(message)["text/html"].get_payload(decode=True).decode()


def test_emails_read_as_written(mail_app, client, smtp, clock):
    event = create_event(
        client, capacity=1, location="Haus der Kommunen\nLindenstraße 1\n10969 Berlin", reminders=["PT1H"]
    )
    register(client, event["id"], "a@example.org")
    register(client, event["id"], "b@example.org")
    client.patch(
        f"/api/v1/admin/events/{event['id']}",
        headers=ADMIN,
        json={"starts_at": "2026-12-02T10:00:00+01:00", "ends_at": "2026-12-02T17:00:00+01:00"},
    )
    tick(mail_app)
    clock.set(T0 + timedelta(days=30, minutes=5))  # 55 minutes before the new start (09:00 UTC)
    tick(mail_app)
    client.post(f"/api/v1/admin/events/{event['id']}/cancel", headers=ADMIN)
    tick(mail_app)
    by_kind = {(m["X-Eventsvc-Kind"], m["To"].addresses[0].addr_spec): m for m in smtp.messages}
    confirmation = by_kind[("confirmation", "a@example.org")]
    text = _text(confirmation)
    assert "\r\n\r\nVeranstaltung:" in text  # blocks are separated by a blank line
    assert "Ort:           Haus der Kommunen\r\n               Lindenstraße 1\r\n" in text
    assert "(Europe/Berlin)" not in text and "\r\n-- \r\n" in text
    html = _html(confirmation)
    assert "<h1" in html and 'role="main"' in html and "Haus der Kommunen<br>Lindenstraße 1" in html
    assert confirmation["Content-Language"] == "de"
    assert confirmation["Message-ID"].endswith("@eventsvc.invalid>")
    cancelled = _text(by_kind[("event-cancelled", "a@example.org")])
    assert "absagen. Der Termin wird aus Ihrem Kalender entfernt. Wir bitten" in cancelled
    assert "leider müssen wir" in _html(by_kind[("event-cancelled", "a@example.org")])
    reminder = by_kind[("reminder", "a@example.org")]
    assert str(make_header(decode_header(reminder["Subject"]))).endswith("in 1 Stunde")
    updated = _text(by_kind[("event-updated", "a@example.org")])
    assert "Zeit der Veranstaltung hat sich geändert" in updated
    assert "Bisher: Mittwoch, 2. Dezember 2026, 09:00–16:00 Uhr" in updated
    assert "Neu:    Mittwoch, 2. Dezember 2026, 10:00–17:00 Uhr" in updated


def test_a_downloaded_invite_is_never_older_than_the_emailed_one(mail_app, client, smtp, clock):
    event = create_event(client, description=None)
    made = register(client, event["id"], "a@example.org").get_json()
    tick(mail_app)
    emailed = Calendar.from_ical(parts(smtp.messages[0])["text/calendar"].get_payload(decode=True))
    clock.advance(timedelta(minutes=5))
    downloaded = Calendar.from_ical(client.get(f"/api/v1/registrations/{made['token']}/invite.ics").data)
    stamp = lambda calendar: calendar.walk("VEVENT")[0]["DTSTAMP"].dt
    assert stamp(downloaded) >= stamp(emailed)
    assert downloaded.walk("VEVENT")[0]["SEQUENCE"] == emailed.walk("VEVENT")[0]["SEQUENCE"]
    assert b"DESCRIPTION:\r\n" not in client.get(f"/events/{event['id']}.ics").data


def test_a_participants_cancellation_moves_the_feeds_last_modified(client, clock):
    event = create_event(client)
    made = register(client, event["id"], "a@example.org").get_json()
    before = client.get("/calendar.ics")
    clock.advance(timedelta(hours=1))
    client.delete(f"/api/v1/registrations/{made['token']}")
    after = client.get("/calendar.ics")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.last_modified > before.last_modified
    vevent = Calendar.from_ical(after.data).walk("VEVENT")[0]
    assert vevent["LAST-MODIFIED"].dt == after.last_modified


def test_every_operation_has_a_summary_and_the_document_a_server(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["servers"] and spec["servers"][0]["url"]
    missing = [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method != "parameters" and not operation.get("summary")
    ]
    assert missing == []
    problem = spec["components"]["responses"]["NOT_FOUND"]["content"]
    assert list(problem) == ["application/problem+json"]

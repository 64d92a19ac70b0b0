"""The organizers' console through HTTP: accounts, sign-in, the same rules as the admin API,
and the day's work (a browser drives it end to end in test_console_browser.py)."""

from __future__ import annotations

import re
import subprocess
import sys

from eventsvc.db import db
from eventsvc.domain.models import AuditEntry
from tests.helpers import ADMIN, create_event, register, registrations
from tests.processes import ROOT, service_env

PASSWORD = "lange-genug-passwort-42"


EVENT_FORM = {
    "title": "Fachtag mit Fragen",
    "day": "2026-12-03",
    "start": "09:00",
    "end": "16:00",
    "timezone": "Europe/Berlin",
    "capacity": "50",
    "waitlist_mode": "auto",
    "offer_hours": "48",
    "reminder_days": "7, 1",
    "documentation_hours": "2",
    "documentation_recipients": "confirmed",
    "reconfirm_window_days": "3",
    "retention_days": "365",
    "sensitive_retention_days": "30",
}


def make_organizer(app, email="orga@kommunen.example", name="Olga Organisatorin", password=PASSWORD):
    result = app.test_cli_runner().invoke(
        args=["create-organizer", email, "--name", name, "--password-stdin"], input=password + "\n"
    )
    assert result.exit_code == 0, result.output
    return email


def sign_in(client, email="orga@kommunen.example", password=PASSWORD):
    return client.post("/admin/login", data={"email": email, "password": password})


def test_without_a_session_the_console_sends_to_the_login_form(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    page = client.get("/admin/login").data.decode()
    assert '<label for="email">E-Mail-Adresse</label>' in page and '<label for="password">Passwort</label>' in page


def test_a_wrong_password_gives_the_form_again_and_no_session(app, client):
    make_organizer(app)
    failed = sign_in(client, password="falsch-falsch-falsch")
    assert failed.status_code == 200 and "E-Mail-Adresse oder Passwort stimmen nicht." in failed.data.decode()
    assert client.get("/admin/").status_code == 302
    assert sign_in(client, email="nobody@kommunen.example").status_code == 200
    assert sign_in(client).status_code == 303
    assert client.get("/admin/").status_code == 200


def test_the_one_time_link_sets_the_password_once(app, client):
    result = app.test_cli_runner().invoke(args=["create-organizer", "neu@kommunen.example", "--name", "Nina Neu"])
    assert result.exit_code == 0
    link = result.output.strip()
    assert link.startswith("https://events.example.org/admin/password/")
    path = link.replace("https://events.example.org", "")
    short = client.post(path, data={"password": "kurz", "repeat": "kurz"})
    assert "mindestens 12 Zeichen" in short.data.decode()
    assert client.post(path, data={"password": PASSWORD, "repeat": PASSWORD}).status_code == 303
    assert client.get(path).status_code == 404  # used up
    assert sign_in(client, "neu@kommunen.example").status_code == 303
    again = app.test_cli_runner().invoke(args=["create-organizer", "neu@kommunen.example", "--name", "X"])
    assert again.exit_code != 0


def test_the_session_cookie_is_guarded_and_ends_when_idle(app, client):
    make_organizer(app)
    response = sign_in(client)
    cookie = next(value for name, value in response.headers.items() if name == "Set-Cookie" and "session=" in value)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert app.permanent_session_lifetime.total_seconds() == 30 * 60  # EVENTSVC_CONSOLE_IDLE_MINUTES
    page = client.get("/admin/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert client.post("/admin/logout").status_code == 303
    assert client.get("/admin/").status_code == 302


def test_tokens_and_sessions_open_only_their_own_door(organizer_client, app):
    assert organizer_client.get("/api/v1/admin/events").status_code == 401  # a session is no token
    other = app.test_client()
    assert other.get("/admin/", headers=ADMIN).status_code == 302  # a token is no session


def test_sign_in_attempts_are_limited_per_account_and_per_address(app, app_config):
    from eventsvc import create_app

    make_organizer(app)
    limited = create_app(app_config | {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "8 per minute"})
    client = limited.test_client()
    wrong = [sign_in(client, password=f"falsch-{i}-falsch-falsch").status_code for i in range(6)]
    assert wrong == [200] * 5 + [429]  # five failures per account
    assert sign_in(client, email="other@kommunen.example").status_code == 200  # another account, same address
    others = [sign_in(client, email=f"x{i}@kommunen.example").status_code for i in range(3)]
    assert others[-1] == 429  # eight failures from one address


def test_the_console_refuses_what_the_api_refuses(organizer_client):
    form = EVENT_FORM | {"title": "Fachtag", "start": "16:00", "end": "09:00", "capacity": "0"}  # ends first, no seats
    refused = organizer_client.post("/admin/events/new", data=form)
    page = refused.data.decode()
    assert refused.status_code == 200 and page.startswith("<!DOCTYPE html>") and "<title>Fehler:" in page
    assert 'id="capacity"' in page and 'aria-invalid="true"' in page
    assert organizer_client.get("/api/v1/events").get_json() == []
    fixed = organizer_client.post("/admin/events/new", data=form | {"end": "17:00", "capacity": "120"})
    assert fixed.status_code == 303


def test_an_organizer_runs_the_day_and_every_action_is_recorded(organizer_client, client):
    event = create_event(client, capacity=1, reminders=[], status="draft", title="Fachtag Meldewesen")
    assert organizer_client.post(f"/admin/events/{event['id']}/publish").status_code == 303
    anna = register(client, event["id"], "anna@example.org", name="Anna Amsel", organization="Gemeinde Au").get_json()
    bernd = register(client, event["id"], "bernd@example.org", name="Bernd Bussard").get_json()
    overview = organizer_client.get(f"/admin/events/{event['id']}").data.decode()
    assert "Anna Amsel" in overview and "Bernd Bussard" in overview and "1 von 1 belegt" in overview
    assert "Anna Amsel" not in organizer_client.get(f"/admin/events/{event['id']}?q=bussard").data.decode()
    refused = organizer_client.post(f"/admin/registrations/{bernd['id']}/promote", follow_redirects=True)
    assert "Nicht möglich: Kein Platz frei." in refused.data.decode()  # no seat free: the API's rule
    assert organizer_client.post(f"/admin/registrations/{bernd['id']}/overbook").status_code == 303
    door = organizer_client.get(f"/admin/events/{event['id']}/door?q=au").data.decode()
    assert "Anna Amsel" in door and "Bernd Bussard" not in door and "0 von 2 angekommen" in door
    organizer_client.post(
        f"/admin/registrations/{anna['id']}/checkin", data={"back": f"/admin/events/{event['id']}/door"}
    )
    assert "1 von 2 angekommen" in organizer_client.get(f"/admin/events/{event['id']}/door").data.decode()
    assert [(r["name"], r["status"], r["attended"]) for r in registrations(client, event["id"])] == [
        ("Anna Amsel", "confirmed", True),
        ("Bernd Bussard", "confirmed", False),
    ]
    history = client.get(f"/api/v1/admin/registrations/{bernd['id']}/history", headers=ADMIN).get_json()
    assert history[-1] == {**history[-1], "reason": "promoted", "by": "organizer"}
    sheet = organizer_client.get(f"/admin/events/{event['id']}/download/attendance-sheet.pdf")
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    csv = organizer_client.get(f"/admin/events/{event['id']}/download/registrations.csv").data.decode("utf-8-sig")
    assert "Anna Amsel" in csv
    preview = organizer_client.post(
        f"/admin/events/{event['id']}/messages",
        data={"subject": "Raum", "body": "Saal 3.", "audience": ["attended"], "action": "preview"},
    ).data.decode()
    assert "Vorschau für 1 Empfänger" in preview and "Guten Tag Anna Amsel," in preview
    sent = organizer_client.post(
        f"/admin/events/{event['id']}/messages",
        data={"subject": "Raum", "body": "Saal 3.", "audience": ["confirmed"], "action": "send"},
    )
    assert sent.status_code == 303
    log = client.get(f"/api/v1/admin/events/{event['id']}/messages", headers=ADMIN).get_json()
    assert [(m["subject"], m["recipients"], m["sent_by"]) for m in log] == [("Raum", 2, "Olga Organisatorin")]
    cancel_page = organizer_client.get(f"/admin/events/{event['id']}/cancel").data.decode()
    assert "2 bestätigte Person(en)" in cancel_page
    assert organizer_client.post(f"/admin/events/{event['id']}/cancel").status_code == 303
    assert client.get(f"/api/v1/events/{event['id']}").get_json()["status"] == "cancelled"
    log = organizer_client.get(f"/admin/events/{event['id']}").data.decode()
    assert "Protokoll" in log and "Olga Organisatorin" in log and "über die Kapazität aufgenommen" in log
    assert "registration_overbook" not in log  # words, not codes
    db.session.expire_all()
    actions = [(a.organizer, a.action) for a in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    db.session.remove()
    assert actions == [
        ("Olga Organisatorin", "event_published"),
        ("Olga Organisatorin", "registration_overbook"),
        ("Olga Organisatorin", "registration_checkin"),
        ("Olga Organisatorin", "message_send"),
        ("Olga Organisatorin", "event_cancelled"),
    ]


def test_a_person_is_found_exported_and_erased_after_a_confirming_step(organizer_client, client):
    event = create_event(client, reminders=[])
    register(client, event["id"], "gone@example.org", name="Gerda Gone")
    found = organizer_client.get("/admin/people?email=gone@example.org").data.decode()
    assert "Gerda Gone" in found and event["title"] in found
    exported = organizer_client.get("/admin/people/export?email=gone@example.org")
    assert exported.get_json()["registrations"][0]["name"] == "Gerda Gone"
    unconfirmed = organizer_client.post("/admin/people", data={"email": "gone@example.org"}, follow_redirects=True)
    assert "Bitte bestätigen" in unconfirmed.data.decode()
    assert registrations(client, event["id"])[0]["name"] == "Gerda Gone"
    organizer_client.post("/admin/people", data={"email": "gone@example.org", "confirm": "y"})
    assert registrations(client, event["id"])[0]["anonymised"] is True


def test_create_organizer_works_from_the_installed_command(tmp_path, database_url):
    env = service_env(database_url, tmp_path / "instance")
    made = subprocess.run(
        [sys.executable, "-m", "eventsvc.edges.cli", "create-organizer", "cli@kommunen.example", "--name", "Cleo"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert re.search(r"/admin/password/[\w-]{40,}$", made.stdout.strip())


def test_questions_are_made_in_words_not_json(organizer_client, client):
    first = {"q-0-label": "Workshop", "q-0-type": "choice", "q-0-options": "A\r\nB", "q-0-required": "y"}
    more = organizer_client.post("/admin/events/new", data=EVENT_FORM | first | {"action": "add_question"})
    assert more.status_code == 200 and 'name="q-1-label"' in more.data.decode()  # one more, nothing saved
    assert client.get("/api/v1/admin/events", headers=ADMIN).get_json() == []
    no_options = first | {"q-0-options": ""}
    refused = organizer_client.post("/admin/events/new", data=EVENT_FORM | no_options | {"action": "save"})
    assert 'id="q-0-label-error"' in refused.data.decode()
    diet = {"q-1-label": "Ernährung", "q-1-label_en": "Diet", "q-1-type": "text", "q-1-sensitive": "y"}
    saved = organizer_client.post("/admin/events/new", data=EVENT_FORM | first | diet | {"action": "save"})
    assert saved.status_code == 303
    [event] = client.get("/api/v1/admin/events", headers=ADMIN).get_json()
    assert event["questions"] == [
        {
            "key": "workshop",
            "label": "Workshop",
            "type": "choice",
            "required": True,
            "options": ["A", "B"],
            "sensitive": False,
        },
        {
            "key": "ernaehrung",
            "label": {"de": "Ernährung", "en": "Diet"},
            "type": "text",
            "required": False,
            "options": [],
            "sensitive": True,
        },
    ]
    form = organizer_client.get(f"/admin/events/{event['id']}/edit").data.decode()
    assert 'value="workshop"' in form and 'name="q-2-label"' in form  # the two, and room for a third

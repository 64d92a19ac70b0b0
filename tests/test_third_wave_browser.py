"""The third wave's pages in Chromium: the report with its charts, the lists, the feedback
results (console); sessions on the form and the manage page, the feedback form, the series
page and the interest list's steps (participants). axe-core checks each; no JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from eventsvc.db import unit_of_work
from eventsvc.domain import bounces
from eventsvc.scheduler.jobs import tick
from tests.browser_support import check_accessibility, follow, screenshot
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, iso, register, registrations
from tests.test_console import PASSWORD, make_organizer

pytestmark = pytest.mark.browser
START = T0 + timedelta(days=30)
SESSIONS = [
    {
        "key": "standesamt",
        "title": "AG Standesamt",
        "starts_at": iso(START + timedelta(hours=4)),
        "ends_at": iso(START + timedelta(hours=6)),
        "capacity": 1,
        "location": "Raum 1",
    },
    {
        "key": "it",
        "title": "Forum IT",
        "starts_at": iso(START + timedelta(hours=4)),
        "ends_at": iso(START + timedelta(hours=6)),
        "capacity": 20,
        "location": "Raum 2",
    },
]
FEEDBACK = {
    "questions": [
        {"key": "overall", "label": {"de": "Gesamteindruck", "en": "Overall"}, "type": "rating", "required": True},
        {"key": "remarks", "label": "Anmerkungen", "type": "text"},
    ]
}


def sign_in(page, live) -> None:
    page.goto(live + "/admin/login")
    page.get_by_label("E-Mail-Adresse").fill("orga@kommunen.example")
    page.get_by_label("Passwort").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Anmelden"))


def test_the_console_report_lists_and_feedback_pass_axe(app, client, live, page, request, clock):
    make_organizer(app)
    sample = Path(__file__).resolve().parent.parent / "docs" / "organizations-sample.csv"
    client.put("/api/v1/admin/organizations", data=sample.read_bytes(), headers=ADMIN, content_type="text/csv")
    event = create_event(
        client,
        capacity=3,
        roles=["Bürgermeister/in", "Amtsleiter/in"],
        series="standesamt",
        feedback=FEEDBACK,
        sessions=SESSIONS,
    )
    for n, (email, role) in enumerate(
        [
            ("a@dresden.de", "Bürgermeister/in"),
            ("b@leipzig.de", "Amtsleiter/in"),
            ("c@bautzen.de", "Bürgermeister/in"),
            ("d@example.org", None),
        ]
    ):
        extra = {"role": role} if role else {}
        register(client, event["id"], email, name=f"Person {n}", sessions=["it"], **extra)
    ids = [row["id"] for row in registrations(client, event["id"])]
    client.post(f"/api/v1/admin/registrations/{ids[0]}/checkin", headers=ADMIN)
    with unit_of_work() as session:
        bounces.mark_undeliverable(session, "d@example.org", "550 5.1.1 user unknown", "smtp", T0)
    sign_in(page, live)
    for path in (
        f"/admin/events/{event['id']}/report",
        "/admin/organizations",
        "/admin/bounces",
        f"/admin/events/{event['id']}/feedback",
        "/admin/series/standesamt",
        "/admin/series/standesamt/interest",
        f"/admin/events/{event['id']}",
    ):
        page.goto(live + path)
        assert page.title() and "Fehler" not in page.title(), path
        check_accessibility(page)
    page.goto(f"{live}/admin/events/{event['id']}/report")
    chart = page.locator("img[src$='roles.svg']")
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "darunter 1 Bürgermeister/in" in page.content()
    screenshot(page, request, "report")


def test_sessions_feedback_and_the_interest_list_for_participants(app, client, live, page, request, clock):
    event = create_event(client, capacity=1, series="standesamt", feedback=FEEDBACK, sessions=SESSIONS)
    page.goto(f"{live}/events/{event['id']}")
    check_accessibility(page)
    page.get_by_label("Name", exact=False).first.fill("Ada Amsel")
    page.get_by_label("E-Mail-Adresse").fill("ada@example.org")
    page.get_by_label("AG Standesamt").check()
    page.get_by_label("Forum IT").check()
    page.locator("#consent").check()
    follow(page, page.get_by_role("button", name="Verbindlich anmelden"))
    assert page.title().startswith("Fehler:")
    assert "zur selben Zeit" in page.content()
    check_accessibility(page)
    page.get_by_label("Forum IT").uncheck()
    page.locator("#consent").check()
    follow(page, page.get_by_role("button", name="Verbindlich anmelden"))
    assert "AG Standesamt" in page.content()
    check_accessibility(page)
    follow(page, page.get_by_role("link", name="Arbeitsgruppen und Foren ändern"))
    check_accessibility(page)
    page.get_by_label("AG Standesamt").uncheck()
    page.get_by_label("Forum IT").check()
    follow(page, page.get_by_role("button", name="Auswahl speichern"))
    assert "Damit geben Sie Ihren Platz ab" in page.content()
    check_accessibility(page)
    follow(page, page.get_by_role("button", name="Ja, so ändern"))
    assert "Forum IT" in page.content()
    # The event is booked out now: its page offers the series' interest list.
    page.goto(f"{live}/events/{event['id']}")
    follow(page, page.get_by_role("link", name="Über die nächste Veranstaltung dieser Reihe informiert werden"))
    check_accessibility(page)
    page.get_by_label("Name", exact=False).first.fill("Ina Interessiert")
    page.get_by_label("E-Mail-Adresse").fill("ina@example.org")
    page.locator("#consent").check()
    follow(page, page.get_by_role("button", name="Informiert werden"))
    assert "Bitte prüfen Sie Ihr Postfach" in page.content()
    check_accessibility(page)
    tick(app)
    # The feedback form, after the event, for the person who came.
    [ada] = registrations(client, event["id"], "confirmed")
    client.post(f"/api/v1/admin/registrations/{ada['id']}/checkin", headers=ADMIN)
    clock.set(START + timedelta(hours=10))
    tick(app)
    from eventsvc.domain.models import Registration

    with unit_of_work(writes=False) as session:
        token = session.get(Registration, ada["id"]).feedback_token
    page.goto(f"{live}/f/{token}")
    check_accessibility(page)
    follow(page, page.get_by_role("button", name="Absenden"))
    assert page.title().startswith("Fehler:")
    check_accessibility(page)
    page.get_by_label(re.compile("^5")).check()
    page.get_by_label("Anmerkungen").fill("Sehr hilfreich")
    follow(page, page.get_by_role("button", name="Absenden"))
    assert "Vielen Dank für Ihre Rückmeldung" in page.content()
    check_accessibility(page)
    screenshot(page, request, "feedback-thanks")

"""A whole day in the organizers' console, in Chromium: sign in, create and publish an event,
people register through the public form, the waitlist moves, check-in at the door, a
message, documents and certificates go out. axe-core checks every console page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from eventsvc.scheduler.jobs import tick
from tests.browser_support import check_accessibility, fill_form, follow, screenshot
from tests.conftest import T0
from tests.helpers import ADMIN, registrations
from tests.test_console import PASSWORD, make_organizer

pytestmark = pytest.mark.browser


def sign_in_by_keyboard(page, live) -> None:
    page.goto(live + "/admin/")
    assert page.url.endswith("/admin/login?next=%2Fadmin%2F")
    page.get_by_label("E-Mail-Adresse").focus()
    page.keyboard.type("orga@kommunen.example")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_day_in_the_console(app, client, live, page, browser, request, clock):
    make_organizer(app)
    page.goto(live + "/admin/login")
    check_accessibility(page)
    follow(page, page.get_by_role("link", name="English"))
    assert page.get_by_label("Email address").is_visible() and page.get_by_label("Password").is_visible()
    follow(page, page.get_by_role("link", name="Deutsch"))
    page.get_by_label("E-Mail-Adresse").fill("orga@kommunen.example")
    page.get_by_label("Passwort").fill("falsch-falsch-falsch")
    follow(page, page.get_by_role("button", name="Anmelden"))
    assert "E-Mail-Adresse oder Passwort stimmen nicht." in page.content()
    check_accessibility(page)
    sign_in_by_keyboard(page, live)
    assert page.get_by_role("heading", name="Veranstaltungen", exact=True).is_visible()
    check_accessibility(page)

    follow(page, page.get_by_role("link", name="Neue Veranstaltung"))
    check_accessibility(page)
    page.get_by_label("Titel").fill("Fachtag Personenstandsrecht")
    page.get_by_label("Ort und Adresse").fill("Haus der Kommunen, Saal 2")
    page.locator("#day").fill("2026-12-03")
    page.get_by_label("Beginn (Uhrzeit)").fill("09:30")
    page.get_by_label("Ende (Uhrzeit)").fill("16:00")
    page.locator("#capacity").fill("2")
    page.get_by_label("Organisationsteam (E-Mail-Adresse)").fill("fortbildung@kommunen.example")
    page.get_by_label("Erinnerungen … Tage vor Beginn").fill("")
    page.get_by_label("Umfang (Zeitstunden)").fill("6")
    page.get_by_label("Unterzeichnet von").fill("Dr. Maria Muster")
    page.get_by_label("Inhalte (eines je Zeile)").fill("Namensrecht\nBeurkundung")
    follow(page, page.get_by_role("button", name="Speichern"))
    assert page.locator("#event-status").inner_text() == "Entwurf"
    assert "Donnerstag, 3. Dezember 2026, 09:30–16:00 Uhr" in page.content()
    check_accessibility(page)
    screenshot(page, request, "1-veranstaltung")
    follow(page, page.get_by_role("button", name="Veröffentlichen"))
    assert page.locator("#event-status").inner_text() == "veröffentlicht"
    event_url = page.url
    event_id = int(event_url.rstrip("/").rsplit("/", 1)[1])

    public = browser.new_context(locale="de-DE").new_page()
    for name, email, town in (
        ("Anna Amsel", "anna@example.org", "Gemeinde Au"),
        ("Bernd Bussard", "bernd@example.org", "Stadt Berg"),
        ("Clara Chen", "clara@example.org", "Stadt Celle"),
    ):
        public.goto(f"{live}/events/{event_id}")
        fill_form(public, name, email)
        public.get_by_label("Kommune oder Dienststelle").fill(town)
        follow(public, public.locator("form button[type=submit]").last)
    public.context.close()
    page.goto(event_url)
    assert "2 von 2 belegt" in page.locator("#seats").inner_text()

    follow(page, page.get_by_role("link", name="Bernd Bussard"))
    check_accessibility(page)
    follow(page, page.get_by_role("link", name="Stornieren …"))
    check_accessibility(page)  # the confirming step
    follow(page, page.get_by_role("button", name="Ja, stornieren"))
    assert page.locator("#status").inner_text().startswith("storniert")
    history = page.locator("table.listing").inner_text()
    assert "organizer (Olga Organisatorin)" in history
    assert [(r["name"], r["status"]) for r in registrations(client, event_id)] == [
        ("Anna Amsel", "confirmed"),
        ("Bernd Bussard", "cancelled"),
        ("Clara Chen", "confirmed"),  # the waitlist moved
    ]

    page.goto(f"{live}/admin/events/{event_id}/door")
    check_accessibility(page)
    page.get_by_label("Name oder Kommune").press_sequentially("cel")  # the list narrows as one types
    expect(page.locator(".door-button")).to_have_count(1)
    page.get_by_label("Name oder Kommune").fill("celle")
    follow(page, page.get_by_role("button", name="Suchen"))  # and without script, the button
    assert page.locator(".door-button").count() == 1
    follow(page, page.get_by_role("button", name="Clara Chen"))
    assert page.locator("#arrived").inner_text() == "1 von 2 angekommen"
    follow(page, page.get_by_role("link", name="Alle zeigen"))
    follow(page, page.get_by_role("button", name="Anna Amsel"))
    follow(page, page.get_by_role("button", name="Anna Amsel"))  # undone
    assert page.locator("#arrived").inner_text() == "1 von 2 angekommen"
    screenshot(page, request, "2-einlass")

    page.goto(f"{live}/admin/events/{event_id}/messages")
    check_accessibility(page)
    page.get_by_label("Betreff").fill("Raumänderung")
    page.get_by_label("Text").fill("Wir treffen uns in Saal 3.")
    follow(page, page.get_by_role("button", name="Vorschau"))
    assert "Guten Tag Anna Amsel," in page.locator(".preview").inner_text()
    check_accessibility(page)
    follow(page, page.get_by_role("button", name="An alle senden"))
    assert "Die Nachricht geht an 2 Person(en)." in page.content()

    clock.set(T0 + timedelta(days=40))  # the event is over
    page.goto(f"{live}/admin/events/{event_id}/documents")
    check_accessibility(page)
    page.locator("#title").fill("Folien")
    page.set_input_files("#file", files=[{"name": "folien.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with page.expect_response(lambda response: response.url.endswith("/documents") and response.status == 200):
        page.get_by_role("button", name="Hochladen").click()  # sent by script, with its progress shown
    page.get_by_role("cell", name="folien.pdf").wait_for()
    assert "Das Dokument ist hinzugefügt." in page.content()
    follow(page, page.get_by_role("button", name="Jetzt senden"))
    tick(app)
    emails = client.get(f"/api/v1/admin/outbox?event_id={event_id}&limit=100", headers=ADMIN).get_json()
    assert sorted(m["recipient"] for m in emails if m["kind"] == "documentation") == [
        "anna@example.org",
        "clara@example.org",
    ]
    page.goto(event_url)
    with page.expect_download() as download:
        page.get_by_role("link", name="Teilnahmebescheinigungen (ZIP)").click()
    assert download.value.suggested_filename == f"certificates-{event_id}.zip"

    page.goto(f"{live}/admin/people?email=bernd@example.org")
    check_accessibility(page)
    assert "Fachtag Personenstandsrecht" in page.content()
    page.goto(f"{live}/admin/emails")
    check_accessibility(page)


def test_the_other_console_pages_pass_axe(app, client, live, page):
    result = app.test_cli_runner().invoke(args=["create-organizer", "neu@kommunen.example", "--name", "Nina Neu"])
    page.goto(result.output.strip().replace("https://events.example.org", live))
    check_accessibility(page)
    page.get_by_label("Neues Passwort").fill("zu-kurz")
    page.get_by_label("Passwort wiederholen").fill("zu-kurz")
    follow(page, page.get_by_role("button", name="Passwort speichern"))
    assert "Bitte mindestens 12 Zeichen verwenden." in page.content()
    check_accessibility(page)
    page.get_by_label("Neues Passwort").fill(PASSWORD)
    page.get_by_label("Passwort wiederholen").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Passwort speichern"))
    page.get_by_label("E-Mail-Adresse").fill("neu@kommunen.example")
    page.get_by_label("Passwort").fill(PASSWORD)
    follow(page, page.get_by_role("button", name="Anmelden"))
    page.goto(live + "/admin/events/new")
    page.locator("#title").fill("Ohne Datum")
    follow(page, page.get_by_role("button", name="Speichern"))
    assert page.title().startswith("Fehler:")
    check_accessibility(page)
    event = client.post(
        "/api/v1/admin/events",
        json={
            "title": "Fachtag",
            "starts_at": "2026-12-03T09:00:00+01:00",
            "ends_at": "2026-12-03T16:00:00+01:00",
            "capacity": 5,
            "status": "published",
        },
        headers=ADMIN,
    ).get_json()
    page.goto(f"{live}/admin/events/{event['id']}/cancel")
    assert "0 bestätigte Person(en)" in page.content()
    check_accessibility(page)
    page.goto(f"{live}/admin/events/{event['id']}/edit")
    check_accessibility(page)


def test_the_console_at_twice_the_size(app, live, browser):
    """200 % zoom on a 1280-pixel screen: the pages fit 640 CSS pixels without sideways scrolling."""
    make_organizer(app)
    context = browser.new_context(locale="de-DE", viewport={"width": 640, "height": 900})
    zoomed = context.new_page()
    try:
        sign_in_by_keyboard(zoomed, live)
        for path in ("/admin/", "/admin/events/new", "/admin/people"):
            zoomed.goto(live + path)
            assert zoomed.evaluate("document.documentElement.scrollWidth") <= 640, path
    finally:
        context.close()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

"""The participant pages in a real browser: Debian's Chromium driven by Playwright, checked by axe-core."""

from __future__ import annotations

import pytest

from tests.browser_support import check_accessibility, fill_form, follow, screenshot
from tests.helpers import create_event, register

pytestmark = pytest.mark.browser


def test_register_waitlist_cancel_and_promotion(client, live, page, request):
    event = create_event(client, capacity=1, title="Fachtag Standesamt 2027")
    page.goto(live + "/")
    assert page.locator("html").get_attribute("lang") == "de"
    assert "Noch 1 Platz frei" in page.content()
    check_accessibility(page)
    screenshot(page, request, "1-uebersicht")
    follow(page, page.get_by_role("link", name="Fachtag Standesamt 2027"))
    check_accessibility(page)
    screenshot(page, request, "2-veranstaltung")
    fill_form(page, "Anna Amsel", "anna@example.org")
    follow(page, page.get_by_role("button", name="Verbindlich anmelden"))
    assert "Ihr Platz ist bestätigt." in page.content()
    assert "Eine E-Mail mit allen Angaben ist unterwegs an anna@example.org." in page.content()
    check_accessibility(page)
    screenshot(page, request, "3-bestaetigt")
    anna_url = page.url
    page.goto(f"{live}/events/{event['id']}")
    assert "ausgebucht – Anmeldung auf die Warteliste" in page.content()
    fill_form(page, "Bernd Bussard", "bernd@example.org")
    follow(page, page.get_by_role("button", name="Auf die Warteliste"))
    assert "Sie stehen auf der Warteliste, auf Platz 1." in page.content()
    bernd_url = page.url.replace("?new=1", "")
    page.goto(anna_url)
    follow(page, page.get_by_role("link", name="Anmeldung stornieren"))
    check_accessibility(page)
    screenshot(page, request, "4-stornieren")
    follow(page, page.get_by_role("button", name="Ja, Anmeldung stornieren"))
    assert page.locator("#status").inner_text().strip() == "Storniert"
    page.goto(bernd_url)
    assert page.locator("#status").inner_text().strip() == "Platz bestätigt"
    check_accessibility(page)
    screenshot(page, request, "5-nachgerueckt")


def test_bad_input_is_shown_next_to_the_fields_and_kept(client, live, page, request):
    event = create_event(client)
    page.goto(f"{live}/events/{event['id']}")
    page.get_by_label("Name", exact=False).first.fill("Clara Chen")
    page.get_by_label("E-Mail-Adresse").fill("keine-adresse")
    follow(page, page.get_by_role("button", name="Verbindlich anmelden"))
    email = page.get_by_label("E-Mail-Adresse")
    assert email.get_attribute("aria-invalid") == "true"
    described = email.get_attribute("aria-describedby").split()
    assert any(page.locator(f"#{i}").inner_text().startswith("Bitte geben Sie eine gültige") for i in described)
    assert page.locator("#consent-error").is_visible()
    assert page.get_by_label("Name", exact=False).first.input_value() == "Clara Chen"  # nothing typed is lost
    check_accessibility(page)
    screenshot(page, request, "fehler")
    assert (
        client.get(
            f"/api/v1/admin/events/{event['id']}/registrations", headers={"Authorization": "Bearer test-admin-token"}
        ).get_json()
        == []
    )


def test_english_by_switch_and_by_accept_language(client, live, browser, page, request):
    event = create_event(client)
    page.goto(f"{live}/events/{event['id']}")
    follow(page, page.get_by_role("link", name="English"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Registration").is_visible()
    page.get_by_label("Name", exact=False).first.fill("Dora Drossel")
    page.get_by_label("Email address").fill("dora@example.org")
    page.locator("#consent").check()
    follow(page, page.get_by_role("button", name="Register", exact=True))
    assert "Your seat is confirmed." in page.content()
    check_accessibility(page)
    [dora] = client.get(
        f"/api/v1/admin/events/{event['id']}/registrations", headers={"Authorization": "Bearer test-admin-token"}
    ).get_json()
    assert dora["language"] == "en"  # her emails will be in English
    english = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en-GB,en;q=0.8"})
    other = english.new_page()
    other.goto(live + "/")
    assert other.locator("html").get_attribute("lang") == "en" and "Upcoming events" in other.content()
    english.close()


def test_phone_viewport(client, live, browser, request):
    event = create_event(client, capacity=1)
    register(client, event["id"], "x@example.org")
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="de-DE"
    )
    phone = context.new_page()
    phone.goto(f"{live}/events/{event['id']}")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing wider than the screen
    check_accessibility(phone)
    screenshot(phone, request, "telefon")
    context.close()


def test_closed_and_cancelled_events_say_so(client, live, page):
    event = create_event(client, capacity=1, waitlist=False)
    register(client, event["id"], "x@example.org")
    page.goto(f"{live}/events/{event['id']}")
    assert "Die Veranstaltung ist ausgebucht." in page.content() and page.locator("form").count() == 0
    client.post(f"/api/v1/admin/events/{event['id']}/cancel", headers={"Authorization": "Bearer test-admin-token"})
    page.goto(f"{live}/events/{event['id']}")
    assert "Diese Veranstaltung wurde abgesagt." in page.content()
    check_accessibility(page)


def test_past_events_and_missing_pages_are_accessible_too(client, live, page, clock):
    from datetime import timedelta

    event = create_event(client)
    clock.advance(timedelta(days=40))  # the event is over
    page.goto(f"{live}/events/{event['id']}")
    assert "Diese Veranstaltung hat bereits stattgefunden." in page.content() and page.locator("form").count() == 0
    check_accessibility(page)
    response = page.goto(f"{live}/r/kein-gueltiger-link")
    assert response.status == 404 and page.get_by_role("heading", name="Seite nicht gefunden").is_visible()
    check_accessibility(page)


def test_long_compound_words_fit_a_phone(client, live, browser, request):
    event = create_event(
        client,
        title="Fortbildung für Straßenverkehrsbehörden und Personenstandsrechtsänderungsgesetzanwendende",
        location="Kreisverwaltungsreferatsdienstgebäude, Straßenverkehrsbehördenzentrale 1",
    )
    context = browser.new_context(locale="de-DE", viewport={"width": 375, "height": 740})
    phone = context.new_page()
    try:
        for path in ("/", f"/events/{event['id']}"):
            phone.goto(live + path)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 375, path
        screenshot(phone, request, "telefon-lange-woerter")
    finally:
        context.close()


def test_a_rejected_form_says_so_in_the_title_and_takes_focus(client, live, page, request):
    event = create_event(client)
    page.goto(f"{live}/events/{event['id']}")
    page.get_by_label("Name", exact=False).first.fill("Clara Chen")
    follow(page, page.get_by_role("button", name="Verbindlich anmelden"))
    assert page.title().startswith("Fehler:")
    # Autofocus is applied at the page's next rendering step, not at load.
    page.locator("#form-errors:focus").wait_for(timeout=5000)
    fill_form(page, "Clara Chen", "clara@example.org")
    follow(page, page.get_by_role("button", name="Verbindlich anmelden"))
    assert page.title().startswith("Anmeldung bestätigt")


def test_cancelled_and_past_events_say_what_they_are(client, live, page, request, clock):
    from datetime import timedelta

    cancelled = create_event(client, title="Abgesagter Fachtag", capacity=1)
    register(client, cancelled["id"], "a@example.org")
    client.post(f"/api/v1/admin/events/{cancelled['id']}/cancel", headers={"Authorization": "Bearer test-admin-token"})
    page.goto(f"{live}/events/{cancelled['id']}")
    assert page.title().startswith("Abgesagt:") and page.locator("h1").inner_text().startswith("Abgesagt:")
    assert "ausgebucht" not in page.content() and "Plätze" not in page.content()
    assert [link.inner_text() for link in page.locator("a[href$='.ics']").all()] == [
        "Absage als Kalenderdatei (.ics): entfernt den Termin aus Ihrem Kalender",
        "Alle Veranstaltungen als Kalender-Abonnement",
    ]
    check_accessibility(page)
    screenshot(page, request, "abgesagt")
    past = create_event(client, title="Vergangener Fachtag")
    made = register(client, past["id"], "b@example.org").get_json()
    clock.advance(timedelta(days=40))
    page.goto(f"{live}/events/{past['id']}")
    assert "hat bereits stattgefunden" in page.content() and "Plätze frei" not in page.content()
    page.goto(made["manage_url"].replace("https://events.example.org", live))
    assert page.get_by_role("link", name="Anmeldung stornieren").count() == 0
    check_accessibility(page)


def test_the_api_documentation_runs_from_the_service_itself(live, page):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(live + "/docs/api")
    page.locator(".opblock").first.wait_for(timeout=15000)
    assert page.locator(".opblock").count() >= 20
    assert all(url.startswith(live) or url.startswith("data:") for url in requested)


def test_an_offer_and_a_reconfirmation_are_answered_with_buttons(client, live, page, request, clock):
    from datetime import timedelta

    from eventsvc.scheduler.jobs import tick

    admin = {"Authorization": "Bearer test-admin-token"}
    event = create_event(client, capacity=1, waitlist_mode="offer", reconfirm_before="P7D", reminders=[])
    first, second, third = (register(client, event["id"], f"p{i}@example.org").get_json() for i in range(3))
    client.delete(f"/api/v1/registrations/{first['token']}")
    page.goto(second["manage_url"].replace("https://events.example.org", live))
    assert "Ihr Platz ist bis Mittwoch, 4. November 2026, 09:00 Uhr reserviert." in page.content()
    check_accessibility(page)
    screenshot(page, request, "angebot")
    follow(page, page.get_by_role("link", name="Ablehnen"))  # a confirming step: declining costs the seat
    check_accessibility(page)
    follow(page, page.get_by_role("link", name="Nein, zurück"))
    follow(page, page.get_by_role("button", name="Platz annehmen"))
    assert page.locator("#status").inner_text().strip() == "Platz bestätigt"
    page.goto(third["manage_url"].replace("https://events.example.org", live))
    assert page.locator("#status").inner_text().strip().startswith("Warteliste")
    clock.set(clock.now() + timedelta(days=23))  # seven days before the start: asked to reconfirm
    tick(client.application)
    page.goto(second["manage_url"].replace("https://events.example.org", live))
    page.get_by_role("link", name="Absagen").wait_for()
    check_accessibility(page)
    screenshot(page, request, "bestaetigen")
    follow(page, page.get_by_role("button", name="Teilnahme bestätigen"))
    assert "Teilnahme bestätigt" in page.locator("#status").inner_text()
    history = client.get(f"/api/v1/admin/registrations/{second['id']}/history", headers=admin).get_json()
    assert [h["reason"] for h in history][-2:] == ["accepted", "reconfirmed"]


def test_questions_colleagues_and_a_substitute_in_the_browser(client, live, browser, request):
    questions = [
        {"key": "workshop", "label": {"de": "Workshop", "en": "Workshop"}, "type": "choice", "options": ["A", "B"]},
        {"key": "topics", "label": "Themen", "type": "multi", "options": ["Recht", "Praxis"]},
        {"key": "lunch", "label": "Mittagessen", "type": "boolean"},
        {"key": "diet", "label": "Ernährung", "type": "text", "sensitive": True},
    ]
    event = create_event(client, title="Fachtag mit Fragen", questions=questions, capacity=5)
    context = browser.new_context(locale="de-DE", viewport={"width": 375, "height": 740})
    phone = context.new_page()
    try:
        phone.goto(f"{live}/events/{event['id']}")
        check_accessibility(phone)
        fill_form(phone, "Assistentin Amsel", "office@example.org")
        phone.get_by_label("B", exact=True).check()
        phone.get_by_label("Recht").check()
        phone.get_by_label("Ja", exact=True).check()
        phone.get_by_label("Ernährung", exact=True).fill("vegetarisch")
        follow(phone, phone.get_by_role("button", name="Weitere Person anmelden"))
        assert phone.evaluate("document.activeElement.id") in ("colleague-0-name", "")
        phone.locator("#colleague-0-name").fill("Bürgermeister Bussard")
        phone.locator("#colleague-0-email").fill("mayor@example.org")
        follow(phone, phone.get_by_role("button", name="Verbindlich anmelden"))
        assert phone.title().startswith("Fehler:")  # the sensitive answer needs its own consent
        assert phone.locator("#sensitive_consent-error").is_visible()
        assert phone.locator("#colleague-0-name").input_value() == "Bürgermeister Bussard"  # nothing is lost
        check_accessibility(phone)
        screenshot(phone, request, "fragen-fehler")
        phone.locator("#sensitive_consent").check()
        follow(phone, phone.get_by_role("button", name="Verbindlich anmelden"))
        assert "Auch die weitere Person ist angemeldet" in phone.content()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        follow(phone, phone.get_by_role("link", name="Vertretung schicken"))
        check_accessibility(phone)
        phone.get_by_label("Name der Vertretung").fill("Stellvertreterin Specht")
        phone.get_by_label("E-Mail-Adresse der Vertretung").fill("deputy@example.org")
        phone.locator("#consent").check()
        follow(phone, phone.get_by_role("button", name="Platz weitergeben"))
        assert "an Ihre Vertretung weitergegeben" in phone.locator("#status").inner_text()
    finally:
        context.close()
    listed = client.get(
        f"/api/v1/admin/events/{event['id']}/registrations", headers={"Authorization": "Bearer test-admin-token"}
    ).get_json()
    assert [(r["email"], r["status"]) for r in listed] == [
        ("office@example.org", "cancelled"),
        ("mayor@example.org", "confirmed"),
        ("deputy@example.org", "confirmed"),
    ]
    assert listed[0]["answers"] == {"workshop": "B", "topics": ["Recht"], "lunch": True, "diet": "vegetarisch"}


def test_the_accessibility_statement_in_both_languages_is_linked_from_every_page(client, live, page, request, app):
    app.config.update(
        ACCESSIBILITY_CONTACT="barrierefrei@verband.example",
        ACCESSIBILITY_ENFORCEMENT="Schlichtungsstelle BGG, Mauerstraße 53, 10117 Berlin",
        PRIVACY_URL="https://verband.example/datenschutz",
    )
    event = create_event(client)
    for path in ("/", f"/events/{event['id']}"):
        page.goto(live + path)
        assert page.locator("footer").get_by_role("link", name="Datenschutzhinweise").count() == 1
        follow(page, page.locator("footer").get_by_role("link", name="Barrierefreiheit"))
        assert page.url.endswith("/barrierefreiheit")
    assert "barrierefrei@verband.example" in page.content() and "Schlichtungsstelle BGG" in page.content()
    check_accessibility(page)
    screenshot(page, request, "barrierefreiheit")
    page.goto(live + "/accessibility")
    assert page.locator("h1").inner_text() == "Accessibility statement"
    assert page.locator("html").get_attribute("lang") == "en"
    check_accessibility(page)

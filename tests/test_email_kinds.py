"""Every email kind has one template, whose words are all in the catalogue, and renders in
each language as text and as HTML."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from eventsvc.domain import outbox
from eventsvc.domain.vocabulary import LANGUAGES
from eventsvc.mail.templates import EmailTemplates
from eventsvc.translations import CATALOGUE_DIR

TEMPLATES = Path(__file__).resolve().parent.parent / "email_templates"


def test_every_kind_has_one_template_and_every_template_a_kind():
    names = {path.stem for path in TEMPLATES.glob("*.jinja") if not path.name.startswith("_")}
    assert names == set(outbox.KINDS)


def test_every_word_of_the_emails_has_its_english_translation():
    catalogue = read_po((CATALOGUE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb"))
    found = [
        message
        for _, _, message, _, _ in extract_from_dir(str(TEMPLATES), method_map=[("**.jinja", "jinja2")])
        if message
    ]
    assert len(found) > 100
    missing = [message for message in found if message not in catalogue or not catalogue[message].string]
    assert missing == []


def _context(kind: str) -> dict:
    event = SimpleNamespace(title="Fachtag <Bauhof>", location="Rathaus\nSaal 2", waitlist_mode="offer")
    session_line = {"line": "Bauhof: 14:00–16:00", "status": "waitlisted", "position": 2}
    return {
        "kind": kind,
        "recipient_name": "Jürgen Groß",
        "participant": SimpleNamespace(name="Jürgen Groß", status="confirmed"),
        "event": event,
        "when": "Mittwoch, 2. Dezember 2026",
        "zone_note": "",
        "sessions": [session_line],
        "session": {"title": "Bauhof", "when": "14:00–16:00", "location": "Raum 3"},
        "position": 3,
        "waiting_because": "",
        "learn_more": "",
        "organizer_name": "Team",
        "organizer_email": "team@example.org",
        "documents": [{"title": "Folien", "url": "https://example.org/d/1"}],
        "addresses": [{"email": "x@example.org", "event": "Fachtag", "reason": "550"}],
        "message_subject": "Hinweis",
        "message_body": "Zeile 1\n\nZeile 2",
        "test": True,
        **{
            name: f"https://example.org/{name}"
            for name in (
                "manage_url",
                "invite_url",
                "feed_url",
                "event_url",
                "series_url",
                "feedback_url",
                "certificate_url",
                "confirm_url",
                "leave_url",
                "console_url",
            )
        },
        **dict.fromkeys(("offer_until", "reconfirm_until", "feedback_closes", "removal_at"), "5. Dezember, 12:00 Uhr"),
        "previous_when": "früher",
        "previous_location": "alt",
        "changed_when": True,
        "changed_where": True,
        "had_seat": True,
        "feedback_follows": False,
        "days_ahead": 1,
        "hours_ahead": 3,
        "waiting": 4,
        "seats_left": 1,
        "name": "Jürgen Groß",
        "series": "standesamt",
    }


@pytest.mark.parametrize("kind", outbox.KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_kind_renders_as_text_and_html_in_each_language(kind, language):
    rendered = EmailTemplates(TEMPLATES).render(kind, language, _context(kind))
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and "<p" not in rendered.text and "&lt;" not in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>") and f'<html lang="{language}">' in rendered.html
    assert "<Bauhof>" not in rendered.html  # escaped in HTML
    assert "\n-- \n" in rendered.text
    if language == "en":
        # Words the German source uses everywhere: none is left in an English email.
        german = {" Sie ", " Ihre ", " Ihr ", "Guten Tag", " der ", " die "}
        left = [word for word in german if word in rendered.text or word in rendered.subject]
        assert left == [], rendered.text

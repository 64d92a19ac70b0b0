"""The pure helpers, on their own: no app, no database."""

from __future__ import annotations

import random
import re
import threading
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message

import pytest
from icalendar import Calendar, vCalAddress
from icalendar import Event as VEvent
from icalendar.parser import Contentline
from limits.storage import storage_from_string

from eventsvc.domain.documents import download_name
from eventsvc.domain.durations import format_duration, parse_duration
from eventsvc.domain.events import slugify
from eventsvc.domain.invites import REQUEST, InviteContext, folded, invite
from eventsvc.domain.models import Event, Registration
from eventsvc.domain.rules import is_registration_open, looks_like_token
from eventsvc.edges.csv import csv_cell
from eventsvc.edges.web.views import same_site_path
from eventsvc.extensions import InProcessCounts
from eventsvc.links import Links
from eventsvc.mail.addresses import AddressError, ascii_address, encoded_words
from eventsvc.mail.transport import WIRE, wire_bytes


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("P7D", 604800), ("PT1H", 3600), ("P1DT12H", 129600), ("P1W", 604800), ("PT90M", 5400), ("PT0S", 0)],
)
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "P1Y", "P1M", "7D", "P-1D", "PT1.5H", "", "P1DT"])
def test_durations_refuse_what_they_cannot_mean(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("seconds", [0, 59, 3600, 86400, 129600, 604800, 90061])
def test_durations_round_trip(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


def test_slugs_spell_out_umlauts_and_drop_the_rest():
    assert (
        slugify("Fachtag Straßenverkehrsbehörden: Öffnung & Übergänge!")
        == "fachtag-strassenverkehrsbehoerden-oeffnung-uebergaenge"
    )
    assert slugify("!!!") == "event"
    assert len(slugify("x" * 500)) == 80


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (True, "ja"),
        (False, "nein"),
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+49 30", "'+49 30"),
        ("-1", "'-1"),
        ("@SUM", "'@SUM"),
        ("Stadt Musterstadt", "Stadt Musterstadt"),
        (datetime(2026, 12, 3, 9, 30, tzinfo=UTC), "03.12.2026 09:30"),
    ],
)
def test_csv_cells_are_plain_text_to_a_spreadsheet(value, cell):
    assert csv_cell(value) == cell


@pytest.mark.parametrize(
    ("target", "result"),
    [
        ("/events/3", "/events/3"),
        ("/r/abc?new=1", "/r/abc?new=1"),
        ("//evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\r\nx", "/"),
        ("https://evil.example", "/"),
        ("evil.example", "/"),
        ("/ /x", "/"),
    ],
)
def test_redirect_targets_stay_on_the_site(target, result):
    assert same_site_path(target) == result


def test_addresses_are_mailed_in_ascii():
    assert ascii_address("user@bücher.example") == "user@xn--bcher-kva.example"
    assert ascii_address("Eva.Muster@Example.org") == "Eva.Muster@Example.org"
    for bad in ("jürgen@example.org", "no-at-sign", "@example.org", "a@"):
        with pytest.raises(AddressError):
            ascii_address(bad)


@pytest.mark.parametrize(
    "text",
    [
        "Anmeldebestätigung: Fachtag Digitalisierung der Standesämter in Nordrhein-Westfalen – Teil 2",
        "🏛️" * 40,
        "ä" * 21 + "€",  # a character that does not fit whole into a word's last bytes
        "plain =?utf-8?q?x?= that looks encoded",
        "tab\tand line\nbreaks",
    ],
)
def test_headers_are_encoded_in_whole_characters_and_folded_within_lines(text):
    words = encoded_words(text, "Subject")
    assert words.isascii() and all(len(word) <= 75 for word in words.split(" "))
    for word in words.split(" "):
        str(make_header(decode_header(word)))  # each word alone decodes: it holds whole characters
    message = Message()
    message["Subject"] = words
    message["X-Long-Plain"] = "word " * 40 + "end"
    raw = message.as_bytes(policy=WIRE)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    parsed = message_from_bytes(raw)
    assert str(make_header(decode_header(parsed["Subject"]))) == text
    assert " ".join(parsed["X-Long-Plain"].split()) == "word " * 40 + "end"
    assert re.sub(r"\r\n ", " ", parsed["X-Long-Plain"]) == "word " * 40 + "end"


def test_a_name_is_split_into_encoded_words_only_where_it_must_be():
    # Some parsers show the space between two encoded words inside a name.
    assert encoded_words("Servicestelle Kommunalverband Größere Städte", "From").count("=?") == 1


def test_plain_ascii_header_values_stay_as_they_are():
    assert encoded_words("Anmeldebestaetigung: Fachtag 2027", "Subject") == "Anmeldebestaetigung: Fachtag 2027"


def test_downloads_are_named_after_what_the_file_is():
    assert download_name("evil.html", "application/pdf") == "evil.pdf"
    assert download_name("Protokoll 2026.docx", "application/pdf") == "Protokoll 2026.pdf"
    assert download_name(".hidden", "image/png") == "hidden.png"  # no hidden files on a desktop
    assert download_name("", "application/zip") == "dokument.zip"


def test_every_link_starts_with_the_base_url():
    links = Links("https://events.example.org/")
    assert [links.event(3), links.manage("t"), links.invite("t"), links.personal_feed("f"), links.download("d")] == [
        "https://events.example.org/events/3",
        "https://events.example.org/r/t",
        "https://events.example.org/api/v1/registrations/t/invite.ics",
        "https://events.example.org/feeds/f.ics",
        "https://events.example.org/d/d",
    ]


def test_tokens_have_one_shape():
    assert looks_like_token("abcdefghijklmnop_-0123456789")
    assert not looks_like_token("\x00") and not looks_like_token("short") and not looks_like_token("a" * 101)


class _Window:
    def __init__(self, status, starts_at, opens=None, closes=None):
        self.status, self.starts_at = status, starts_at
        self.registration_opens_at, self.registration_closes_at = opens, closes


def test_registration_is_open_from_opening_until_closing_or_the_start():
    start = datetime(2026, 12, 3, 8, tzinfo=UTC)
    before, after = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC)
    assert is_registration_open(_Window("published", start), before)
    assert not is_registration_open(_Window("published", start), after)
    assert not is_registration_open(_Window("draft", start), before)
    assert not is_registration_open(_Window("published", start, opens=datetime(2026, 12, 2, tzinfo=UTC)), before)
    assert not is_registration_open(_Window("published", start, closes=datetime(2026, 11, 30, tzinfo=UTC)), before)


def test_the_access_log_leaves_tokens_out():
    from eventsvc.access_log import redact

    token = "Xy3_abcdefghijklmnopqrstuvwxyz0123456789-_"
    assert redact(f"GET /r/{token} HTTP/1.1") == "GET /r/… HTTP/1.1"
    assert redact(f"/api/v1/registrations/{token}/invite.ics") == "/api/v1/registrations/…/invite.ics"
    assert redact(f"/feeds/{token}.ics") == "/feeds/….ics" and redact(f"/d/{token}") == "/d/…"
    assert redact("/events/12") == "/events/12"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_focus_ring_shows_on_every_background_of_the_pages():
    from pathlib import Path

    css = (Path(__file__).parent.parent / "eventsvc/edges/web/static/style.css").read_text()
    rule = re.search(r":focus-visible \{([^}]*)\}", css).group(1)
    ring = re.findall(r"#[0-9a-fA-F]{6}", rule)
    backgrounds = ["#ffffff", "#f3f5f8", "#083563", "#0b4a8b", "#eef6ee"]  # page, panels, header, buttons, notices
    for background in backgrounds:
        assert max(_contrast(colour, background) for colour in ring) >= 3, background


def test_in_process_rate_counts_expire_without_a_thread_per_count():
    counts = storage_from_string("memory://")
    assert isinstance(counts, InProcessCounts)
    counts.timer.join()  # the one timer the storage starts when it is made
    threads = threading.active_count()
    for _ in range(50):
        counts.incr("registrations:a", expiry=60)
    assert counts.get("registrations:a") == 50
    assert threading.active_count() <= threads
    counts.incr("registrations:b", expiry=0)  # a window that has already passed
    assert counts.incr("registrations:b", expiry=60) == 1
    counts.incr("registrations:c", expiry=0)
    counts.next_sweep = 0.0  # the minute is up: the next count sweeps every passed window
    counts.incr("registrations:a", expiry=60)
    assert "registrations:c" not in counts.storage and counts.get("registrations:a") == 51


def _lines_to_fold() -> list[str]:
    alphabet = ["a", " ", "ä", "€", "😀", "\\", "\\,", "\\n", "^", "^'", ";", ":", '"']
    chosen = random.Random(5545)
    lines = ["", "x" * 74, "x" * 75, "x" * 76, "ä" * 40, "DESCRIPTION:" + "a\\, " * 60]
    lines += ["x" * shift + "\\n" + "y" * 100 for shift in range(70, 78)]
    lines += ["x" * shift + "😀" * 30 for shift in range(68, 76)]
    for _ in range(400):
        lines.append("".join(chosen.choice(alphabet) for _ in range(chosen.randrange(1, 260))))
    return lines


def test_invite_lines_fold_as_icalendar_folds_them():
    for line in _lines_to_fold():
        assert folded(line) == Contentline(line).to_ical(), line


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_an_invites_personal_lines_are_what_icalendar_writes_for_them(method):
    """The three personal lines are written through icalendar's value types, not through a
    component: they must come out as a VEVENT of those three properties writes them."""
    when = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
    event = Event(
        uid="e-1@example.org",
        title="Fachtag",
        starts_at=when,
        ends_at=when,
        created_at=when,
        changed_at=when,
        location="Rathaus",
        status="published",
        organizer_name=None,
        organizer_email=None,
    )
    names = ['Jürgen "Jo" Groß', "Müller, Dr.; Anna", "a:b", "Zoë^Caret", "😀 " * 30, "x" * 80]
    descriptions = ["", "Zeile 1\nZeile 2; mit, Zeichen \\ und ^", "ä" * 100]
    for name in names:
        for text in descriptions:
            event.description = text
            person = Registration(name=name, email="p@example.org")
            context = InviteContext("org@example.org", "https://example.org/e/1", "https://example.org/m/t", when)
            written = invite(event, person, method, 2, context)
            reference = VEvent()
            reference.add("dtstamp", when)
            expected_description = "\n\n".join(
                p for p in [text, "Ihre Anmeldung verwalten / manage your registration: https://example.org/m/t"] if p
            )
            reference.add("description", expected_description)
            attendee = vCalAddress("mailto:p@example.org")
            for key, value in (("CN", name), ("CUTYPE", "INDIVIDUAL"), ("ROLE", "REQ-PARTICIPANT")):
                attendee.params[key] = value
            attendee.params["PARTSTAT"] = "ACCEPTED" if method == REQUEST else "DECLINED"
            attendee.params["RSVP"] = "FALSE"
            reference.add("attendee", attendee)
            lines = [folded(line) + b"\r\n" for line in reference.content_lines() if line][1:-1]
            assert all(line in written for line in lines), (name, text)
            parsed = Calendar.from_ical(written).walk("VEVENT")[0]
            assert parsed["ATTENDEE"].params["CN"] == name and str(parsed["DESCRIPTION"]) == expected_description


def test_emails_go_over_the_wire_as_the_standard_generator_writes_them():
    from email.mime.application import MIMEApplication
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    texts = ["", "eine Zeile", "Zeilen\nmit\r\nallen\rEnden\n", "ä" * 300 + "\n\n", "x\r\n" * 40 + "y"]
    messages: list[Message] = []
    for text in texts:
        for charset in ("utf-8", "us-ascii"):
            if charset == "us-ascii" and not text.isascii():
                continue
            messages.append(MIMEText(text, "plain", charset))
        alternative = MIMEMultipart("alternative", boundary="=_b1")
        alternative.attach(MIMEText(text, "plain", "utf-8"))
        alternative.attach(MIMEText(f"<p>{text}</p>", "html", "utf-8"))
        mixed = MIMEMultipart("mixed", boundary="=_b2")
        mixed.preamble = "Vorwort\nin zwei Zeilen"
        mixed.epilogue = ""
        mixed.attach(alternative)
        mixed.attach(MIMEApplication(text.encode() or b"-", "ics", Name="invite.ics"))
        mixed["Subject"] = "Anmeldebestätigung: " + text[:20]
        messages.append(mixed)
    for message in messages:
        assert wire_bytes(message) == message.as_bytes(policy=WIRE)

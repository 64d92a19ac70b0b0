"""Certificates of attendance and the sign-in sheet: real PDFs from WeasyPrint, read back
with a PDF library (structure tree, language, embedded fonts, the text itself)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

from pypdf import PdfReader

from eventsvc.scheduler.jobs import tick
from tests.helpers import ADMIN, create_event, parts, register, registrations
from tests.test_documents import EVENT_END, links_in, path_of, upload

CERTIFICATE = {
    "hours": 6.5,
    "signer": "Dr. Maria Muster, Referatsleiterin",
    "topics": ["Namensrecht", "Digitale Beurkundung"],
}


def read(pdf_bytes: bytes) -> PdfReader:
    assert pdf_bytes.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf_bytes))


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_accessible(reader: PdfReader, language: str) -> None:
    """Tagged PDF/UA: a structure tree, marked content, the language, a title shown as the
    window title, and every font embedded with a Unicode map."""
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]
    assert catalog["/Lang"] == language
    assert reader.metadata.title and catalog["/ViewerPreferences"]["/DisplayDocTitle"]
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            assert "/ToUnicode" in font, font["/BaseFont"]


def test_certificates_for_those_who_came_in_their_language(app, client, clock):
    app.config["CERTIFICATE_ISSUER"] = "Kommunaler Spitzenverband Beispielland"
    event = create_event(client, capacity=3, certificate=CERTIFICATE, reminders=[])
    assert event["certificate"] == CERTIFICATE
    juergen = register(
        client, event["id"], "juergen@example.org", name="Jürgen Weiß", organization="Stadt Großröhrsdorf"
    ).get_json()
    emma = register(client, event["id"], "emma@example.org", name="Emma Evans", language="en").get_json()
    absent = register(client, event["id"], "absent@example.org", name="Bernd Bussard").get_json()
    waiting = register(client, event["id"], "waiting@example.org").get_json()
    for made in (juergen, emma):
        assert client.post(f"/api/v1/admin/registrations/{made['id']}/checkin", headers=ADMIN).status_code == 200
    url = f"/api/v1/registrations/{juergen['token']}/certificate.pdf"
    assert client.get(url).status_code == 404  # not before the end

    clock.set(EVENT_END)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = read(response.data)
    assert_accessible(reader, "de")
    text = text_of(reader)
    number = re.search(r"Bescheinigungsnummer: (\S+)", text).group(1)
    for expected in (
        "Teilnahmebescheinigung",
        "Jürgen Weiß, Stadt Großröhrsdorf",
        "Fachveranstaltung Standesamtswesen",
        "Mittwoch, 2. Dezember 2026, 09:00–16:00 Uhr",
        "Haus der Kommunen, Saal 2, Lindenstraße 1, 10969 Berlin",
        "6,5 Zeitstunden",
        "Namensrecht",
        "Digitale Beurkundung",
        "Dr. Maria Muster, Referatsleiterin",
        "Kommunaler Spitzenverband Beispielland",
    ):
        assert expected in text, expected
    english = text_of(read(client.get(f"/api/v1/registrations/{emma['token']}/certificate.pdf").data))
    assert "Certificate of attendance" in english and "Emma Evans" in english and "6.5 hours" in english
    assert "Wednesday, 2 December 2026" in english
    for nobody in (absent, waiting):
        assert client.get(f"/api/v1/registrations/{nobody['token']}/certificate.pdf").status_code == 404

    corrected = client.patch(
        f"/api/v1/admin/registrations/{juergen['id']}", json={"name": "Jürgen Weiße"}, headers=ADMIN
    )
    assert corrected.status_code == 200 and corrected.get_json()["name"] == "Jürgen Weiße"
    again = text_of(read(client.get(url).data))
    assert "Jürgen Weiße, Stadt Großröhrsdorf" in again and f"Bescheinigungsnummer: {number}" in again
    history = client.get(f"/api/v1/admin/registrations/{juergen['id']}/history", headers=ADMIN).get_json()
    assert history[-1]["reason"] == "corrected" and history[-1]["by"] == "organizer"

    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/api/v1/admin/events/{event['id']}/certificates.zip", headers=ADMIN).data)
    )
    names = sorted(archive.namelist())
    assert len(names) == 2 and names[0].startswith(number)
    numbers = {
        re.search(r"(?:Bescheinigungsnummer|Certificate number): (\S+)", text_of(read(archive.read(n)))).group(1)
        for n in names
    }
    assert len(numbers) == 2 and number in numbers  # one number per person
    assert client.get(f"/api/v1/admin/events/{event['id']}/certificates.zip").status_code == 401

    page = client.get(f"/r/{juergen['token']}").data.decode()
    assert (
        "Teilnahmebescheinigung (PDF)" in page and f"/api/v1/registrations/{juergen['token']}/certificate.pdf" in page
    )
    assert "Teilnahmebescheinigung" not in client.get(f"/r/{absent['token']}").data.decode()


def test_the_documentation_email_carries_the_certificate_link_to_those_who_came(mail_app, client, smtp, clock):
    event = create_event(client, capacity=2, certificate=CERTIFICATE, reminders=[])
    came = register(client, event["id"], "came@example.org").get_json()
    register(client, event["id"], "absent@example.org")
    client.post(f"/api/v1/admin/registrations/{came['id']}/checkin", headers=ADMIN)
    assert upload(client, event["id"]).status_code == 201
    clock.set(EVENT_END + timedelta(hours=2))
    tick(mail_app)
    documentation = {
        m["To"].addresses[0].addr_spec: m for m in smtp.messages if m["X-Eventsvc-Kind"] == "documentation"
    }
    text = parts(documentation["came@example.org"])["text/plain"].get_content()
    link = re.search(r"https://events\.example\.org/api/v1/registrations/\S+/certificate\.pdf", text).group(0)
    assert "certificate.pdf" in parts(documentation["came@example.org"])["text/html"].get_content()
    assert client.get(path_of(link)).status_code == 200
    assert "certificate" not in parts(documentation["absent@example.org"])["text/plain"].get_content()
    assert links_in(documentation["absent@example.org"])  # the documents still go to everyone confirmed


def test_no_certificates_without_the_events_settings(client, clock):
    event = create_event(client, reminders=[])
    made = register(client, event["id"], "a@example.org").get_json()
    client.post(f"/api/v1/admin/registrations/{made['id']}/checkin", headers=ADMIN)
    clock.set(EVENT_END)
    assert client.get(f"/api/v1/registrations/{made['token']}/certificate.pdf").status_code == 404
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/api/v1/admin/events/{event['id']}/certificates.zip", headers=ADMIN).data)
    )
    assert archive.namelist() == []
    for wrong in ({"hours": 0, "signer": "X"}, {"hours": 2}, {"hours": 2, "signer": "X", "topics": [""]}):
        refused = client.patch(f"/api/v1/admin/events/{event['id']}", json={"certificate": wrong}, headers=ADMIN)
        assert refused.status_code == 422, wrong


def test_the_sign_in_sheet_lists_everyone_confirmed_by_surname_without_addresses(client):
    event = create_event(client, capacity=40, title="Fachtag Meldewesen")
    names = [f"Person Nachname{i:02d}" for i in range(30)] + ["Zoe Ärmel", "Anton Zander", "Ida Öztürk"]
    for i, name in enumerate(names):
        register(client, event["id"], f"p{i}@example.org", name=name, organization=f"Gemeinde {i}")
    cancelled = register(client, event["id"], "gone@example.org", name="Gustav Gone").get_json()
    client.delete(f"/api/v1/registrations/{cancelled['token']}")
    response = client.get(f"/api/v1/admin/events/{event['id']}/attendance-sheet.pdf", headers=ADMIN)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = read(response.data)
    assert_accessible(reader, "de")
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert page.mediabox.width > page.mediabox.height  # landscape
        page_text = page.extract_text()
        assert "Teilnahmeliste: Fachtag Meldewesen" in page_text and "Mittwoch, 2. Dezember 2026" in page_text
    text = text_of(reader)
    assert "@" not in text and "Gustav Gone" not in text and "Unterschrift" in text
    order = [
        text.index(name)
        for name in ("Zoe Ärmel", "Person Nachname00", "Person Nachname29", "Ida Öztürk", "Anton Zander")
    ]
    assert order == sorted(order)
    assert "Gemeinde 31" in text
    assert f"{len(names) + 10}" in text  # ten numbered blank rows for people who come unannounced
    assert len(registrations(client, event["id"], "confirmed")) == len(names)
    assert client.get(f"/api/v1/admin/events/{event['id']}/attendance-sheet.pdf").status_code == 401

"""The console's pages of the third wave, over HTTP: organizations, the report with its
charts, CSV and PDF, the series page, feedback results, undeliverable addresses, the
interest list, and the event log in words."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from tests.conftest import T0
from tests.helpers import ADMIN, create_event, register, registrations

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "organizations-sample.csv"


def test_organizations_are_imported_and_listed_in_the_console(organizer_client):
    client = organizer_client
    page = client.get("/admin/organizations")
    assert page.status_code == 200 and "Importieren" in page.data.decode()
    done = client.post(
        "/admin/organizations",
        data={"file": (io.BytesIO(SAMPLE.read_bytes()), "orgs.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    listed = client.get("/admin/organizations").data.decode()
    assert "Landkreis Bautzen" in listed and "14625000" in listed
    bad = b"key,name,kind,region,member,email_domains\nx y,A,stadt,,true,\n"
    refused = client.post(
        "/admin/organizations", data={"file": (io.BytesIO(bad), "bad.csv")}, content_type="multipart/form-data"
    )
    assert refused.status_code == 422 and "rows.1" in refused.data.decode()
    assert len(client.get("/api/v1/admin/organizations", headers=ADMIN).get_json()) == 8


def test_the_report_page_with_charts_tables_csv_and_pdf(organizer_client, clock):
    client = organizer_client
    event = create_event(client, capacity=3, roles=["Bürgermeister/in", "Amtsleiter/in"], series="standesamt")
    for n, role in enumerate(["Bürgermeister/in", "Bürgermeister/in", "Amtsleiter/in", "Amtsleiter/in"]):
        register(client, event["id"], f"p{n}@example.org", role=role)
    page = client.get(f"/admin/events/{event['id']}/report").data.decode()
    assert "3 Angemeldete aus 1 Organisation, darunter 2 Bürgermeisterinnen und Bürgermeister." in page
    assert f"/admin/events/{event['id']}/report/roles.svg" in page and "<caption>" in page
    chart = client.get(f"/admin/events/{event['id']}/report/roles.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml" and b"<svg" in chart.data
    assert "script-src" not in chart.headers["Content-Security-Policy"]
    seats = client.get(f"/admin/events/{event['id']}/report/seats.svg")
    assert seats.status_code == 200 and b"<svg" in seats.data
    csv_text = client.get(f"/admin/events/{event['id']}/report.csv").data.decode("utf-8-sig")
    assert "role;Bürgermeister/in;2;;0" in csv_text
    report_pdf = client.get(f"/admin/events/{event['id']}/report.pdf")
    assert report_pdf.status_code == 200 and report_pdf.mimetype == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(report_pdf.data)).pages).split())
    assert "Bürgermeisterinnen und Bürgermeister" in text and "Nach Funktion" in text
    series = client.get("/admin/series/standesamt").data.decode()
    assert event["title"] in series
    assert client.get("/admin/series/Not-A-Key").status_code == 404


def test_feedback_results_bounces_and_the_interest_list_in_the_console(organizer_client, app, clock):
    client = organizer_client
    feedback = {"questions": [{"key": "overall", "label": "Gesamt", "type": "rating"}]}
    event = create_event(client, capacity=3, feedback=feedback, series="standesamt")
    assert client.get(f"/admin/events/{event['id']}/feedback").status_code == 200
    assert client.get(f"/admin/events/{event['id']}/feedback/overall.svg").status_code == 200
    plain = create_event(client)
    assert client.get(f"/admin/events/{plain['id']}/feedback").status_code == 404
    from eventsvc.db import unit_of_work
    from eventsvc.domain import bounces

    with unit_of_work() as session:
        bounces.mark_undeliverable(session, "gone@example.org", "550 5.1.1 user unknown", "dsn", T0)
    page = client.get("/admin/bounces").data.decode()
    assert "gone@example.org" in page and "550 5.1.1" in page
    assert client.post("/admin/bounces/lift", data={"email": "gone@example.org"}).status_code == 303
    assert client.get("/api/v1/admin/bounces", headers=ADMIN).get_json() == []
    client.post("/api/v1/series/standesamt/interest", json={"name": "Ina", "email": "ina@example.org", "consent": True})
    from eventsvc.domain.models import InterestEntry

    with unit_of_work() as session:
        session.query(InterestEntry).update({"confirmed_at": T0})
    listed = client.get("/admin/series/standesamt/interest").data.decode()
    assert "ina@example.org" in listed
    exported = client.get("/admin/series/standesamt/interest?format=csv").data.decode("utf-8-sig")
    assert "ina@example.org" in exported


def test_the_event_log_speaks_in_words_and_answers_show_their_labels(organizer_client):
    client = organizer_client
    event = create_event(
        client,
        status="draft",
        questions=[
            {
                "key": "diet",
                "label": {"de": "Ernährung", "en": "Diet"},
                "type": "choice",
                "options": ["vegetarisch", "vegan"],
            }
        ],
    )
    client.post(f"/admin/events/{event['id']}/publish")
    register(client, event["id"], "a@example.org", answers={"diet": "vegan"})
    page = client.get(f"/admin/events/{event['id']}").data.decode()
    assert "veröffentlicht" in page and "event_published" not in page
    assert "Ernährung: vegan" in page and "diet: vegan" not in page
    assert registrations(client, event["id"])[0]["answers"] == {"diet": "vegan"}

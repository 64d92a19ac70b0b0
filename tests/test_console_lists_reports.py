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


def test_the_event_form_edits_contingents_roles_series_sessions_and_feedback(organizer_client):
    from tests.test_console import EVENT_FORM

    client = organizer_client
    form = EVENT_FORM | {
        "organization_limit": "2",
        "members_first_until": "2026-11-20T12:00",
        "roles": "Bürgermeister/in\nAmtsleiter/in",
        "series": "standesamt",
        "sessions": "ag1 | AG Standesamt | 13:00-15:00 | 20 | Raum 1\nag2 | AG Bauhof | 13:00-15:00 | 15 |",
        "feedback_questions": "overall | rating | Gesamteindruck\nthemen | multi | Beste Themen | Recht, Praxis",
        "feedback_send_hours": "2",
        "feedback_remind_days": "7",
        "feedback_close_days": "21",
    }
    assert client.post("/admin/events/new", data=form).status_code == 303
    event = client.get("/api/v1/admin/events", headers=ADMIN).get_json()[-1]
    assert event["organization_limit"] == 2 and event["members_first_until"].startswith("2026-11-20T12:00")
    assert event["roles"] == ["Bürgermeister/in", "Amtsleiter/in"] and event["series"] == "standesamt"
    assert [(s["key"], s["capacity"], s["location"]) for s in event["sessions"]] == [
        ("ag1", 20, "Raum 1"),
        ("ag2", 15, None),
    ]
    assert event["sessions"][0]["starts_at"].startswith("2026-12-03T13:00")
    assert [q["type"] for q in event["feedback"]["questions"]] == ["rating", "multi"]
    assert event["feedback"]["closes_after"] == "P21D"
    edit = client.get(f"/admin/events/{event['id']}/edit").data.decode()
    assert "ag1 | AG Standesamt | 13:00-15:00 | 20 | Raum 1" in edit and "overall | rating | Gesamteindruck" in edit
    broken = form | {"sessions": "ag1 | AG | spät | 20"}
    refused = client.post("/admin/events/new", data=broken)
    assert "Zeile 1" in refused.data.decode() and len(client.get("/api/v1/admin/events", headers=ADMIN).get_json()) == 1
    client.post(f"/admin/events/{event['id']}/duplicate")
    copy = client.get("/api/v1/admin/events", headers=ADMIN).get_json()[-1]
    assert copy["roles"] == event["roles"] and copy["organization_limit"] == 2 and len(copy["sessions"]) == 2

"""The report after the event: every count on a constructed event, the press sentence at
its boundaries, roles as a choice, the CSV, the series report, and counts past retention."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from eventsvc.domain.report import roughly, summary
from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, register, registrations

ROLES = ["Bürgermeister/in", "Amtsleiter/in", "Standesbeamte"]
ORGS = {
    "organizations": [
        {
            "key": "14612000",
            "name": "Dresden",
            "kind": "stadt",
            "region": "Dresden",
            "member": True,
            "email_domains": ["dresden.de"],
        },
        {
            "key": "14713000",
            "name": "Leipzig",
            "kind": "stadt",
            "region": "Leipzig",
            "member": True,
            "email_domains": ["leipzig.de"],
        },
        {
            "key": "14625000",
            "name": "Landkreis Bautzen",
            "kind": "landkreis",
            "region": "Bautzen",
            "member": True,
            "email_domains": ["lra-bautzen.de"],
        },
    ]
}


def report(client, event_id, **query):
    response = client.get(f"/api/v1/admin/events/{event_id}/report", query_string=query, headers=ADMIN)
    assert response.status_code == 200
    return response


def constructed(client):
    """Capacity 4: seven people, five through the waitlist's door, two cancellations, three checked in."""
    client.put("/api/v1/admin/organizations", json=ORGS, headers=ADMIN)
    event = create_event(client, capacity=4, roles=ROLES, series="standesamt")
    people = [
        ("a@dresden.de", "Bürgermeister/in"),
        ("b@dresden.de", "Amtsleiter/in"),
        ("c@leipzig.de", "Bürgermeister/in"),
        ("d@lra-bautzen.de", "Standesbeamte"),
        ("e@leipzig.de", "Bürgermeister/in"),  # waitlisted, then promoted
        ("f@gmail.example", None),  # waitlisted, then cancels
        ("g@dresden.de", "Amtsleiter/in"),  # waitlisted, stays
    ]
    made = {}
    for email, role in people:
        extra = {"role": role} if role else {"organization": None}
        response = register(client, event["id"], email, **extra)
        assert response.status_code == 201, response.get_json()
        made[email] = response.get_json()
    client.delete(f"/api/v1/registrations/{made['b@dresden.de']['token']}")  # e moves up
    client.delete(f"/api/v1/registrations/{made['f@gmail.example']['token']}")
    ids = {row["email"]: row["id"] for row in registrations(client, event["id"])}
    for email in ("a@dresden.de", "c@leipzig.de", "e@leipzig.de"):
        assert client.post(f"/api/v1/admin/registrations/{ids[email]}/checkin", headers=ADMIN).status_code == 200
    return event


def test_every_count_of_a_constructed_event(client):
    event = constructed(client)
    figures = report(client, event["id"]).get_json()
    assert {
        name: figures[name]
        for name in (
            "registered",
            "confirmed",
            "attended",
            "no_shows",
            "cancelled",
            "waitlisted_ever",
            "organizations_attended",
        )
    } == {
        "registered": 7,
        "confirmed": 4,
        "attended": 3,
        "no_shows": 1,
        "cancelled": 2,
        "waitlisted_ever": 3,
        "organizations_attended": 2,
    }
    assert figures["by_role"] == [
        {"role": "Bürgermeister/in", "registered": 3, "attended": 3},
        {"role": "Amtsleiter/in", "registered": 2, "attended": 0},
        {"role": "Standesbeamte", "registered": 1, "attended": 0},
        {"role": None, "registered": 1, "attended": 0},
    ]
    assert figures["by_kind"] == [
        {"kind": "stadt", "registered": 5, "attended": 3},
        {"kind": "landkreis", "registered": 1, "attended": 0},
        {"kind": None, "registered": 1, "attended": 0},
    ]
    assert {entry["region"]: (entry["registered"], entry["attended"]) for entry in figures["by_region"]} == {
        "Dresden": (3, 1),
        "Leipzig": (2, 2),
        "Bautzen": (1, 0),
        None: (1, 0),
    }
    assert figures["sessions"] == []
    assert figures["summary"] == {
        "de": "3 Teilnehmende aus 2 Kommunen, darunter 3 Bürgermeisterinnen und Bürgermeister.",
        "en": "3 participants from 2 municipalities, including 3 in the role Bürgermeister/in.",
    }


def test_before_anyone_is_checked_in_the_sentence_counts_the_confirmed(client):
    event = create_event(client, capacity=10)
    register(client, event["id"], "a@example.org")
    assert report(client, event["id"]).get_json()["summary"]["de"] == "1 angemeldete Person aus 1 Organisation."


@pytest.mark.parametrize(
    ("number", "expected"),
    [(7, "7"), (19, "19"), (20, "20"), (21, "mehr als 20"), (160, "160"), (163, "mehr als 160"), (169, "mehr als 160")],
)
def test_mehr_als_only_when_it_is_more(number, expected):
    assert roughly(number)[0] == expected


def test_the_sentence_at_its_boundaries():
    assert summary(163, 94, True, ("Bürgermeister/in", 71))["de"] == (
        "Mehr als 160 Teilnehmende aus 94 Kommunen, darunter 71 Bürgermeisterinnen und Bürgermeister."
    )
    assert summary(120, 1, True, None, municipal=False)["en"] == "120 participants from 1 organization."
    assert summary(1, 0, False, None)["de"] == "1 angemeldete Person."


def test_roles_are_a_choice_when_the_event_names_them(client):
    event = create_event(client, roles=ROLES)
    refused = register(client, event["id"], "x@example.org", role="Hausmeister")
    assert refused.status_code == 422 and "role" in refused.get_json()["errors"]
    assert register(client, event["id"], "y@example.org", role="Amtsleiter/in").status_code == 201
    page = client.get(f"/events/{event['id']}").data.decode()
    assert "<select" in page and "Amtsleiter/in" in page
    free = create_event(client)
    assert register(client, free["id"], "z@example.org", role="Hausmeister").status_code == 201


def test_the_csv_has_every_table(client):
    event = constructed(client)
    text = report(client, event["id"], format="csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["table", "group", "registered", "confirmed", "attended"]
    assert ["total", "registered", "7", "", ""] in rows
    assert ["role", "Bürgermeister/in", "3", "", "3"] in rows
    assert ["kind", "landkreis", "1", "", "0"] in rows
    assert ["region", "Leipzig", "2", "", "2"] in rows


def test_the_series_report_and_counts_past_retention(app, client, clock):
    first = constructed(client)
    later = create_event(
        client,
        series="standesamt",
        starts_at=(T0 + timedelta(days=60)).isoformat(),
        ends_at=(T0 + timedelta(days=60, hours=6)).isoformat(),
    )
    register(client, later["id"], "n@example.org")
    create_event(client, series="standesamt", status="draft")
    found = client.get("/api/v1/admin/series/standesamt/report", headers=ADMIN).get_json()
    assert found["series"] == "standesamt"
    assert [(e["id"], e["registered"], e["attended"], e["waitlisted_ever"]) for e in found["events"]] == [
        (first["id"], 7, 3, 3),
        (later["id"], 1, 0, 0),
    ]
    before = report(client, first["id"]).get_json()
    clock.set(T0 + timedelta(days=31 + 366))
    tick(app)
    assert all(row["anonymised"] for row in registrations(client, first["id"]))
    assert report(client, first["id"]).get_json() == before

"""Member organizations and contingents: the import, matching a person, limits per
organization, members first, and the release of seats when a window ends."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from eventsvc.db import unit_of_work
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.registrations import Applicant
from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, iso, parts, register, registrations

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "organizations-sample.csv"

ORGS = {
    "organizations": [
        {
            "key": "14612000",
            "name": "Landeshauptstadt Dresden",
            "kind": "stadt",
            "region": "Dresden",
            "member": True,
            "email_domains": ["dresden.de"],
        },
        {
            "key": "14713000",
            "name": "Stadt Leipzig",
            "kind": "stadt",
            "region": "Leipzig",
            "member": True,
            "email_domains": ["leipzig.de"],
        },
        {
            "key": "14730010",
            "name": "Gemeinde Arzberg",
            "kind": "gemeinde",
            "region": "Nordsachsen",
            "member": False,
            "email_domains": ["arzberg.example"],
        },
    ]
}


def import_orgs(client, body=ORGS):
    return client.put("/api/v1/admin/organizations", json=body, headers=ADMIN)


def test_import_is_idempotent_never_deletes_and_names_a_bad_row(client):
    first = import_orgs(client)
    assert first.status_code == 200 and first.get_json() == {"created": 3, "updated": 0, "unchanged": 0}
    assert import_orgs(client).get_json() == {"created": 0, "updated": 0, "unchanged": 3}
    renamed = {"organizations": [dict(ORGS["organizations"][0], name="Dresden")]}
    assert import_orgs(client, renamed).get_json() == {"created": 0, "updated": 1, "unchanged": 0}
    assert len(client.get("/api/v1/admin/organizations", headers=ADMIN).get_json()) == 3  # nothing deleted
    bad = {"organizations": [ORGS["organizations"][1], dict(ORGS["organizations"][2], kind="dorf", key="x y")]}
    refused = import_orgs(client, bad)
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["rows.2"]
    assert import_orgs(client, {"organizations": "x"}).status_code == 422
    assert client.put("/api/v1/admin/organizations", json=ORGS).status_code == 401


def test_csv_import_of_the_sample_and_the_public_look_up(client):
    response = client.put(
        "/api/v1/admin/organizations", data=SAMPLE.read_bytes(), headers=ADMIN, content_type="text/csv"
    )
    assert response.status_code == 200 and response.get_json()["created"] == 8
    found = client.get("/api/v1/organizations?q=bautzen").get_json()
    assert found == [{"key": "14625000", "name": "Landkreis Bautzen"}, {"key": "14625020", "name": "Stadt Bautzen"}]
    assert client.get("/api/v1/organizations?q=1461").get_json() == [
        {"key": "14612000", "name": "Landeshauptstadt Dresden"}
    ]
    assert client.get("/api/v1/organizations?q=%25").get_json() == []  # a wildcard is a character
    broken = "key,name,kind,region,member,email_domains\n1,A,stadt,,true,a.example\n2,B,stadt,,vielleicht,b.example\n"
    refused = client.put("/api/v1/admin/organizations", data=broken, headers=ADMIN, content_type="text/csv")
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["rows.2"]
    assert len(client.get("/api/v1/admin/organizations", headers=ADMIN).get_json()) == 8  # nothing stored


def test_a_person_is_matched_by_key_or_by_domain_and_parent_domain(client):
    import_orgs(client)
    event = create_event(client, capacity=10)
    by_domain = register(client, event["id"], "amt@standesamt.dresden.de", organization=None).get_json()
    assert by_domain["organization_key"] == "14612000"
    assert by_domain["organization"] == "Landeshauptstadt Dresden"
    chosen = register(client, event["id"], "x@gmail.example", organization_key="14713000").get_json()
    assert chosen["organization_key"] == "14713000"
    nobody = register(client, event["id"], "y@gmail.example").get_json()
    assert nobody["organization_key"] is None and nobody["organization"] == "Stadt Musterstadt"
    unknown = register(client, event["id"], "z@gmail.example", organization_key="99999999")
    assert unknown.status_code == 422 and "organization_key" in unknown.get_json()["errors"]
    listed = {row["email"]: row["organization_key"] for row in registrations(client, event["id"])}
    assert listed["amt@standesamt.dresden.de"] == "14612000" and "z@gmail.example" not in listed


def test_the_limit_waitlists_a_town_that_holds_it_and_promotion_passes_over_it(client):
    import_orgs(client)
    event = create_event(client, capacity=3, organization_limit=1)
    first = register(client, event["id"], "a@dresden.de").get_json()
    second = register(client, event["id"], "b@dresden.de").get_json()
    assert first["status"] == "confirmed" and first["waitlist_reason"] is None
    assert second["status"] == "waitlisted" and second["waitlist_reason"] == "organization_limit"
    assert second["waitlist_position"] == 1
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    assert shown["seats_left"] == 2 and shown["next_registration"] == "confirmed"
    third = register(client, event["id"], "c@leipzig.de").get_json()
    alone = register(client, event["id"], "d@gmail.example").get_json()
    assert third["status"] == "confirmed" and alone["status"] == "confirmed"
    full = register(client, event["id"], "e@gmail.example").get_json()
    assert full["status"] == "waitlisted" and full["waitlist_reason"] == "full" and full["waitlist_position"] == 2
    # Leipzig's seat frees: the Dresden colleague waits longest but Dresden holds its limit.
    client.delete(f"/api/v1/registrations/{third['token']}")
    statuses = {row["email"]: row["status"] for row in registrations(client, event["id"])}
    assert statuses["b@dresden.de"] == "waitlisted" and statuses["e@gmail.example"] == "confirmed"
    # Dresden's own seat frees: the colleague moves up.
    client.delete(f"/api/v1/registrations/{first['token']}")
    assert {row["email"]: row["status"] for row in registrations(client, event["id"])}["b@dresden.de"] == "confirmed"


def test_a_batch_of_colleagues_is_checked_against_the_limit_in_list_order(client):
    import_orgs(client)
    event = create_event(client, capacity=10, organization_limit=2)
    people = [{"name": f"P{n}", "email": f"p{n}@dresden.de", "consent": True} for n in range(4)]
    made = client.post(f"/api/v1/events/{event['id']}/registrations/batch", json={"people": people}).get_json()
    assert [(r["status"], r["waitlist_reason"]) for r in made["registrations"]] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", "organization_limit"),
        ("waitlisted", "organization_limit"),
    ]
    # A substitute from the same town takes the seat over without counting twice.
    substitute = {"name": "S", "email": "s@dresden.de", "consent": True}
    moved = client.post(f"/api/v1/registrations/{made['registrations'][0]['token']}/transfer", json=substitute)
    assert moved.status_code == 201 and moved.get_json()["status"] == "confirmed"
    statuses = [row["status"] for row in registrations(client, event["id"])]
    assert statuses.count("confirmed") == 2


def test_members_first_then_the_free_seats_go_to_the_waitlist_within_one_tick(app, client, clock):
    import_orgs(client)
    until = T0 + timedelta(days=2)
    event = create_event(client, capacity=2, members_first_until=iso(until), waitlist_mode="offer")
    guest = register(client, event["id"], "g@arzberg.example").get_json()
    outsider = register(client, event["id"], "o@gmail.example").get_json()
    member = register(client, event["id"], "m@leipzig.de").get_json()
    assert (guest["status"], guest["waitlist_reason"]) == ("waitlisted", "members_first")
    assert (outsider["status"], outsider["waitlist_reason"]) == ("waitlisted", "members_first")
    assert member["status"] == "confirmed"
    tick(app, until - timedelta(minutes=1))
    assert [r["status"] for r in registrations(client, event["id"])] == ["waitlisted", "waitlisted", "confirmed"]
    clock.set(until + timedelta(seconds=1))
    tick(app, until + timedelta(seconds=1))
    rows = registrations(client, event["id"])
    assert [r["status"] for r in rows] == ["offered", "waitlisted", "confirmed"]  # offer mode: one offer
    assert rows[1]["waitlist_position"] == 1


def test_the_release_lifts_the_limit_within_one_tick(app, client, clock):
    import_orgs(client)
    release = T0 + timedelta(days=3)
    event = create_event(client, capacity=5, organization_limit=1, contingents_release_at=iso(release))
    for n in range(3):
        register(client, event["id"], f"p{n}@dresden.de")
    assert [r["status"] for r in registrations(client, event["id"])] == ["confirmed", "waitlisted", "waitlisted"]
    clock.set(release)
    assert tick(app, release)["seats_after_windows"] == 2
    assert [r["status"] for r in registrations(client, event["id"])] == ["confirmed"] * 3
    refused = client.patch(f"/api/v1/admin/events/{event['id']}", json={"organization_limit": None}, headers=ADMIN)
    assert refused.status_code == 422 and "contingents_release_at" in refused.get_json()["errors"]


def test_a_rush_of_one_town_never_passes_its_limit(app):
    """Twenty colleagues of one town at once, each through their own unit of work."""
    from tests.helpers import create_event as make

    client = app.test_client()
    import_orgs(client)
    event = make(client, capacity=50, organization_limit=3)
    barrier = threading.Barrier(10)

    def one(n: int) -> None:
        barrier.wait()
        with app.app_context(), unit_of_work() as session:
            registration_service.register(session, event["id"], Applicant(name=f"P{n}", email=f"p{n}@dresden.de"), T0)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = registrations(client, event["id"])
    assert len(rows) == 10
    assert sum(row["status"] == "confirmed" for row in rows) == 3


def test_the_form_suggests_organizations_and_a_chosen_name_is_that_organization(client):
    import_orgs(client)
    event = create_event(client, capacity=5)
    page = client.get(f"/events/{event['id']}").data.decode()
    assert 'list="organization-names"' in page and '<option value="Stadt Leipzig">' in page
    form = {"name": "Lea", "email": "lea@gmail.example", "organization": "stadt leipzig", "consent": "y"}
    assert client.post(f"/events/{event['id']}", data=form).status_code == 303
    [row] = registrations(client, event["id"])
    assert row["organization_key"] == "14713000"


def test_a_release_at_the_same_instant_as_cancellations_gives_each_seat_once(app, clock):
    """The tick that ends the limit and people cancelling, each in its own unit of work, at once."""
    client = app.test_client()
    import_orgs(client)
    release = T0 + timedelta(days=3)
    event = create_event(client, capacity=5, organization_limit=1, contingents_release_at=iso(release))
    made = [register(client, event["id"], f"p{n}@dresden.de").get_json() for n in range(4)]
    made += [register(client, event["id"], f"q{n}@leipzig.de").get_json() for n in range(4)]
    # Dresden and Leipzig hold one seat each; six colleagues wait behind the limit.
    clock.set(release)
    barrier = threading.Barrier(3)

    def run_tick() -> None:
        barrier.wait()
        tick(app, release)

    def cancel(token: str) -> None:
        barrier.wait()
        client.delete(f"/api/v1/registrations/{token}")

    threads = [
        threading.Thread(target=run_tick),
        threading.Thread(target=cancel, args=(made[0]["token"],)),
        threading.Thread(target=cancel, args=(made[4]["token"],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tick(app, release)
    rows = registrations(client, event["id"])
    assert sum(r["status"] == "confirmed" for r in rows) == 5  # every seat taken, none twice
    assert sum(r["status"] == "cancelled" for r in rows) == 2
    assert [r["waitlist_position"] for r in rows if r["status"] == "waitlisted"] == [1]


def test_the_form_tells_before_submitting_what_a_town_holding_its_limit_gets(client):
    import_orgs(client)
    release = T0 + timedelta(days=3)
    event = create_event(client, capacity=10, organization_limit=2, contingents_release_at=iso(release))
    register(client, event["id"], "a@dresden.de")
    register(client, event["id"], "b@dresden.de")
    page = client.get(f"/events/{event['id']}").data.decode()
    assert 'value="check"' in page  # the check works without JavaScript: it is a submit button
    asked = {"name": "C", "email": "c@gmail.example", "organization": "Landeshauptstadt Dresden", "action": "check"}
    told = client.post(f"/events/{event['id']}", data=asked).data.decode()
    assert "Für Landeshauptstadt Dresden sind bereits 2 Plätze vergeben: Sie kommen auf die Warteliste." in told
    assert "Am Donnerstag, 5. November 2026" in told and ">Auf die Warteliste</button>" in told
    assert len(registrations(client, event["id"])) == 2  # checking registers nobody
    other = client.post(f"/events/{event['id']}", data=asked | {"organization": "Stadt Leipzig"}).data.decode()
    assert "Für Stadt Leipzig sind 0 von höchstens 2 Plätzen vergeben: Sie erhalten einen Platz." in other
    assert ">Verbindlich anmelden</button>" in other
    # The same answer the registration then gets.
    made = register(client, event["id"], "c@dresden.de").get_json()
    assert (made["status"], made["waitlist_reason"]) == ("waitlisted", "organization_limit")


def test_the_waitlisted_email_and_the_manage_page_say_why_and_when_more_is_known(mail_app, client, smtp):
    import_orgs(client)
    release = T0 + timedelta(days=3)
    event = create_event(client, capacity=10, organization_limit=1, contingents_release_at=iso(release))
    register(client, event["id"], "a@dresden.de")
    waiting = register(client, event["id"], "b@dresden.de", language="en").get_json()
    tick(mail_app)
    [email] = [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "waitlisted"]
    text = parts(email)["text/plain"].get_content()
    assert "Landeshauptstadt Dresden already holds 1 seats – the most any organization may hold." in text
    assert "On Thursday, 5 November 2026" in text and "the free seats go to the waiting list" in text
    assert "fully booked" not in text
    page = client.get(f"/r/{waiting['token']}", headers={"Accept-Language": "de"}).data.decode()
    assert "Für Landeshauptstadt Dresden sind bereits 1 Plätze vergeben" in page
    assert "gehen die freien Plätze der Reihe nach an die Warteliste" in page

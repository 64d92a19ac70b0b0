"""A series' interest list: double opt-in, the announcement of a new event, leaving in one
click, the pages, the person's data and erasure, and the removal of stale entries."""

from __future__ import annotations

import re
from datetime import timedelta

from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, register


def join(client, email="ina@example.org", series="standesamt", **extra):
    body = {"name": "Ina Interessiert", "email": email, "consent": True, **extra}
    return client.post(f"/api/v1/series/{series}/interest", json=body)


def link_in(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https://events\.example\.org(/" + path + r"[^\s]*)", text).group(1)


def test_double_opt_in_with_the_same_answer_for_known_and_unknown_addresses(mail_app, smtp, clock):
    client = mail_app.test_client()
    first, again = join(client), join(client)
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json() == {"status": "accepted"}
    assert join(client, consent=False).status_code == 422
    assert join(client, series="Not A Key").status_code == 404
    tick(mail_app)
    confirms = [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "interest-confirm"]
    assert len(confirms) == 1  # at most one a day
    assert confirms[0]["Auto-Submitted"] == "auto-generated"
    page = link_in(confirms[0], "interest/")
    token = page.rsplit("/", 1)[1]
    assert client.get(page).status_code == 200  # opening the link changes nothing
    listed = client.get("/api/v1/admin/series/standesamt/interest", headers=ADMIN).get_json()
    assert listed == {"confirmed": 0, "entries": []}
    assert client.post(f"/api/v1/interest/{token}/confirm").status_code == 200
    assert client.post("/api/v1/interest/unknown-token-aaaaaaaa/confirm").status_code == 404
    listed = client.get("/api/v1/admin/series/standesamt/interest", headers=ADMIN).get_json()
    assert listed["confirmed"] == 1 and listed["entries"][0]["email"] == "ina@example.org"
    assert set(listed["entries"][0]) == {"email", "name", "language", "confirmed_at"}
    clock.set(T0 + timedelta(days=1, minutes=1))
    join(client)
    tick(mail_app)
    assert len([m for m in smtp.messages if m["X-Eventsvc-Kind"] == "interest-confirm"]) == 1  # confirmed already


def test_publishing_an_event_of_the_series_tells_each_confirmed_address_once(mail_app, smtp):
    client = mail_app.test_client()
    for email in ("a@example.org", "b@example.org", "unconfirmed@example.org"):
        join(client, email=email, language="en" if email.startswith("b") else "de")
    tick(mail_app)
    for message in smtp.messages:
        if message["To"].addresses[0].addr_spec != "unconfirmed@example.org":
            token = link_in(message, "interest/").rsplit("/", 1)[1]
            client.post(f"/api/v1/interest/{token}/confirm")
    event = create_event(client, series="standesamt", status="draft")
    client.patch(f"/api/v1/admin/events/{event['id']}", json={"title": "Neu"}, headers=ADMIN)
    client.patch(f"/api/v1/admin/events/{event['id']}", json={"status": "published"}, headers=ADMIN)
    client.patch(f"/api/v1/admin/events/{event['id']}", json={"capacity": 5}, headers=ADMIN)
    tick(mail_app)
    news = [m for m in smtp.messages if m["X-Eventsvc-Kind"] == "series-event"]
    assert sorted(m["To"].addresses[0].addr_spec for m in news) == ["a@example.org", "b@example.org"]
    english = next(m for m in news if m["To"].addresses[0].addr_spec == "b@example.org")
    assert english["Content-Language"] == "en"
    assert f"/events/{event['id']}" in english.get_body(("plain",)).get_content()
    unsubscribe = str(english["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith("<https://events.example.org/interest/") and unsubscribe.endswith("/leave>")
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # One click: a POST without any form token removes the address at once.
    path = unsubscribe[len("<https://events.example.org") : -1]
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    listed = client.get("/api/v1/admin/series/standesamt/interest", headers=ADMIN).get_json()
    assert [entry["email"] for entry in listed["entries"]] == ["a@example.org"]
    assert client.get(path).status_code == 200  # the page says it is done


def test_the_pages_offer_the_list_where_people_find_it(client, clock):
    event = create_event(client, series="standesamt", capacity=1)
    register(client, event["id"], "a@example.org")
    waiting = register(client, event["id"], "b@example.org").get_json()
    assert "/series/standesamt#interest" in client.get(f"/events/{event['id']}").data.decode()
    assert "/series/standesamt#interest" in client.get(f"/r/{waiting['token']}").data.decode()
    series_page = client.get("/series/standesamt").data.decode()
    assert event["title"] in series_page and 'name="email"' in series_page
    posted = client.post("/series/standesamt", data={"name": "Ina", "email": "ina@example.org", "consent": "y"})
    assert posted.status_code == 200 and "Postfach" in posted.data.decode()
    refused = client.post("/series/standesamt", data={"name": "Ina", "email": "no", "consent": "y"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.data.decode()


def test_the_persons_data_and_erasure_include_the_interest_list(client):
    join(client)
    person = client.get("/api/v1/admin/people", query_string={"email": "ina@example.org"}, headers=ADMIN).get_json()
    assert [entry["series"] for entry in person["interest"]] == ["standesamt"]
    assert person["interest"][0]["consented_at"]
    erased = client.delete("/api/v1/admin/people", query_string={"email": "ina@example.org"}, headers=ADMIN)
    assert erased.status_code == 200
    person = client.get("/api/v1/admin/people", query_string={"email": "ina@example.org"}, headers=ADMIN).get_json()
    assert person["interest"] == [] and person["registrations"] == []
    logged = client.get("/api/v1/admin/erasures", headers=ADMIN).get_json()
    assert [(e["series"], e["interest_entries"], e["reason"]) for e in logged] == [("standesamt", 1, "request")]
    assert "ina@example.org" not in str(logged)


def test_unconfirmed_entries_go_after_seven_days_and_stale_ones_after_the_retention(mail_app, smtp, clock):
    client = mail_app.test_client()
    join(client, email="late@example.org")
    join(client, email="kept@example.org")
    tick(mail_app)
    token = next(
        link_in(m, "interest/").rsplit("/", 1)[1]
        for m in smtp.messages
        if m["To"].addresses[0].addr_spec == "kept@example.org"
    )
    client.post(f"/api/v1/interest/{token}/confirm")
    clock.set(T0 + timedelta(days=7, minutes=1))
    assert tick(mail_app)["interest_entries_removed"] == 1
    assert client.get("/api/v1/admin/series/standesamt/interest", headers=ADMIN).get_json()["confirmed"] == 1
    clock.set(T0 + timedelta(days=731))
    assert tick(mail_app)["interest_entries_removed"] == 1
    assert client.get("/api/v1/admin/series/standesamt/interest", headers=ADMIN).get_json()["confirmed"] == 0
    logged = client.get("/api/v1/admin/erasures", headers=ADMIN).get_json()
    assert [(e["reason"], e["series"], e["interest_entries"]) for e in logged] == [("retention", "standesamt", 1)]


def test_the_waitlist_left_email_offers_the_interest_list(mail_app, smtp):
    client = mail_app.test_client()
    event = create_event(client, capacity=1, series="standesamt")
    register(client, event["id"], "a@example.org")
    waiting = register(client, event["id"], "b@example.org").get_json()
    client.delete(f"/api/v1/registrations/{waiting['token']}")
    tick(mail_app)
    left = next(m for m in smtp.messages if m["X-Eventsvc-Kind"] == "waitlist-left")
    assert "/series/standesamt#interest" in left.get_body(("plain",)).get_content()
    assert "/series/standesamt#interest" in left.get_body(("html",)).get_content()

"""Offers under real concurrency: several app instances (each with its own connections) on
one database, in threads, as several web processes and workers would be."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from eventsvc import create_app
from eventsvc.db import db
from eventsvc.domain.clock import SettableClock
from eventsvc.domain.models import OutboxMessage
from eventsvc.scheduler.jobs import materialise
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, register, registrations

pytestmark = pytest.mark.slow


def _instance(app_config, moment):
    """Another process's view of the service: its own app, engine and clock."""
    return create_app(app_config | {"CLOCK": SettableClock(moment)})


def _emails(app) -> Counter:
    with app.app_context():
        db.session.expire_all()
        return Counter((m.kind, m.registration_id) for m in db.session.query(OutboxMessage))


def _offers(client, event_id: int, count: int) -> list[dict]:
    made = [register(client, event_id, f"p{i}@example.org").get_json() for i in range(count + 1)]
    client.delete(f"/api/v1/registrations/{made[0]['token']}")  # frees the one seat...
    client.patch(f"/api/v1/admin/events/{event_id}", json={"capacity": count}, headers=ADMIN)  # ...and more
    return made[1:]


def test_accepting_races_the_expiry_and_each_offer_has_one_outcome(app, app_config, client):
    event = create_event(client, capacity=1, waitlist_mode="offer", offer_window="PT1H", reminders=[])
    offered = _offers(client, event["id"], 20)
    assert {r["status"] for r in registrations(client, event["id"], "offered")} == {"offered"}
    before, after = T0 + timedelta(minutes=59), T0 + timedelta(hours=1)
    accepting = _instance(app_config, before).test_client()
    expiring = _instance(app_config, after)

    def accept(person):
        return accepting.post(f"/api/v1/registrations/{person['token']}/accept").status_code

    with ThreadPoolExecutor(8) as pool:
        ticking = pool.submit(materialise, expiring)
        answers = list(pool.map(accept, offered))
        ticking.result()
    listed = {r["id"]: r for r in registrations(client, event["id"])}
    for person, answer in zip(offered, answers, strict=True):
        outcome = (listed[person["id"]]["status"], listed[person["id"]]["cancel_reason"])
        assert outcome in (("confirmed", None), ("cancelled", "offer_expired")), outcome
        assert (answer == 200) == (outcome == ("confirmed", None))
    emails = _emails(app)
    for person in offered:
        told = emails[("confirmation", person["id"])] + emails[("offer-expired", person["id"])]
        assert told == 1
    assert client.get(f"/api/v1/events/{event['id']}").get_json()["seats_taken"] <= 20


def test_two_declines_at_once_pass_the_seat_on_once(app, app_config, client):
    event = create_event(client, capacity=1, waitlist_mode="offer", reminders=[])
    first, second, third, fourth = (register(client, event["id"], f"p{i}@example.org").get_json() for i in range(4))
    client.delete(f"/api/v1/registrations/{first['token']}")
    clients = [_instance(app_config, T0).test_client() for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        answers = sorted(
            pool.map(lambda c: c.post(f"/api/v1/registrations/{second['token']}/decline").status_code, clients)
        )
    assert answers == [200, 409]
    statuses = [r["status"] for r in registrations(client, event["id"])]
    assert statuses == ["cancelled", "cancelled", "offered", "waitlisted"]
    assert _emails(app)[("offer", third["id"])] == 1 and _emails(app)[("offer", fourth["id"])] == 0


def test_two_workers_expire_the_same_offers_once(app, app_config, client):
    event = create_event(client, capacity=1, waitlist_mode="offer", offer_window="PT1H", reminders=[])
    offered = _offers(client, event["id"], 30)
    waiting = [register(client, event["id"], f"w{i}@example.org").get_json() for i in range(30)]
    workers = [_instance(app_config, T0 + timedelta(hours=2)) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        done = [result["offers_expired"] for result in pool.map(materialise, workers)]
    assert sum(done) == 30
    emails = _emails(app)
    assert all(emails[("offer-expired", person["id"])] == 1 for person in offered)
    assert all(emails[("offer", person["id"])] == 1 for person in waiting)
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    assert (shown["seats_taken"], shown["waitlist_length"]) == (30, 0)


def test_a_capacity_change_during_a_rush_never_overbooks(app, app_config, client):
    event = create_event(client, capacity=10, waitlist_mode="offer", reminders=[])
    instances = [_instance(app_config, T0).test_client() for _ in range(4)]

    def rush(i):
        return register(instances[i % 4], event["id"], f"r{i}@example.org").status_code

    def raise_capacity():  # one organizer, raising the capacity step by step during the rush
        return [
            instances[0]
            .patch(f"/api/v1/admin/events/{event['id']}", json={"capacity": capacity}, headers=ADMIN)
            .status_code
            for capacity in (11, 12, 13)
        ]

    with ThreadPoolExecutor(8) as pool:
        raising = pool.submit(raise_capacity)
        codes = list(pool.map(rush, range(100)))
        assert raising.result() == [200, 200, 200]
    assert set(codes) == {201}
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    listed = registrations(client, event["id"])
    holding = sum(r["status"] in ("confirmed", "offered") for r in listed)
    assert holding == shown["seats_taken"] == shown["capacity"] == 13
    positions = [r["waitlist_position"] for r in listed if r["status"] == "waitlisted"]
    assert positions == list(range(1, 88))

"""Work that falls due in bulk is done in bounded batches that resume on the next tick."""

from __future__ import annotations

from datetime import timedelta

from eventsvc.db import unit_of_work
from eventsvc.domain import waitlist
from tests.conftest import T0
from tests.helpers import create_event, register, registrations


def test_expired_offers_go_a_bounded_batch_at_a_time_and_the_rest_next_time(client, clock):
    event = create_event(client, capacity=3, waitlist_mode="offer", offer_window="PT1H")
    holders = [register(client, event["id"], f"h{n}@example.org").get_json() for n in range(3)]
    for n in range(6):
        register(client, event["id"], f"w{n}@example.org")
    for holder in holders:
        client.delete(f"/api/v1/registrations/{holder['token']}")
    assert [r["status"] for r in registrations(client, event["id"])].count("offered") == 3
    later = T0 + timedelta(hours=2)
    with unit_of_work() as session:
        assert waitlist.expire_offers(session, later, budget=2) == 2
    statuses = [r["status"] for r in registrations(client, event["id"])]
    assert statuses.count("cancelled") == 5 and statuses.count("offered") == 3  # 2 expired, 2 new offers, 1 left
    with unit_of_work() as session:
        assert waitlist.expire_offers(session, later, budget=2) == 1
    with unit_of_work() as session:
        assert waitlist.expire_offers(session, later, budget=2) == 0
    statuses = [r["status"] for r in registrations(client, event["id"])]
    assert statuses.count("offered") == 3 and statuses.count("waitlisted") == 0 and statuses.count("cancelled") == 6

"""Many people, one seat count: the rush on a popular event, through two gunicorn workers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import ADMIN, event_payload, on_the_real_clock
from tests.processes import free_port, gunicorn, service_env


@pytest.mark.slow
def test_200_simultaneous_registrations_for_50_seats(app, database_url, tmp_path):
    port = free_port()
    env = service_env(database_url, tmp_path / "instance")
    with gunicorn(env, port, tmp_path / "gunicorn.log") as base:
        created = requests.post(
            f"{base}/api/v1/admin/events", json=event_payload(starts=on_the_real_clock(), capacity=50), headers=ADMIN
        )
        event_id = created.json()["id"]

        def register(i: int) -> requests.Response:
            body = {"name": f"Person {i}", "email": f"person{i}@example.org", "consent": True}
            return requests.post(f"{base}/api/v1/events/{event_id}/registrations", json=body, timeout=60)

        with ThreadPoolExecutor(max_workers=50) as pool:
            responses = list(pool.map(register, range(200)))
        assert sorted({r.status_code for r in responses}) == [201], [r.text for r in responses if r.status_code != 201][
            :3
        ]
        statuses = [r.json()["status"] for r in responses]
        assert statuses.count("confirmed") == 50
        positions = sorted(r.json()["waitlist_position"] for r in responses if r.json()["status"] == "waitlisted")
        assert positions == list(range(1, 151))
        listed = requests.get(f"{base}/api/v1/admin/events/{event_id}/registrations", headers=ADMIN).json()
        assert sum(r["status"] == "confirmed" for r in listed) == 50
        assert [r["waitlist_position"] for r in listed if r["status"] == "waitlisted"] == list(range(1, 151))
        told = {r.json()["id"]: r.json()["waitlist_position"] for r in responses}
        assert told == {r["id"]: r["waitlist_position"] for r in listed}
        event = requests.get(f"{base}/api/v1/events/{event_id}").json()
        assert (event["seats_taken"], event["seats_left"], event["waitlist_length"]) == (50, 0, 150)

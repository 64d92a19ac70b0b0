"""Two figures of the third wave, on both databases:

- the report of an event with 2,000 registrations (roles, towns, attendance, history), as
  the admin API answers it (median of 5): target, within a page load;
- the release of contingents: 150 free seats held back by a limit of one seat per town,
  300 people waiting; the tick after `contingents_release_at` gives the seats (target < 1 s).

    python benchmarks/report_release.py [--registrations 2000] [--seats 150]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import backends, database, event_row
from flask_migrate import upgrade
from sqlalchemy import func, insert, select

from eventsvc import create_app
from eventsvc.db import db
from eventsvc.domain.clock import SettableClock
from eventsvc.domain.models import Event, Organization, OrganizationDomain, Registration
from eventsvc.domain.rules import recount
from eventsvc.scheduler.jobs import materialise

NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
ROLES = ["Bürgermeister/in", "Amtsleiter/in", "Standesbeamte"]


def towns(count: int) -> None:
    db.session.execute(
        insert(Organization),
        [
            {
                "key": f"T{n}",
                "name": f"Gemeinde {n}",
                "kind": "gemeinde",
                "region": f"Bezirk {n % 10}",
                "member": True,
                "email_domains": [f"t{n}.example"],
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(count)
        ],
    )
    db.session.execute(
        insert(OrganizationDomain), [{"domain": f"t{n}.example", "organization_key": f"T{n}"} for n in range(count)]
    )


def people(event_id: int, count: int, status, town, **extra) -> list[dict]:
    return [
        {
            "event_id": event_id,
            "token": f"t{event_id}-{i}",
            "name": f"Person {i}",
            "email": f"p{i}@t{town(i)}.example",
            "email_normalized": f"p{i}@t{town(i)}.example",
            "organization_key": f"T{town(i)}",
            "role": ROLES[i % 3],
            "language": "de",
            "feed_token": f"f{event_id}-{i}",
            "status": status(i),
            "created_at": NOW - timedelta(days=10, seconds=-i),
            "attended": i % 4 != 0,
            "registered_as": "confirmed",
            "registered_by": "participant",
            **extra,
        }
        for i in range(count)
    ]


def report_event(count: int) -> int:
    event_id = db.session.execute(
        insert(Event)
        .values(
            **event_row(
                NOW,
                slug="report",
                uid="report@bench",
                starts_at=NOW - timedelta(days=1),
                ends_at=NOW - timedelta(hours=17),
                capacity=count,
                roles=ROLES,
            )
        )
        .returning(Event.id)
    ).scalar_one()
    db.session.execute(insert(Registration), people(event_id, count, lambda i: "confirmed", lambda i: i % 200))
    recount(db.session, event_id)  # as the service keeps them
    return event_id


def release_event(seats: int) -> int:
    release = NOW - timedelta(minutes=1)
    event_id = db.session.execute(
        insert(Event)
        .values(
            **event_row(
                NOW,
                slug="release",
                uid="release@bench",
                starts_at=NOW + timedelta(days=5),
                ends_at=NOW + timedelta(days=5, hours=7),
                capacity=2 * seats,
                organization_limit=1,
                contingents_release_at=release,
            )
        )
        .returning(Event.id)
    ).scalar_one()
    # `seats` towns hold their one seat each; 2 × `seats` colleagues of theirs wait behind the limit.
    holders = people(event_id, seats, lambda i: "confirmed", lambda i: i)
    waiting = people(
        event_id, 2 * seats, lambda i: "waitlisted", lambda i: i % seats, waitlist_reason="organization_limit"
    )
    for number, row in enumerate(waiting):
        row.update(
            token=f"w{number}",
            feed_token=f"wf{number}",
            email=f"w{number}@t{number % seats}.example",
            email_normalized=f"w{number}@t{number % seats}.example",
            attended=False,
        )
    db.session.execute(insert(Registration), holders + waiting)
    recount(db.session, event_id)
    return event_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registrations", type=int, default=2000)
    parser.add_argument("--seats", type=int, default=150)
    args = parser.parse_args()
    for backend in backends():
        with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
            app = create_app(
                {
                    "DATABASE_URL": url,
                    "INSTANCE_PATH": str(Path(tmp) / "i"),
                    "CLOCK": SettableClock(NOW),
                    "ADMIN_TOKEN": "bench-token",
                    "SECRET_KEY": "bench",
                }
            )
            with app.app_context():
                upgrade()
                towns(max(200, args.seats))
                report_id = report_event(args.registrations)
                release_id = release_event(args.seats)
                db.session.commit()
            client = app.test_client()
            times = []
            for _ in range(5):
                started = time.perf_counter()
                answer = client.get(
                    f"/api/v1/admin/events/{report_id}/report", headers={"Authorization": "Bearer bench-token"}
                )
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200 and answer.get_json()["registered"] == args.registrations
            started = time.perf_counter()
            done = materialise(app, NOW)
            tick = time.perf_counter() - started
            with app.app_context():
                confirmed = db.session.scalar(
                    select(func.count()).where(Registration.event_id == release_id, Registration.status == "confirmed")
                )
            assert done["seats_after_windows"] == args.seats and confirmed == 2 * args.seats, (done, confirmed)
            print(
                f"{backend}: report of {args.registrations} registrations, median of 5: "
                f"{1000 * statistics.median(times):.0f} ms (target: within a page load)"
            )
            print(
                f"  release of {args.seats} seats held back by a limit per town: one tick, {tick:.2f} s (target < 1 s)"
            )


if __name__ == "__main__":
    main()

"""Scheduler ticks that expire 10,000 offers and make the next 10,000 offers (one event of
10,000 seats in offer mode, 10,000 people waiting behind the offers), a bounded batch a tick.
Target: no tick over 1 s on each database. Not a ratio: nothing does this job but the service.

    python benchmarks/offer_expiry.py [--offers 10000]
"""

from __future__ import annotations

import argparse
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
from eventsvc.domain.models import Event, OutboxMessage, Registration
from eventsvc.domain.rules import recount
from eventsvc.scheduler.jobs import materialise

NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)


def seed(offers: int) -> int:
    """An event whose `offers` offers have just expired, with as many people waiting."""
    event_id = db.session.execute(
        insert(Event)
        .values(
            **event_row(
                NOW,
                slug="offers",
                starts_at=NOW + timedelta(days=20),
                ends_at=NOW + timedelta(days=20, hours=7),
                capacity=offers,
                waitlist_mode="offer",
            )
        )
        .returning(Event.id)
    ).scalar_one()
    people = []
    for i in range(2 * offers):
        offered = i < offers
        people.append(
            {
                "event_id": event_id,
                "token": f"t{i}",
                "name": f"Person {i}",
                "email": f"p{i}@example.org",
                "email_normalized": f"p{i}@example.org",
                "language": "de",
                "feed_token": f"f{i}",
                "status": "offered" if offered else "waitlisted",
                "created_at": NOW - timedelta(days=10),
                "offer_expires_at": NOW - timedelta(minutes=1) if offered else None,
                "attended": False,
                "registered_as": "waitlisted",
                "registered_by": "participant",
            }
        )
    db.session.execute(insert(Registration), people)
    recount(db.session, event_id)  # as the service keeps them
    db.session.commit()
    return event_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=int, default=10_000)
    args = parser.parse_args()
    for backend in backends():
        with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
            app = create_app(
                {"DATABASE_URL": url, "INSTANCE_PATH": str(Path(tmp) / "instance"), "CLOCK": SettableClock(NOW)}
            )
            with app.app_context():
                upgrade()
                event_id = seed(args.offers)
            ticks = []
            while True:
                started = time.perf_counter()
                expired = materialise(app, NOW)["offers_expired"]
                ticks.append((time.perf_counter() - started, expired))
                if not expired:
                    break
            with app.app_context():
                counts = dict(
                    db.session.execute(
                        select(Registration.status, func.count())
                        .where(Registration.event_id == event_id)
                        .group_by(Registration.status)
                    ).all()
                )
                emails = dict(
                    db.session.execute(select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)).all()
                )
            assert sum(count for _, count in ticks) == args.offers, ticks
            assert counts == {"cancelled": args.offers, "offered": args.offers}, counts
            assert emails == {"offer-expired": args.offers, "offer": args.offers}, emails
            working = [seconds for seconds, count in ticks if count]
            print(
                f"{backend}: {args.offers} offers expired and as many new ones made in {len(working)} tick(s), "
                f"slowest {max(working):.2f} s, {sum(working):.2f} s in all (target: no tick over 1 s)"
            )


if __name__ == "__main__":
    main()

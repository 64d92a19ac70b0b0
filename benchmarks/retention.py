"""The end of retention of one event of 10,000 registrations, each with two emails sent (its
confirmation and a reminder, with their .eml files) and a history entry: scheduler ticks
until everything personal is gone. Target: the slowest tick < 1 s on each database. Not a
ratio: nothing else does this job.

    python benchmarks/retention.py [--registrations 10000]
"""

from __future__ import annotations

import argparse
import secrets
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
from eventsvc.domain.models import Event, OutboxMessage, Registration, RegistrationChange
from eventsvc.domain.rules import recount

NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
ENDED = NOW - timedelta(days=366)


def seed(registrations: int, mail_dir: Path) -> int:
    event_id = db.session.execute(
        insert(Event)
        .values(
            **event_row(
                ENDED,
                slug="ended",
                starts_at=ENDED - timedelta(hours=7),
                ends_at=ENDED,
                capacity=registrations,
                retention=365 * 86400,
                sensitive_retention=30 * 86400,
                documentation_delivered_at=ENDED,
            )
        )
        .returning(Event.id)
    ).scalar_one()
    at = ENDED - timedelta(days=30)
    people = [
        {
            "event_id": event_id,
            "token": f"t{i}",
            "name": f"Person {i}",
            "email": f"p{i}@example.org",
            "email_normalized": f"p{i}@example.org",
            "organization": "Stadt Musterstadt",
            "language": "de",
            "feed_token": f"f{i}",
            "status": "confirmed",
            "created_at": at,
            "confirmed_at": at,
            "attended": i % 3 != 0,
            "answers": {"workshop": "A"},
            "registered_as": "confirmed",
            "registered_by": "participant",
        }
        for i in range(registrations)
    ]
    db.session.execute(insert(Registration), people)
    recount(db.session, event_id)  # as the service keeps them
    ids = list(db.session.scalars(select(Registration.id).where(Registration.event_id == event_id)))
    mail_dir.mkdir(parents=True, exist_ok=True)
    emails = []
    for registration_id in ids:
        for kind in ("confirmation", "reminder"):
            key = secrets.token_hex(16)
            (mail_dir / f"{key}.eml").write_bytes(b"To: someone\r\n\r\nHello\r\n")
            emails.append(
                {
                    "kind": kind,
                    "event_id": event_id,
                    "registration_id": registration_id,
                    "recipient": f"p{registration_id}@example.org",
                    "params": {"sequence": 0},
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": at,
                    "message_key": key,
                    "created_at": at,
                    "sent_at": at,
                }
            )
    db.session.execute(insert(OutboxMessage), emails)
    db.session.execute(
        insert(RegistrationChange),
        [
            {
                "registration_id": i,
                "at": at,
                "status": "confirmed",
                "reason": "checked_in",
                "by": "organizer",
                "actor": "Empfang",
            }
            for i in ids
        ],
    )
    db.session.commit()
    return event_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registrations", type=int, default=10_000)
    args = parser.parse_args()
    for backend in backends():
        with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
            mail_dir = Path(tmp) / "mail"
            app = create_app(
                {
                    "DATABASE_URL": url,
                    "INSTANCE_PATH": str(Path(tmp) / "instance"),
                    "MAIL_DIR": str(mail_dir),
                    "CLOCK": SettableClock(NOW),
                }
            )
            with app.app_context():
                upgrade()
                event_id = seed(args.registrations, mail_dir)
            from eventsvc.scheduler.jobs import materialise

            ticks = []
            while True:
                started = time.perf_counter()
                done = materialise(app, NOW)["anonymised"]
                ticks.append(time.perf_counter() - started)
                if not done:
                    break
            with app.app_context():
                left = db.session.scalar(
                    select(func.count()).where(Registration.event_id == event_id, Registration.anonymised_at.is_(None))
                )
                addressed = db.session.scalar(select(func.count()).where(OutboxMessage.recipient != ""))
            assert left == 0 and addressed == 0, (left, addressed)
            assert not list(mail_dir.glob("*.eml"))
            print(
                f"{backend}: {args.registrations} registrations and {2 * args.registrations} emails anonymised "
                f"in {len(ticks)} ticks, {sum(ticks):.2f} s in all, slowest tick {max(ticks):.2f} s (target < 1 s), "
                f"{1e6 * sum(ticks) / args.registrations:.0f} µs per registration"
            )


if __name__ == "__main__":
    main()

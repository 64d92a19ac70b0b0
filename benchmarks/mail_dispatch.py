"""Mail throughput and scheduler cost.

1. 5,000 queued emails sent through the outbox (claim, render, send, record) to a local
   aiosmtpd sink (smtp_sink.py, in its own process), against the same messages rendered
   beforehand and sent with raw smtplib over one connection. Five rounds, the two sides
   interleaved; prints msgs/s of each round and the median ratio (target >= 0.7).
2. Scheduler ticks that materialise the reminders of 200 events x 200 participants, both
   offsets due at once: 80,000 rows, at most ROWS_PER_TICK a tick (target: a tick < 1 s).

    python benchmarks/mail_dispatch.py [--emails 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, backends, database
from flask_migrate import upgrade
from sqlalchemy import insert, select, update

from eventsvc import create_app
from eventsvc.db import db
from eventsvc.domain import outbox
from eventsvc.domain.clock import SettableClock
from eventsvc.domain.models import Event, OutboxMessage, Registration
from eventsvc.domain.rules import recount
from eventsvc.mail.compose import MailSettings, compose
from eventsvc.mail.dispatch import templates_of
from eventsvc.scheduler.jobs import dispatch, materialise
from tests.processes import free_port

NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)


def make_app(url: str, folder: Path, smtp_port: int):
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(folder / "instance"),
            "CLOCK": SettableClock(NOW),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_port,
            "MAIL_BATCH_SIZE": 500,
            "BASE_URL": "https://events.example.org",
        }
    )
    with app.app_context():
        upgrade()
    return app


def seed_events(events: int, per_event: int, starts: datetime, emails_too: bool) -> None:
    """Events with confirmed participants, written in bulk (Core inserts, not the API)."""
    for e in range(events):
        event_id = db.session.execute(
            insert(Event)
            .values(
                slug=f"e{e}",
                uid=f"e{e}@bench",
                title=f"Fachtag {e}",
                starts_at=starts,
                ends_at=starts + timedelta(hours=7),
                timezone="Europe/Berlin",
                capacity=per_event,
                waitlist_enabled=True,
                reminder_offsets=[604800, 86400],
                documentation_delay=7200,
                documentation_recipients="confirmed",
                status="published",
                sequence=0,
                reminders_queued={},
                created_at=NOW - timedelta(days=60),
                changed_at=NOW - timedelta(days=60),
                organizer_name="Servicestelle",
                organizer_email="team@example.org",
            )
            .returning(Event.id)
        ).scalar_one()
        db.session.execute(
            insert(Registration),
            [
                {
                    "event_id": event_id,
                    "token": f"t{e}-{i}",
                    "name": f"Person {i}",
                    "email": f"p{e}-{i}@example.org",
                    "email_normalized": f"p{e}-{i}@example.org",
                    "language": "de",
                    "feed_token": f"f{e}-{i}",
                    "status": "confirmed",
                    "created_at": NOW - timedelta(days=30),
                    "confirmed_at": NOW - timedelta(days=30),
                    "attended": False,
                    "registered_as": "confirmed",
                    "registered_by": "participant",
                }
                for i in range(per_event)
            ],
        )
        recount(db.session, event_id)  # as the service keeps them
        if emails_too:
            ids = db.session.scalars(select(Registration.id).where(Registration.event_id == event_id)).all()
            db.session.execute(
                insert(OutboxMessage),
                [
                    outbox.new_row(outbox.CONFIRMATION, event_id, rid, f"p{e}-{n}@example.org", 0, NOW)
                    for n, rid in enumerate(ids)
                ],
            )
    db.session.commit()


class Sink:
    """benchmarks/smtp_sink.py in its own process, as a real mail server would be: in the
    sender's process it would compete with the sender for the interpreter lock."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    def __enter__(self) -> Sink:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "smtp_sink.py"), str(self.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.accepted = int(self.process.stdout.read().split()[-1])
        self.process.wait()


def bench_dispatch(url: str, folder: Path, count: int, rounds: int) -> list[dict]:
    """`rounds` of: the raw baseline, then the outbox, each to a fresh sink; between rounds
    every outbox row is put back in the queue. Interleaving the two keeps a slow spell of
    the machine from landing on one side only."""
    app = make_app(url, folder, 1)
    with app.app_context():
        seed_events(count // 200, 200, NOW + timedelta(days=60), emails_too=True)
        # The baseline's messages: the very same emails, rendered beforehand.
        settings, templates = MailSettings.from_config(app.config), templates_of(app)
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        rendered = [
            compose(
                db.session,
                outbox.Claimed.of(row),
                settings,
                templates,
                NOW,
            )
            for row in rows
        ]
        rendered = list(zip(rendered, [row.recipient for row in rows], strict=True))
        db.session.rollback()
    results = []
    for _ in range(rounds):
        with app.app_context():
            db.session.execute(
                update(OutboxMessage).values(
                    status="queued",
                    attempts=0,
                    next_attempt_at=NOW,
                    lease_expires_at=None,
                    claimed_by=None,
                    sent_at=None,
                )
            )
            db.session.commit()
        with Sink() as raw_sink:
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", raw_sink.port) as client:
                for message, recipient in rendered:
                    client.send_message(message, from_addr="noreply@eventsvc.invalid", to_addrs=[recipient])
            raw_seconds = time.perf_counter() - started
        with Sink() as outbox_sink:
            app.config["MAIL_PORT"] = outbox_sink.port
            started = time.perf_counter()
            result = dispatch(app)
            outbox_seconds = time.perf_counter() - started
        assert result["sent"] == count and raw_sink.accepted == outbox_sink.accepted == count, result
        results.append({"raw": count / raw_seconds, "outbox": count / outbox_seconds})
    return results


def bench_tick(url: str, folder: Path, events: int = 200) -> dict:
    """Ticks until every due reminder is queued (a tick queues at most ROWS_PER_TICK), then
    one more, which finds nothing new."""
    app = make_app(url, folder, 1)
    with app.app_context():
        seed_events(events, 200, NOW + timedelta(hours=12), emails_too=False)  # both reminders due
    ticks = []
    while True:
        started = time.perf_counter()
        queued = materialise(app, NOW)["reminders"]
        ticks.append((time.perf_counter() - started, queued))
        if not queued:
            return {"ticks": ticks[:-1], "idle": ticks[-1][0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=200, help="events of 200 people for the reminder ticks")
    args = parser.parse_args()
    for backend in backends():
        with tempfile.TemporaryDirectory() as tmp:
            with database(backend, Path(tmp)) as url:
                rounds = bench_dispatch(url, Path(tmp) / "d", args.emails, args.rounds)
            with database(backend, Path(tmp)) as url:
                tick = bench_tick(url, Path(tmp) / "t", args.events)
        print(f"{backend}:")
        for number, rates in enumerate(rounds, 1):
            print(
                f"  round {number}: raw smtplib, pre-rendered {rates['raw']:6.1f} msgs/s; outbox (claim, render, "
                f"send, record) {rates['outbox']:6.1f} msgs/s; ratio {rates['outbox'] / rates['raw']:.2f}"
            )
        ratio = statistics.median(rates["outbox"] / rates["raw"] for rates in rounds)
        print(f"  ratio outbox/raw, median of {len(rounds)} rounds {ratio:5.2f}   (goal >= 0.7)")
        slowest = max(seconds for seconds, _ in tick["ticks"])
        queued = sum(count for _, count in tick["ticks"])
        print(
            f"  ticks, {args.events} events x 200 people   slowest {slowest:.3f} s (target < 1 s); {queued} reminders "
            f"queued in {len(tick['ticks'])} ticks, {sum(s for s, _ in tick['ticks']):.3f} s in all"
        )
        print(f"  the next tick (nothing new due)  {tick['idle']:8.3f} s")


if __name__ == "__main__":
    main()

"""Organizers' bulk work against what a participant waits for:

- a message to 2,000 recipients, queued (POST /messages: one INSERT … SELECT, plus each
  person's download link for one document);
- the ZIP of 200 certificates of attendance (each a tagged PDF rendered by WeasyPrint);
- what a participant waits for: their own certificate, next to the event page (a page load).

Each through the app's own request handling (Flask's test client, no network), median of
five. Not ratios: nothing else does these jobs; the page load is the yardstick.

    python benchmarks/messages_certificates.py
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import backends, database, event_row
from flask_migrate import upgrade
from sqlalchemy import insert, select

from eventsvc import create_app
from eventsvc.db import db
from eventsvc.domain.clock import SettableClock
from eventsvc.domain.models import Document, Event, Registration
from eventsvc.domain.rules import recount

NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
ADMIN = {"Authorization": "Bearer bench"}


def seed(people: int, attended: int) -> tuple[int, int, str]:
    """An event that ended an hour ago, `people` confirmed, the first `attended` checked in."""
    event_id = db.session.execute(
        insert(Event)
        .values(
            **event_row(
                NOW,
                title="Fachtag Standesamtswesen: Neuerungen im Personenstandsrecht",
                location="Haus der Kommunen, Saal 2, Lindenstraße 1, 10969 Berlin",
                starts_at=NOW - timedelta(hours=8),
                ends_at=NOW - timedelta(hours=1),
                capacity=people,
                organizer_name="Servicestelle Fortbildung",
                organizer_email="fortbildung@kommunen.example",
                certificate={"hours": 6.5, "signer": "Dr. Maria Muster", "topics": ["Namensrecht", "Beurkundung"]},
            )
        )
        .returning(Event.id)
    ).scalar_one()
    at = NOW - timedelta(days=30)
    db.session.execute(
        insert(Registration),
        [
            {
                "event_id": event_id,
                "token": f"token-{i:06d}-" + "x" * 30,
                "name": f"Jürgen Weiß {i}",
                "email": f"p{i}@example.org",
                "email_normalized": f"p{i}@example.org",
                "organization": "Stadt Großröhrsdorf",
                "language": "de" if i % 4 else "en",
                "feed_token": f"f{i}",
                "status": "confirmed",
                "created_at": at,
                "confirmed_at": at,
                "attended": i < attended,
                "registered_as": "confirmed",
                "registered_by": "participant",
            }
            for i in range(people)
        ],
    )
    recount(db.session, event_id)  # as the service keeps them
    document_id = db.session.execute(
        insert(Document)
        .values(event_id=event_id, title="Folien", url="https://docs.example.org/folien.pdf", created_at=at)
        .returning(Document.id)
    ).scalar_one()
    token = db.session.scalar(select(Registration.token).where(Registration.attended.is_(True)).limit(1))
    db.session.commit()
    return event_id, document_id, token


def timed(call, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


RECIPIENTS, CERTIFICATES = 2000, 200


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=RECIPIENTS)
    parser.add_argument("--certificates", type=int, default=CERTIFICATES)
    args = parser.parse_args()
    for backend in backends():
        measure(backend, args.recipients, args.certificates)


def measure(backend: str, recipients: int, certificates: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        app = create_app(
            {
                "DATABASE_URL": url,
                "INSTANCE_PATH": str(Path(tmp) / "instance"),
                "CLOCK": SettableClock(NOW),
                "ADMIN_TOKEN": "bench",
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade()
            event_id, document_id, token = seed(recipients, certificates)
        client = app.test_client()
        client.get(f"/api/v1/registrations/{token}/certificate.pdf")  # fonts loaded once per process

        def message():
            body = {
                "subject": "Folien",
                "body": "Hier sind die Folien.",
                "audience": ["confirmed"],
                "documents": [document_id],
            }
            answer = client.post(f"/api/v1/admin/events/{event_id}/messages", json=body, headers=ADMIN)
            assert answer.status_code == 202 and answer.get_json()["recipients"] == recipients, answer.data

        def archive():
            answer = client.get(f"/api/v1/admin/events/{event_id}/certificates.zip", headers=ADMIN)
            assert len(zipfile.ZipFile(io.BytesIO(answer.data)).namelist()) == certificates

        def own_certificate():
            assert client.get(f"/api/v1/registrations/{token}/certificate.pdf").status_code == 200

        def page():
            assert client.get(f"/events/{event_id}").status_code == 200

        queued = timed(message)
        zipped = timed(archive, rounds=3)
        one = timed(own_certificate, rounds=20)
        loaded = timed(page, rounds=20)
        print(
            f"{backend}: message to {recipients}: {queued * 1000:.0f} ms ({queued / recipients * 1e6:.0f} µs a recipient); "
            f"{certificates} certificates as ZIP: {zipped:.2f} s ({zipped / certificates * 1000:.1f} ms each); "
            f"one certificate {one * 1000:.0f} ms against the event page {loaded * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()

"""Where a registration's time goes: the statements (and round trips) one registration sends,
those under the event's lock among them, and a pyinstrument profile of many registrations
through the app in one process (no HTTP server, no client: the service's own share).

    python benchmarks/profile_registration.py [--registrations 300] [--html profile.html]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import backends, database
from flask_migrate import upgrade
from pyinstrument import Profiler
from sqlalchemy import event as sa_event

from eventsvc import create_app
from eventsvc.db import db

EVENT = {
    "title": "Fachtag",
    "starts_at": "2030-03-01T09:00:00+01:00",
    "ends_at": "2030-03-01T16:00:00+01:00",
    "status": "published",
    "capacity": 150,
}
AUTH = {"Authorization": "Bearer bench-token"}


def statements_of_one(app, client, url: str) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:90])

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.post(url, json={"name": "Eine Person", "email": "one@example.org", "consent": True})
        assert response.status_code == 201, response.get_json()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registrations", type=int, default=300)
    parser.add_argument("--html", type=Path, default=None, help="also write the profile as HTML")
    args = parser.parse_args()
    for backend in backends():
        with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
            app = create_app(
                {
                    "DATABASE_URL": url,
                    "INSTANCE_PATH": str(Path(tmp) / "instance"),
                    "ADMIN_TOKEN": "bench-token",
                    "SECRET_KEY": "bench",
                    "RATELIMIT_REGISTRATION": "1000000 per minute",
                }
            )
            with app.app_context():
                upgrade()
            client = app.test_client()
            event = client.post("/api/v1/admin/events", json=EVENT, headers=AUTH).get_json()
            target = f"/api/v1/events/{event['id']}/registrations"
            with app.app_context():
                statements = statements_of_one(app, client, target)
            print(f"{backend}: one registration sends {len(statements)} statements:")
            for statement in statements:
                print(f"    {statement}")
            bodies = [
                {"name": f"Person {i}", "email": f"p{i}@example.org", "consent": True}
                for i in range(args.registrations)
            ]
            profiler = Profiler(interval=0.0005)
            started = time.perf_counter()
            profiler.start()
            for body in bodies:
                client.post(target, json=body)
            profiler.stop()
            seconds = time.perf_counter() - started
            print(
                f"  {args.registrations} registrations in one process: {1000 * seconds / args.registrations:.2f} ms each"
            )
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            if args.html:
                args.html.with_suffix(f".{backend}.html").write_text(profiler.output_html())


if __name__ == "__main__":
    main()

"""The subscription feed under load: /calendar.ics with 1,000 published events, against a
static file of the same bytes served by the same app and gunicorn (2 workers), and the 304
path (a client that sends If-None-Match), which should be the cheapest answer the service
gives: it is compared with the health check and a 404. Target: feed/static >= 0.5.

    python benchmarks/calendar_feed.py [--events 1000] [--requests 3000] [--clients 20]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from common import ROOT, backends, database, fire, gunicorn, migrate, service_env, show


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    for backend in backends():
        with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
            static = Path(tmp) / "static.ics"
            static.write_bytes(b"")
            env = service_env(
                url, Path(tmp) / "instance", BENCH_STATIC_FILE=str(static), PYTHONPATH=f"{ROOT}:{ROOT / 'benchmarks'}"
            )
            migrate(env)
            with gunicorn("feed_app:app", env, log=Path(tmp) / "feed.log") as base:
                auth = {"Authorization": "Bearer bench-token"}
                start = datetime(2031, 1, 6, 8, 0, tzinfo=UTC)
                session = requests.Session()
                for i in range(args.events):
                    day = start + timedelta(days=i)
                    session.post(
                        f"{base}/api/v1/admin/events",
                        headers=auth,
                        json={
                            "title": f"Fachveranstaltung {i}: Personenstandsrecht für Standesämter",
                            "location": "Haus der Kommunen, Lindenstraße 1, 10969 Berlin",
                            "description": "Neuerungen, Praxisfragen und Austausch." * 3,
                            "starts_at": day.isoformat(),
                            "ends_at": (day + timedelta(hours=7)).isoformat(),
                            "capacity": 150,
                            "status": "published",
                            "organizer_name": "Servicestelle",
                            "organizer_email": "team@example.org",
                        },
                    )
                first = session.get(f"{base}/calendar.ics")
                static.write_bytes(first.content)
                etag = first.headers["ETag"]
                url_feed, url_static = f"{base}/calendar.ics", f"{base}/bench/static.ics"
                fire([("GET", url_feed, {})] * 50 + [("GET", url_static, {})] * 50, 4)  # warm both workers
                feed = fire([("GET", url_feed, {})] * args.requests, args.clients)
                plain = fire([("GET", url_static, {})] * args.requests, args.clients)
                cached = fire([("GET", url_feed, {"headers": {"If-None-Match": etag}})] * args.requests, args.clients)
                # The cheapest answers beside it: the health check (one query) and a 404.
                health = fire([("GET", f"{base}/healthz", {})] * args.requests, args.clients)
                missing = fire([("GET", f"{base}/api/v1/events/999999", {})] * args.requests, args.clients)
            assert set(feed["statuses"]) == {200} and set(cached["statuses"]) == {304}
            print(
                f"{backend}: /calendar.ics with {args.events} events ({len(first.content) / 1024:.0f} KiB), "
                f"{args.clients} clients"
            )
            show("feed (cached body)", feed)
            show("static file, same bytes", plain)
            show("feed, If-None-Match -> 304", cached)
            show("GET /healthz", health)
            show("GET an unknown event (404)", missing)
            print(f"  ratio feed/static            {feed['rps'] / plain['rps']:.2f}   (target >= 0.5)")


if __name__ == "__main__":
    main()

"""A booked-out event's first minutes: 2,000 registrations from 50 concurrent clients against a
150-seat event, served by gunicorn with 2 workers, compared in the same run with a bare
Flask + Flask-SQLAlchemy app that inserts one row per request. SQLite and PostgreSQL.

    python benchmarks/registration_rush.py [--requests 2000] [--clients 50] [--seats 150]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from common import ROOT, backends, database, fire, gunicorn, migrate, service_env, show

EVENT = {"title": "Fachtag", "starts_at": "2030-03-01T09:00:00+01:00", "ends_at": "2030-03-01T16:00:00+01:00",
         "status": "published"}


def bodies(url: str, count: int) -> list:
    return [("POST", url, {"json": {"name": f"Person {i}", "email": f"p{i}@example.org", "consent": True}})
            for i in range(count)]


def run(backend: str, args, folder: Path) -> dict:
    results = {}
    with database(backend, folder) as url:
        env = service_env(url, folder / f"instance-{backend}")
        migrate(env)
        with gunicorn("wsgi:app", env, log=folder / f"service-{backend}.log") as base:
            auth = {"Authorization": "Bearer bench-token"}
            event = requests.post(f"{base}/api/v1/admin/events", json=EVENT | {"capacity": args.seats},
                                  headers=auth).json()
            results["service"] = fire(bodies(f"{base}/api/v1/events/{event['id']}/registrations", args.requests),
                                      args.clients)
            listed = requests.get(f"{base}/api/v1/admin/events/{event['id']}/registrations", headers=auth).json()
            confirmed = sum(r["status"] == "confirmed" for r in listed)
            positions = [r["waitlist_position"] for r in listed if r["status"] == "waitlisted"]
            results["overbooked"] = max(0, confirmed - args.seats)
            results["positions_ok"] = positions == list(range(1, len(positions) + 1))
            results["confirmed"] = confirmed
    with database(backend, folder) as url:
        env = service_env(url, folder / f"baseline-{backend}")
        subprocess.run([sys.executable, "-c", "from baseline_app import app, db\nwith app.app_context(): db.create_all()"],
                       env=env | {"PYTHONPATH": str(ROOT / "benchmarks")}, check=True, cwd=ROOT / "benchmarks")
        with gunicorn("baseline_app:app", env | {"PYTHONPATH": str(ROOT / "benchmarks")},
                      log=folder / f"baseline-{backend}.log") as base:
            results["baseline"] = fire(bodies(f"{base}/api/v1/events/1/registrations", args.requests), args.clients)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seats", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends():
            results = run(backend, args, Path(tmp))
            service, baseline = results["service"], results["baseline"]
            errors = sum(1 for s in service["statuses"] if s != 201)
            print(f"{backend}: {args.requests} registrations, {args.clients} clients, {args.seats} seats")
            show("service (eventsvc)", service)
            show("baseline (one INSERT)", baseline)
            print(f"  ratio service/baseline       {service['rps'] / baseline['rps']:.2f}   (target >= 0.6)")
            print(f"  confirmed {results['confirmed']}, overbooked {results['overbooked']}, waitlist positions "
                  f"{'1..n without gaps' if results['positions_ok'] else 'BROKEN'}, non-201 answers {errors}")


if __name__ == "__main__":
    main()

"""A booked-out event's first minutes, served by gunicorn with 2 workers, compared in the same
run with a bare Flask + Flask-SQLAlchemy app that inserts one row per request. SQLite and
PostgreSQL. Two rushes of 2,000 registrations for a 150-seat event each:

- flat out: 50 clients, each sending its next registration as soon as it has an answer
  (closed loop). This measures the most each server can take (requests/s, the ratio).
  Latency here is mostly waiting in line: by Little's law p50 is about clients / throughput.
- paced: registrations arrive at a fixed rate (open loop, default 100 a second), however
  fast the server answers, and latency counts from each one's arrival. This is the latency
  a person in the rush sees while the server keeps up.

    python benchmarks/registration_rush.py [--requests 2000] [--clients 50] [--seats 150] [--rate 100]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from common import ROOT, backends, database, fire, fire_paced, gunicorn, migrate, service_env, show

EVENT = {
    "title": "Fachtag",
    "starts_at": "2030-03-01T09:00:00+01:00",
    "ends_at": "2030-03-01T16:00:00+01:00",
    "status": "published",
}


def bodies(url: str, count: int) -> list:
    return [
        ("POST", url, {"json": {"name": f"Person {i}", "email": f"p{i}@example.org", "consent": True}})
        for i in range(count)
    ]


def rushes(url_of_new_event, args) -> dict:
    """Both rushes, each on a new event; with the URL of that event's registrations."""
    flat_out_url = url_of_new_event()
    results = {"flat_out": fire(bodies(flat_out_url, args.requests), args.clients), "flat_out_url": flat_out_url}
    paced_url = url_of_new_event()
    results |= {"paced": fire_paced(bodies(paced_url, args.requests), args.rate), "paced_url": paced_url}
    return results


def booking_check(base: str, url: str, seats: int) -> dict:
    auth = {"Authorization": "Bearer bench-token"}
    listed = requests.get(url.replace("/api/v1/events/", "/api/v1/admin/events/"), headers=auth).json()
    confirmed = sum(r["status"] == "confirmed" for r in listed)
    positions = [r["waitlist_position"] for r in listed if r["status"] == "waitlisted"]
    return {
        "confirmed": confirmed,
        "overbooked": max(0, confirmed - seats),
        "positions_ok": positions == list(range(1, len(positions) + 1)),
    }


def run(backend: str, args, folder: Path) -> dict:
    with database(backend, folder) as url:
        env = service_env(url, folder / f"instance-{backend}")
        migrate(env)
        with gunicorn("wsgi:app", env, log=folder / f"service-{backend}.log") as base:

            def new_event() -> str:
                event = requests.post(
                    f"{base}/api/v1/admin/events",
                    json=EVENT | {"capacity": args.seats},
                    headers={"Authorization": "Bearer bench-token"},
                ).json()
                return f"{base}/api/v1/events/{event['id']}/registrations"

            service = rushes(new_event, args)
            service["checks"] = [booking_check(base, service[key], args.seats) for key in ("flat_out_url", "paced_url")]
    with database(backend, folder) as url:
        env = service_env(url, folder / f"baseline-{backend}")
        subprocess.run(
            [sys.executable, "-c", "from baseline_app import app, db\nwith app.app_context(): db.create_all()"],
            env=env | {"PYTHONPATH": str(ROOT / "benchmarks")},
            check=True,
            cwd=ROOT / "benchmarks",
        )
        with gunicorn(
            "baseline_app:app", env | {"PYTHONPATH": str(ROOT / "benchmarks")}, log=folder / f"baseline-{backend}.log"
        ) as base:
            baseline = rushes(lambda: f"{base}/api/v1/events/1/registrations", args)
    return {"service": service, "baseline": baseline}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seats", type=int, default=150)
    parser.add_argument("--rate", type=float, default=100.0, help="arrivals per second in the paced rush")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends():
            results = run(backend, args, Path(tmp))
            service, baseline = results["service"], results["baseline"]
            print(f"{backend}: {args.requests} registrations per rush, {args.seats} seats")
            print(f"  flat out, {args.clients} clients:")
            show("service (eventsvc)", service["flat_out"])
            show("baseline (one INSERT)", baseline["flat_out"])
            print(
                f"  ratio service/baseline       {service['flat_out']['rps'] / baseline['flat_out']['rps']:.2f}"
                "   (target >= 0.6)"
            )
            print(f"  paced, {args.rate:g} arrivals/s:")
            show("service (eventsvc)", service["paced"])
            show("baseline (one INSERT)", baseline["paced"])
            for label, check, result in zip(
                ("flat out", "paced"), service["checks"], (service["flat_out"], service["paced"]), strict=False
            ):
                errors = sum(1 for status in result["statuses"] if status != 201)
                print(
                    f"  {label}: confirmed {check['confirmed']}, overbooked {check['overbooked']}, waitlist "
                    f"positions {'1..n without gaps' if check['positions_ok'] else 'BROKEN'}, non-201 answers {errors}"
                )


if __name__ == "__main__":
    main()

"""A booked-out event's first minutes, served by gunicorn with 2 workers, compared in the same
run with a bare Flask + Flask-SQLAlchemy app that inserts one row per request. SQLite and
PostgreSQL. Rushes of 2,000 registrations for a 150-seat event each:

- flat out: 50 clients, each sending its next registration as soon as it has an answer
  (closed loop). This measures the most each server can take (requests/s, the ratio).
  Five rounds (--rounds), service and baseline alternating with both servers up, so that
  the machine's wandering speed hits both alike; the ratio is the median of the rounds'.
  Latency here is mostly waiting in line: by Little's law p50 is about clients / throughput.
  With --organizations or --sessions, each round also rushes a plain event on the same
  service (the two take turns at going first), and the shaped rush is also compared with
  the plain one, round by round.
- paced: registrations arrive at a fixed rate (open loop, default 100 a second), however
  fast the server answers, and latency counts from each one's arrival. This is the latency
  a person in the rush sees while the server keeps up.

    python benchmarks/registration_rush.py [--requests 2000] [--clients 50] [--seats 150] [--rate 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import requests
from common import backends, fire, fire_paced, service_and_baseline, show

EVENT = {
    "title": "Fachtag",
    "starts_at": "2030-03-01T09:00:00+01:00",
    "ends_at": "2030-03-01T16:00:00+01:00",
    "status": "published",
}


# With --organizations, registrants come from that many member towns (by mail domain) and
# the event shares its seats with a limit per town; with --sessions, each chooses two of
# the event's sessions (three time slots of two sessions each).
SHAPE = {"organizations": 0, "limit": 2, "sessions": 0}


def shaped() -> bool:
    return bool(SHAPE["organizations"] or SHAPE["sessions"])


def bodies(url: str, count: int, plain: bool = False) -> list:
    towns, sessions = (0, 0) if plain else (SHAPE["organizations"], SHAPE["sessions"])
    made = []
    for i in range(count):
        domain = f"town{i % towns}.example" if towns else "example.org"
        body = {"name": f"Person {i}", "email": f"p{i}@{domain}", "consent": True}
        if sessions:
            first = i % 2
            body["sessions"] = [f"s{first}", f"s{2 + (i // 2) % 2}"]
        made.append(("POST", url, {"json": body}))
    return made


def event_shape(plain: bool = False) -> dict:
    shape: dict = {}
    if plain:
        return shape
    if SHAPE["organizations"]:
        shape["organization_limit"] = SHAPE["limit"]
    if SHAPE["sessions"]:
        shape["sessions"] = [
            {
                "key": f"s{n}",
                "title": f"Arbeitsgruppe {n}",
                "starts_at": f"2030-03-01T{10 + 2 * (n // 2):02d}:00:00+01:00",
                "ends_at": f"2030-03-01T{11 + 2 * (n // 2):02d}:30:00+01:00",
                "capacity": 40,
                "location": f"Raum {n}",
            }
            for n in range(SHAPE["sessions"])
        ]
    return shape


def import_towns(base: str) -> None:
    if not SHAPE["organizations"]:
        return
    rows = [
        {
            "key": f"{14600000 + n}",
            "name": f"Gemeinde {n}",
            "kind": "gemeinde",
            "region": "Bezirk",
            "member": True,
            "email_domains": [f"town{n}.example"],
        }
        for n in range(SHAPE["organizations"])
    ]
    answer = requests.put(
        f"{base}/api/v1/admin/organizations",
        json={"organizations": rows},
        headers={"Authorization": "Bearer bench-token"},
    )
    answer.raise_for_status()


def booking_check(url: str, seats: int, plain: bool = False) -> dict:
    auth = {"Authorization": "Bearer bench-token"}
    listed = requests.get(url.replace("/api/v1/events/", "/api/v1/admin/events/"), headers=auth).json()
    confirmed = sum(r["status"] == "confirmed" for r in listed)
    positions = [r["waitlist_position"] for r in listed if r["status"] == "waitlisted"]
    per_town: dict = {}
    for r in listed:
        if r["status"] == "confirmed" and r.get("organization_key"):
            per_town[r["organization_key"]] = per_town.get(r["organization_key"], 0) + 1
    limited = SHAPE["organizations"] and not plain
    over_limit = sum(max(0, n - SHAPE["limit"]) for n in per_town.values()) if limited else 0
    return {
        "confirmed": confirmed,
        "overbooked": max(0, confirmed - seats) + over_limit,
        "positions_ok": positions == list(range(1, len(positions) + 1)),
    }


def both_servers(backend: str, folder: Path):
    # The rush comes from many addresses; here it comes from one, so the per-client limit
    # (which the service still evaluates on every request) is set out of reach.
    return service_and_baseline(backend, folder, EVENTSVC_RATELIMIT_REGISTRATION="1000000 per minute")


def new_event(base: str, seats: int, plain: bool = False) -> str:
    event = requests.post(
        f"{base}/api/v1/admin/events",
        json=EVENT | {"capacity": seats} | event_shape(plain),
        headers={"Authorization": "Bearer bench-token"},
    ).json()
    return f"{base}/api/v1/events/{event['id']}/registrations"


def run(backend: str, args, folder: Path) -> dict:
    """`rounds` of flat-out rushes, service and baseline alternating (each round on a new
    event; a shaped rush has a plain one after it), then one paced rush each."""
    results: dict = {"flat_out": [], "plain": [], "checks": []}
    with both_servers(backend, folder) as (service, baseline):
        import_towns(service)
        for number in range(args.rounds):
            # A shaped rush and its plain one take turns at going first.
            order = [False, True] if number % 2 == 0 else [True, False]
            for plain in order if shaped() else [False]:
                url = new_event(service, args.seats, plain)
                result = fire(bodies(url, args.requests, plain), args.clients)
                results["checks"].append(booking_check(url, args.seats, plain) | {"errors": _errors(result)})
                if plain:
                    results["plain"].append(result)
                else:
                    service_result = result
            baseline_result = fire(bodies(f"{baseline}/api/v1/events/1/registrations", args.requests), args.clients)
            results["flat_out"].append((service_result, baseline_result))
        url = new_event(service, args.seats)
        results["paced"] = fire_paced(bodies(url, args.requests), args.rate)
        results["checks"].append(booking_check(url, args.seats) | {"errors": _errors(results["paced"])})
        results["paced_baseline"] = fire_paced(
            bodies(f"{baseline}/api/v1/events/1/registrations", args.requests), args.rate
        )
    return results


def _errors(result: dict) -> int:
    return sum(1 for status in result["statuses"] if status != 201)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seats", type=int, default=150)
    parser.add_argument("--rate", type=float, default=100.0, help="arrivals per second in the paced rush")
    parser.add_argument("--rounds", type=int, default=5, help="flat-out rounds, service and baseline alternating")
    parser.add_argument("--organizations", type=int, default=0, help="registrants from this many towns, limited")
    parser.add_argument("--limit", type=int, default=2, help="seats per town with --organizations")
    parser.add_argument("--sessions", type=int, default=0, help="six sessions, each registrant choosing two")
    args = parser.parse_args()
    SHAPE.update(organizations=args.organizations, limit=args.limit, sessions=6 if args.sessions else 0)
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends():
            results = run(backend, args, Path(tmp))
            print(f"{backend}: {args.requests} registrations per rush, {args.seats} seats")
            print(f"  flat out, {args.clients} clients, {args.rounds} rounds:")
            ratios, plain_ratios, against_plain = [], [], []
            for number, (service, baseline) in enumerate(results["flat_out"], 1):
                show(f"round {number} service", service)
                if shaped():
                    plain = results["plain"][number - 1]
                    show(f"round {number} service, plain", plain)
                    plain_ratios.append(plain["rps"] / baseline["rps"])
                    against_plain.append(service["rps"] / plain["rps"])
                show(f"round {number} baseline", baseline)
                ratios.append(service["rps"] / baseline["rps"])
            print(
                f"  ratio service/baseline per round {', '.join(f'{r:.2f}' for r in ratios)}; "
                f"median {statistics.median(ratios):.2f}   (goal >= 0.8)"
            )
            if shaped():
                print(
                    f"  the plain rush's ratio per round {', '.join(f'{r:.2f}' for r in plain_ratios)}; "
                    f"median {statistics.median(plain_ratios):.2f}"
                )
                print(
                    f"  this rush / the plain one per round {', '.join(f'{r:.2f}' for r in against_plain)}; "
                    f"median {statistics.median(against_plain):.2f}"
                )
            print(f"  paced, {args.rate:g} arrivals/s:")
            show("service (eventsvc)", results["paced"])
            show("baseline (one INSERT)", results["paced_baseline"])
            for check in results["checks"]:
                print(
                    f"  confirmed {check['confirmed']}, overbooked {check['overbooked']}, waitlist positions "
                    f"{'1..n without gaps' if check['positions_ok'] else 'BROKEN'}, non-201 answers {check['errors']}"
                )


if __name__ == "__main__":
    main()

"""The fixed cost of every request: `/healthz` (one statement) and a 404 for an unknown
event (one primary-key look-up) against a bare Flask app's hello, in the same run, each
under gunicorn with 2 workers, 20 clients flat out, five rounds interleaved. Goal: >= 0.8.

    python benchmarks/request_overhead.py [--requests 2000] [--clients 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from common import backends, fire, service_and_baseline


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends():
            ratios: dict[str, list[float]] = {"healthz": [], "404": []}
            rates: dict[str, list[float]] = {"hello": [], "healthz": [], "404": []}
            with service_and_baseline(backend, Path(tmp)) as (service, baseline):
                for _ in range(args.rounds):
                    hello = fire([("GET", f"{baseline}/hello", {})] * args.requests, args.clients)
                    health = fire([("GET", f"{service}/healthz", {})] * args.requests, args.clients)
                    missing = fire([("GET", f"{service}/api/v1/events/999999", {})] * args.requests, args.clients)
                    assert set(health["statuses"]) == {200} and set(missing["statuses"]) == {404}
                    rates["hello"].append(hello["rps"])
                    rates["healthz"].append(health["rps"])
                    rates["404"].append(missing["rps"])
                    ratios["healthz"].append(health["rps"] / hello["rps"])
                    ratios["404"].append(missing["rps"] / hello["rps"])
            print(f"{backend}: {args.requests} requests a round, {args.clients} clients, {args.rounds} rounds")
            for name in ("hello", "healthz", "404"):
                print(f"  {name:<8} {', '.join(f'{r:7.1f}' for r in rates[name])} req/s")
            for name in ("healthz", "404"):
                print(
                    f"  {name} / bare hello per round {', '.join(f'{r:.2f}' for r in ratios[name])}; "
                    f"median {statistics.median(ratios[name]):.2f}   (target >= 0.8)"
                )


if __name__ == "__main__":
    main()

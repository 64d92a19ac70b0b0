"""A scale run: what several instances sharing one PostgreSQL do under a booked-out rush.

Two gunicorn instances (2 workers each) and two `eventsvc worker` processes share one
PostgreSQL; the rate limits live in a real Redis (Debian's redis-server, started here on a
free port); email goes to a local SMTP sink in its own process. 20 events, 10,000
registrations from 100 concurrent clients spread over both instances, then messages to every
participant until 50,000 emails are owed; the run waits until the outbox is empty. It
prints the throughput and, computed from the database and the sink, one line:
`overbooked N, duplicates N, lost N`.

    python benchmarks/scale.py [--events 20] [--registrations 10000] [--clients 100] [--emails 50000]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests
from common import POSTGRES_ADMIN, ROOT, database, fire, gunicorn, migrate, service_env

from tests.processes import free_port

AUTH = {"Authorization": "Bearer bench-token"}


@contextlib.contextmanager
def process(command: list[str], log: Path, env: dict | None = None, wait_for: str | None = None):
    handle = log.open("w")
    child = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        if wait_for:
            deadline = time.monotonic() + 30
            while wait_for not in log.read_text() and time.monotonic() < deadline:
                if child.poll() is not None:
                    raise RuntimeError(f"{command[0]} ended: {log.read_text()[-2000:]}")
                time.sleep(0.05)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
        handle.close()


def redis_server(folder: Path):
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is needed (apt-get install redis-server)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return port, process(command, folder / "redis.log", wait_for="Ready to accept connections")


def psql(url: str, sql: str):
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        return connection.execute(sql).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--emails", type=int, default=50_000)
    args = parser.parse_args()
    seats = max(1, args.registrations // args.events * 3 // 4)  # every event books out
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        redis_port, redis = redis_server(folder)
        smtp_port, ids = free_port(), folder / "message-ids.txt"
        sink_command = [sys.executable, str(ROOT / "benchmarks" / "smtp_sink.py"), str(smtp_port), str(ids)]
        with database("postgresql", folder) as url, redis, process(sink_command, folder / "sink.log", wait_for="ready"):
            env = service_env(
                url,
                folder / "instance",
                EVENTSVC_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_port}/0",
                EVENTSVC_RATELIMIT_REGISTRATION="1000000 per minute",
                EVENTSVC_MAIL_SERVER="127.0.0.1",
                EVENTSVC_MAIL_PORT=str(smtp_port),
                EVENTSVC_MAIL_DEFAULT_SENDER="Fortbildung <noreply@kommunen.example>",
                EVENTSVC_TICK_SECONDS="1",
            )
            migrate(env)
            worker = [sys.executable, "-m", "eventsvc.edges.cli", "worker"]
            with (
                gunicorn("wsgi:app", env, log=folder / "web-1.log") as first,
                gunicorn("wsgi:app", env, log=folder / "web-2.log") as second,
            ):
                events = [
                    requests.post(
                        f"{first}/api/v1/admin/events",
                        json={
                            "title": f"Fachtag {n}",
                            "starts_at": "2030-03-01T09:00:00+01:00",
                            "ends_at": "2030-03-01T16:00:00+01:00",
                            "status": "published",
                            "capacity": seats,
                            "reminders": [],
                        },
                        headers=AUTH,
                    ).json()["id"]
                    for n in range(args.events)
                ]
                bodies = [
                    (
                        "POST",
                        f"{(first, second)[i % 2]}/api/v1/events/{events[i % len(events)]}/registrations",
                        {"json": {"name": f"Person {i}", "email": f"p{i}@example.org", "consent": True}},
                    )
                    for i in range(args.registrations)
                ]
                rush = fire(bodies, args.clients)
                # Messages to everyone until the emails owed reach --emails.
                rounds = max(0, math.ceil((args.emails - args.registrations) / args.registrations))
                for number in range(rounds):
                    for event_id in events:
                        requests.post(
                            f"{(first, second)[number % 2]}/api/v1/admin/events/{event_id}/messages",
                            json={
                                "subject": f"Hinweis {number}",
                                "body": "Bitte beachten Sie die Anfahrt.",
                                "audience": ["confirmed", "waitlisted"],
                            },
                            headers=AUTH,
                        ).raise_for_status()
                owed = psql(url, "SELECT count(*) FROM outbox_messages")[0][0]
                started = time.perf_counter()
                with (
                    process(worker, folder / "worker-1.log", env),
                    process(worker, folder / "worker-2.log", env),
                ):
                    deadline = time.monotonic() + 3600
                    while time.monotonic() < deadline:
                        left = psql(url, "SELECT count(*) FROM outbox_messages WHERE status IN ('queued', 'sending')")
                        if left[0][0] == 0:
                            break
                        time.sleep(0.5)
                mail_seconds = time.perf_counter() - started
            overbooked = sum(
                max(0, taken - capacity)
                for taken, capacity in psql(
                    url,
                    "SELECT count(r.id) FILTER (WHERE r.status IN ('confirmed', 'offered')), e.capacity "
                    "FROM events e LEFT JOIN registrations r ON r.event_id = e.id GROUP BY e.id, e.capacity",
                )
            )
            sent = {row[0] for row in psql(url, "SELECT message_key FROM outbox_messages WHERE status = 'sent'")}
            not_sent = psql(url, "SELECT count(*) FROM outbox_messages WHERE status <> 'sent'")[0][0]
        received = [line.strip() for line in ids.read_text().splitlines() if line.strip()]
        keys = [line.strip("<>").split("@")[0] for line in received]
        duplicates = len(keys) - len(set(keys))
        lost = not_sent + len(sent - set(keys))
    errors = sum(1 for status in rush["statuses"] if status != 201)
    print(
        f"postgresql, 2 instances x 2 workers, 2 senders, Redis limits: {args.registrations} registrations for "
        f"{args.events} events from {args.clients} clients: {rush['rps']:.0f} req/s, p50 {rush['p50_ms']:.0f} ms, "
        f"p99 {rush['p99_ms']:.0f} ms, non-201 {errors}"
    )
    print(
        f"  {owed} emails owed, {len(received)} received by the sink in {mail_seconds:.1f} s "
        f"({len(received) / max(mail_seconds, 1e-9):.0f} emails/s)"
    )
    print(f"overbooked {overbooked}, duplicates {duplicates}, lost {lost}")


if __name__ == "__main__":
    if POSTGRES_ADMIN is None:
        raise SystemExit("EVENTSVC_TEST_POSTGRES_URL is needed")
    main()

"""Where a registration's time goes: the statements (and round trips) one registration sends,
those under the event's lock among them, and a pyinstrument profile of many registrations
through the app in one process (no HTTP server, no client: the service's own share).

    python benchmarks/profile_registration.py [--registrations 300] [--html profile.html]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from common import backends, database
from flask_migrate import upgrade
from psycopg import pq
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


def statements_of_one(app, client, url: str) -> tuple[list[str], int]:
    """The statements one registration sends and the round trips they take, as the driver
    sees them (the hot path runs its statements on the driver's cursor, past SQLAlchemy's
    events): SQLite's trace callback; on PostgreSQL, libpq's trace of the protocol, where
    each Sync is a round trip."""
    seen: list[str] = []
    traces: list[Path] = []

    def watch(dbapi_connection, record, proxy):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(lambda sql: seen.append(" ".join(sql.split())[:90]))
        else:
            trace = Path(tempfile.mkstemp(suffix=".trace")[1])
            traces.append(trace)
            record.info["trace"] = open(trace, "w")  # noqa: SIM115  (closed on checkin)
            dbapi_connection.pgconn.trace(record.info["trace"].fileno())
            dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def unwatch(dbapi_connection, record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(None)
        elif "trace" in record.info:
            dbapi_connection.pgconn.untrace()
            record.info.pop("trace").close()

    sa_event.listen(db.engine, "checkout", watch)
    sa_event.listen(db.engine, "checkin", unwatch)
    try:
        db.engine.dispose()  # every connection is checked out anew, and watched
        response = client.post(url, json={"name": "Eine Person", "email": "one@example.org", "consent": True})
        assert response.status_code == 201, response.get_json()
    finally:
        sa_event.remove(db.engine, "checkout", watch)
        sa_event.remove(db.engine, "checkin", unwatch)
    if not traces:
        return seen, 0  # SQLite runs in the process: no round trips
    round_trips = 0
    for trace in traces:
        for line in trace.read_text().splitlines():
            # Front-end messages: "F", length, message type, its fields ('"" "SELECT …"').
            parts = line.split("\t")
            if len(parts) < 3 or parts[0] != "F":
                continue
            if parts[2] in ("Query", "Parse"):
                # Parse: '"" "SQL" 0' (name, text, parameter types); Query: '"SQL"'.
                fields = parts[3].strip().removeprefix('"" ' if parts[2] == "Parse" else "")
                seen.append(fields.split('"')[1][:90])
            round_trips += parts[2] in ("Query", "Sync")
        trace.unlink()
    return seen, round_trips


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
                statements, round_trips = statements_of_one(app, client, target)
            trips = f" in {round_trips} round trips" if round_trips else ""
            print(f"{backend}: one registration sends {len(statements)} statements{trips}:")
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

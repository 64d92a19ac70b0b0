"""Shared parts of the benchmarks: servers as subprocesses, a load generator, statistics."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.processes import free_port  # noqa: E402
from tests.processes import gunicorn as run_gunicorn  # noqa: E402

POSTGRES_ADMIN = os.environ.get("EVENTSVC_TEST_POSTGRES_URL", "postgresql://eventsvc:eventsvc@127.0.0.1:5432/postgres")


def event_row(at, **overrides) -> dict:
    """The columns of an event inserted straight into the table, published, made a month
    before `at`; `overrides` sets the ones a benchmark is about."""
    from datetime import timedelta

    return {
        "slug": "bench",
        "uid": "bench@bench",
        "title": "Fachtag",
        "timezone": "Europe/Berlin",
        "waitlist_enabled": True,
        "offer_window": 48 * 3600,
        "reconfirm_window": 3 * 86400,
        "reminder_offsets": [],
        "reminders_queued": {},
        "documentation_delay": 7200,
        "documentation_recipients": "confirmed",
        "status": "published",
        "sequence": 0,
        "created_at": at - timedelta(days=30),
        "changed_at": at - timedelta(days=30),
        **overrides,
    }


def backends() -> list[str]:
    return [b for b in os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",") if b]


@contextmanager
def database(backend: str, folder: Path):
    """A fresh, empty database URL for one measurement."""
    if backend == "sqlite":
        path = folder / f"{uuid.uuid4().hex}.sqlite3"
        yield f"sqlite:///{path}"
        return
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = POSTGRES_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def service_env(database_url: str, instance: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTSVC_")}
    env.update(
        EVENTSVC_DATABASE_URL=database_url,
        EVENTSVC_INSTANCE_PATH=str(instance),
        EVENTSVC_ADMIN_TOKEN="bench-token",
        EVENTSVC_SECRET_KEY="bench",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def migrate(env: dict) -> None:
    subprocess.run(
        [sys.executable, "-m", "eventsvc.edges.cli", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def gunicorn(app_spec: str, env: dict, log: Path, workers: int = 2):
    """`app_spec` under gunicorn on a free port, as the tests start it, logging only warnings."""
    return run_gunicorn(env, free_port(), log, workers, app_spec, "--log-level", "warning")


@contextmanager
def service_and_baseline(backend: str, folder: Path, **service_settings: str):
    """The service and the bare baseline app (`baseline_app.py`), each under gunicorn with a
    database of its own, both up for a whole run so that rounds can alternate."""
    with database(backend, folder) as service_url, database(backend, folder) as baseline_url:
        env = service_env(service_url, folder / f"instance-{backend}", **service_settings)
        migrate(env)
        baseline_env = service_env(baseline_url, folder / f"baseline-{backend}") | {
            "PYTHONPATH": str(ROOT / "benchmarks")
        }
        subprocess.run(
            [sys.executable, "-c", "from baseline_app import app, db\nwith app.app_context(): db.create_all()"],
            env=baseline_env,
            check=True,
            cwd=ROOT / "benchmarks",
        )
        with (
            gunicorn("wsgi:app", env, log=folder / f"service-{backend}.log") as service,
            gunicorn("baseline_app:app", baseline_env, log=folder / f"baseline-{backend}.log") as baseline,
        ):
            yield service, baseline


def fire(requests_to_send: list, concurrency: int) -> dict:
    """Send (method, url, kwargs) tuples from `concurrency` threads, each with its own session,
    each sending its next request as soon as it has an answer (closed loop)."""
    return _send_all(requests_to_send, concurrency)


def fire_paced(requests_to_send: list, rate: float, concurrency: int = 64) -> dict:
    """Send the requests at a fixed arrival rate (open loop), whatever the answers' speed.

    Each request has its moment, start + i / rate, and its latency is counted from that
    moment, not from when a thread got round to it: a server that falls behind shows it as
    latency instead of quietly slowing the client down (coordinated omission).
    """
    start = time.perf_counter() + 0.2
    return _send_all(requests_to_send, concurrency, lambda index: start + index / rate)


def _send_all(requests_to_send: list, concurrency: int, moment_of=None) -> dict:
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    pending = iter(enumerate(requests_to_send))

    def worker():
        session = requests.Session()
        while True:
            with lock:
                item = next(pending, None)
            if item is None:
                return
            index, (method, url, kwargs) = item
            moment = time.perf_counter() if moment_of is None else moment_of(index)
            delay = moment - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the load, not waiting for a result
            response = session.request(method, url, timeout=60, **kwargs)
            elapsed = time.perf_counter() - moment
            with lock:
                latencies.append(elapsed)
                statuses.append(response.status_code)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter() if moment_of is None else moment_of(0)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return {
        "count": len(latencies),
        "seconds": wall,
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "statuses": statuses,
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def show(label: str, result: dict) -> None:
    print(
        f"  {label:<28} {result['rps']:8.1f} req/s   p50 {result['p50_ms']:7.1f} ms   p99 {result['p99_ms']:7.1f} ms"
        f"   ({result['count']} requests in {result['seconds']:.1f} s)"
    )


def median(values):
    return statistics.median(values)

"""Shared rate limits: two web processes that count in one Redis give one limit, not two."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import requests

from tests.helpers import ADMIN, event_payload, on_the_real_clock
from tests.processes import free_port, gunicorn, service_env


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is needed: tests/run-all.sh installs it")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # waiting for a server process to come up, not for a clock
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(10)


@pytest.mark.slow
def test_two_web_processes_share_one_registration_limit(app, database_url, redis_url, tmp_path):
    env = service_env(
        database_url,
        tmp_path / "instance",
        EVENTSVC_RATELIMIT_STORAGE_URI=redis_url,
        EVENTSVC_RATELIMIT_REGISTRATION="3 per minute",
    )
    with (
        gunicorn(env, free_port(), tmp_path / "web-1.log", 1) as first,
        gunicorn(env, free_port(), tmp_path / "web-2.log", 1) as second,
    ):
        event = requests.post(
            f"{first}/api/v1/admin/events", json=event_payload(starts=on_the_real_clock(), capacity=50), headers=ADMIN
        ).json()

        def register(base: str, n: int) -> requests.Response:
            body = {"name": f"Person {n}", "email": f"p{n}@example.org", "consent": True}
            return requests.post(f"{base}/api/v1/events/{event['id']}/registrations", json=body, timeout=30)

        answers = [register(base, n).status_code for n, base in enumerate([first, second, first, second])]
        assert answers == [201, 201, 201, 429]
        limited = register(first, 9)
        assert limited.status_code == 429 and limited.headers.get("Retry-After")
        assert limited.json()["code"] == "rate_limited"

"""The service as it runs in production: separate processes, a real SMTP server, restarts."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
import requests

from tests.helpers import ADMIN, event_payload, on_the_real_clock, wait_for
from tests.processes import free_port, mail_env, running, service_env, start_worker

pytestmark = pytest.mark.slow


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "eventsvc.edges.cli", "serve", "--port", str(port)]


def test_serve_with_no_configuration_writes_eml_files(tmp_path):
    port = free_port()
    instance = tmp_path / "instance"
    env = service_env(f"sqlite:///{instance / 'eventsvc.sqlite3'}", instance, EVENTSVC_TICK_SECONDS="1")
    del env["EVENTSVC_DATABASE_URL"]  # the default: a SQLite file in the instance folder
    with running(serve_command(port), env, port, tmp_path / "serve.log") as base:
        event = requests.post(
            f"{base}/api/v1/admin/events", json=event_payload(starts=on_the_real_clock()), headers=ADMIN
        ).json()
        body = {"name": "Eva", "email": "eva@example.org", "consent": True}
        assert requests.post(f"{base}/api/v1/events/{event['id']}/registrations", json=body).status_code == 201
        wait_for(lambda: list((instance / "mail").glob("*.eml")))
    assert (instance / "eventsvc.sqlite3").exists()
    [eml] = (instance / "mail").glob("*.eml")
    assert b"X-Eventsvc-Kind: confirmation" in eml.read_bytes()


def test_two_workers_send_each_email_once(app, database_url, smtp, tmp_path):
    http_port = free_port()
    env = mail_env(database_url, tmp_path / "instance", smtp.port)
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{http_port}", "wsgi:app"]
    with running(command, env, http_port, tmp_path / "web.log") as base:
        event = requests.post(
            f"{base}/api/v1/admin/events", json=event_payload(starts=on_the_real_clock(), capacity=300), headers=ADMIN
        ).json()
        for i in range(120):
            body = {"name": f"P{i}", "email": f"p{i}@example.org", "consent": True}
            requests.post(f"{base}/api/v1/events/{event['id']}/registrations", json=body)
        workers = [start_worker(env, tmp_path / f"worker{n}.log") for n in range(2)]
        try:
            wait_for(lambda: len(smtp.raw()) >= 120)
        finally:  # a stopped worker has finished its SMTP exchange: every send it made has arrived
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=15)
    ids = Counter(message["Message-ID"] for message in smtp.messages)
    assert len(ids) == 120 and max(ids.values()) == 1


def test_restart_mid_queue_loses_nothing_and_repeats_nothing(app, database_url, smtp, tmp_path):
    port = free_port()
    # A short lease: should the first process be killed before it hands its claims back, the
    # second may take them over within the wait below.
    env = mail_env(
        database_url, tmp_path / "instance", smtp.port, EVENTSVC_MAIL_RETRY_MAX_DELAY="2", EVENTSVC_MAIL_LEASE="10"
    )
    smtp.stop()  # mail piles up in the outbox while the server is down
    with running(serve_command(port), env, port, tmp_path / "serve1.log") as base:
        event = requests.post(
            f"{base}/api/v1/admin/events", json=event_payload(starts=on_the_real_clock(), capacity=100), headers=ADMIN
        ).json()
        for i in range(30):
            body = {"name": f"P{i}", "email": f"p{i}@example.org", "consent": True}
            requests.post(f"{base}/api/v1/events/{event['id']}/registrations", json=body)
        smtp.start()
        wait_for(lambda: len(smtp.raw()) >= 1)
    # The first process is gone, perhaps mid-batch; a new one finishes the queue.
    with running(serve_command(port), env, port, tmp_path / "serve2.log"):
        wait_for(lambda: len(smtp.raw()) >= 30)
    # The process has stopped, so every email it sent has arrived.
    ids = Counter(message["Message-ID"] for message in smtp.messages)
    recipients = Counter(message["To"].addresses[0].addr_spec for message in smtp.messages)
    assert len(recipients) == 30
    # SMTP's one loophole: the email in flight when the process died may go twice, same Message-ID.
    assert len(ids) == 30 and sum(ids.values()) <= 31

"""Starting the service as separate processes (gunicorn, `eventsvc serve`, `eventsvc worker`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(database_url: str, instance: Path, **extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("EVENTSVC_")}
    env.update(
        {
            "EVENTSVC_DATABASE_URL": database_url,
            "EVENTSVC_INSTANCE_PATH": str(instance),
            "EVENTSVC_ADMIN_TOKEN": "test-admin-token",
            "EVENTSVC_SECRET_KEY": "test-secret",
            # These processes are driven by one client; the limits have tests of their own.
            "EVENTSVC_RATELIMIT_REGISTRATION": "100000 per minute",
        }
    )
    env.update(extra)
    return env


def wait_until_healthy(base: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}")
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or busy starting
            pass
        time.sleep(0.05)  # polling a starting process, not standing in for a clock
    raise TimeoutError(f"{base} did not become healthy")


@contextmanager
def running(command: list[str], env: dict, port: int, log: Path):
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, process)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def gunicorn(env: dict, port: int, log: Path, workers: int = 2, app_spec: str = "wsgi:app", *options: str):
    """`app_spec` under gunicorn with `workers` workers on `port`, healthy before it is used;
    stopped afterwards. `options` go to gunicorn as they are."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        *options,
        app_spec,
    ]
    return running(command, env, port, log)


def mail_env(database_url: str, instance: Path, smtp_port: int, **extra: str) -> dict:
    """service_env for processes that send to the test SMTP server, looking for work often."""
    settings = {
        "EVENTSVC_MAIL_SERVER": "127.0.0.1",
        "EVENTSVC_MAIL_PORT": str(smtp_port),
        "EVENTSVC_TICK_SECONDS": "0.2",
    }
    return service_env(database_url, instance, **(settings | extra))


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    """`eventsvc worker` in a process of its own, its output in `log`."""
    return subprocess.Popen(
        [sys.executable, "-m", "eventsvc.edges.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
    )

"""The clock: finds due work on a timer and calls the domain. Nothing else lives here.

Two jobs, each at most one instance at a time: `materialise` writes due reminders and
documentation emails to the outbox; `dispatch` sends what the outbox holds. Requests that
queue email wake `dispatch` early when the scheduler runs in the same process.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from eventsvc.scheduler.jobs import dispatch, materialise

log = logging.getLogger(__name__)


def _add_jobs(scheduler, app: Flask, woken: threading.Event) -> None:
    every = float(app.config["TICK_SECONDS"])
    first = datetime.now(timezone.utc)
    for name, job, args in (("materialise", materialise, [app]), ("dispatch", _dispatch_until_quiet, [app, woken])):
        scheduler.add_job(job, "interval", args=args, seconds=every, id=name,
                          next_run_time=first, max_instances=1, coalesce=True, misfire_grace_time=None)


def _dispatch_until_quiet(app: Flask, woken: threading.Event) -> None:
    """Send, and send again if a request queued email meanwhile: a wake-up that arrives while
    the job runs cannot start a second instance, and would otherwise wait for the next tick."""
    while True:
        woken.clear()
        dispatch(app)
        if not woken.is_set():
            return


def start_background(app: Flask) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    woken = threading.Event()
    _add_jobs(scheduler, app, woken)
    scheduler.start()

    def wake() -> None:
        woken.set()
        try:
            scheduler.modify_job("dispatch", next_run_time=datetime.now(timezone.utc))
        except Exception:  # the scheduler is shutting down; the next process will send
            log.debug("could not wake the sender", exc_info=True)

    app.extensions["eventsvc.wake_sender"] = wake
    return scheduler


def run_blocking(app: Flask) -> None:
    scheduler = BlockingScheduler(timezone=timezone.utc)
    _add_jobs(scheduler, app, threading.Event())
    scheduler.start()

"""The clock: finds due work on a timer and calls the domain. Nothing else lives here.

Two jobs, each at most one instance at a time: `materialise` writes due reminders and
documentation emails to the outbox; `dispatch` sends what the outbox holds. Requests that
queue email wake `dispatch` early when the scheduler runs in the same process.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from eventsvc.scheduler.jobs import dispatch, materialise

log = logging.getLogger(__name__)


def _add_jobs(scheduler, app: Flask) -> None:
    every = float(app.config["TICK_SECONDS"])
    first = datetime.now(timezone.utc)
    for job in (materialise, dispatch):
        scheduler.add_job(job, "interval", args=[app], seconds=every, id=job.__name__,
                          next_run_time=first, max_instances=1, coalesce=True, misfire_grace_time=None)


def start_background(app: Flask) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    _add_jobs(scheduler, app)
    scheduler.start()

    def wake() -> None:
        try:
            scheduler.modify_job("dispatch", next_run_time=datetime.now(timezone.utc))
        except Exception:  # the scheduler is shutting down; the next process will send
            log.debug("could not wake the sender", exc_info=True)

    app.extensions["eventsvc.wake_sender"] = wake
    return scheduler


def run_blocking(app: Flask) -> None:
    scheduler = BlockingScheduler(timezone=timezone.utc)
    _add_jobs(scheduler, app)
    scheduler.start()

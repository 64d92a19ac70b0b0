"""The clock: finds due work on a timer and calls the domain. Nothing else lives here.

Two jobs, each at most one instance at a time: `materialise` writes due reminders and
documentation emails to the outbox; `dispatch` sends what the outbox holds. Requests that
queue email wake `dispatch` early when the scheduler runs in the same process. Stopping
(SIGTERM, Ctrl-C) lets the email in flight finish and hands the rest of the batch back.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from eventsvc.mail.dispatch import Sender
from eventsvc.scheduler.jobs import dispatch, materialise

log = logging.getLogger(__name__)


class Clockwork:
    """The jobs of one process: a sender identity, the wake-up and the stop signal."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.sender = Sender()
        self.woken = threading.Event()

    def add_jobs(self, scheduler: Any) -> None:
        every = float(self.app.config["TICK_SECONDS"])
        first = datetime.now(UTC)
        for name, job in (("materialise", self.materialise), ("dispatch", self.dispatch_until_quiet)):
            scheduler.add_job(
                job,
                "interval",
                seconds=every,
                id=name,
                next_run_time=first,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )

    def materialise(self) -> None:
        if not self.sender.stopping.is_set():
            materialise(self.app)

    def dispatch_until_quiet(self) -> None:
        """Send, and send again if a request queued email meanwhile: a wake-up that arrives
        while the job runs cannot start a second instance, and would otherwise wait for the
        next tick."""
        while not self.sender.stopping.is_set():
            self.woken.clear()
            dispatch(self.app, sender=self.sender)
            if not self.woken.is_set():
                return

    def stop(self) -> None:
        self.sender.stopping.set()


def start_background(app: Flask) -> tuple[BackgroundScheduler, Clockwork]:
    scheduler = BackgroundScheduler(timezone=UTC)
    clockwork = Clockwork(app)
    clockwork.add_jobs(scheduler)
    scheduler.start()

    def wake() -> None:
        clockwork.woken.set()
        try:
            scheduler.modify_job("dispatch", next_run_time=datetime.now(UTC))
        except Exception:  # the scheduler is shutting down; the next process will send
            log.debug("could not wake the sender", exc_info=True)

    app.extensions["eventsvc.wake_sender"] = wake
    return scheduler, clockwork


def stop_background(scheduler: BackgroundScheduler, clockwork: Clockwork) -> None:
    """Let the email in flight finish, hand the rest back, and stop."""
    clockwork.stop()
    scheduler.shutdown(wait=True)


def run_blocking(app: Flask) -> None:
    scheduler = BlockingScheduler(timezone=UTC)
    clockwork = Clockwork(app)
    clockwork.add_jobs(scheduler)

    stopping: list[threading.Thread] = []

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping after the email in flight", signum)
        clockwork.stop()
        if not stopping:  # shutdown waits for the running jobs; the signal handler must not
            stopping.append(threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}))
            stopping[0].start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
    for thread in stopping:
        thread.join()

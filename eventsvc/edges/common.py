"""What every edge needs besides the unit of work (eventsvc.db): the clock and the links."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from eventsvc.domain.clock import Clock
from eventsvc.links import Links


def now() -> datetime:
    clock: Clock = current_app.extensions["eventsvc.clock"]
    return clock.now()


def links() -> Links:
    return Links(current_app.config["BASE_URL"])

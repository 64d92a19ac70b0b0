"""One tick of each job: read the clock, find what is due, call the domain in a unit of work."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Optional

from flask import Flask

from eventsvc.db import db, unit_of_work
from eventsvc.domain import waitlist
from eventsvc.domain.documents import deliver_due_documentation
from eventsvc.domain.reminders import queue_due_reminders
from eventsvc.mail.dispatch import Sender, send_due, sender_session

log = logging.getLogger(__name__)


def _now(app: Flask) -> datetime:
    return app.extensions["eventsvc.clock"].now()


def materialise(app: Flask, now: Optional[datetime] = None) -> dict:
    """Write the reminders and documentation emails that have fallen due."""
    with app.app_context():
        moment = now or _now(app)
        try:
            with unit_of_work() as session:
                reminders = queue_due_reminders(session, moment)
            with unit_of_work() as session:
                documentation = deliver_due_documentation(session, moment)
            with unit_of_work() as session:
                offers = waitlist.expire_offers(session, moment)
            with unit_of_work() as session:
                asked = waitlist.ask_to_reconfirm(session, moment)
            with unit_of_work() as session:
                released = waitlist.release_unreconfirmed(session, moment)
        except Exception:
            log.exception("materialising due work failed; the next tick tries again")
            raise
        finally:
            db.session.remove()
        done = {
            "reminders": reminders,
            "documentation": documentation,
            "offers_expired": offers,
            "reconfirm_asked": asked,
            "released": released,
        }
        if any(done.values()):
            log.info("due work: %s", ", ".join(f"{name} {count}" for name, count in done.items() if count))
        return done


def dispatch(app: Flask, now: Optional[datetime] = None, sender: Optional[Sender] = None) -> dict:
    """Send what the outbox holds that is due."""
    with app.app_context(), sender_session(db.engine) as session:
        return send_due(app, session, lambda: now or _now(app), sender)


def tick(app: Flask, now: Optional[datetime] = None) -> dict:
    """Both jobs once, in order: what a scheduler tick does (tests and benchmarks call it)."""
    return {**materialise(app, now), **dispatch(app, now)}

"""One tick of each job: read the clock, call the domain, commit."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Optional

from flask import Flask

from eventsvc.db import db

log = logging.getLogger(__name__)


def _now(app: Flask) -> datetime:
    return app.extensions["eventsvc.clock"].now()


def materialise(app: Flask, now: Optional[datetime] = None) -> dict:
    """Write the reminders and documentation emails that have fallen due."""
    from eventsvc.domain.documents import deliver_due_documentation
    from eventsvc.domain.reminders import queue_due_reminders

    with app.app_context():
        moment = now or _now(app)
        try:
            reminders = queue_due_reminders(db.session, moment)
            db.session.commit()
            documentation = deliver_due_documentation(db.session, moment)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("materialising due work failed; the next tick tries again")
            raise
        finally:
            db.session.remove()
        wake = app.extensions.get("eventsvc.wake_sender")
        if wake and (reminders or documentation):
            wake()
        return {"reminders": reminders, "documentation": documentation}


def dispatch(app: Flask, now: Optional[datetime] = None) -> dict:
    """Send what the outbox holds that is due."""
    from eventsvc.mail.dispatch import send_due, sender_session

    with app.app_context(), sender_session(db.engine) as session:
        return send_due(app, session, lambda: now or _now(app))


def tick(app: Flask, now: Optional[datetime] = None) -> dict:
    """Both jobs once, in order: what a scheduler tick does (tests and benchmarks call it)."""
    return {**materialise(app, now), **dispatch(app, now)}

"""One tick of each job: read the clock, find what is due, call the domain in a unit of work."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Optional

from flask import Flask

from eventsvc.db import db, unit_of_work
from eventsvc.domain import bounces, feedback, interest, retention, waitlist
from eventsvc.domain.clock import Clock
from eventsvc.domain.documents import deliver_due_documentation
from eventsvc.domain.reminders import queue_due_reminders
from eventsvc.mail.dispatch import Sender, send_due, sender_session
from eventsvc.mail.transport import forget_sent

log = logging.getLogger(__name__)


def _now(app: Flask) -> datetime:
    clock: Clock = app.extensions["eventsvc.clock"]
    return clock.now()


def materialise(app: Flask, now: Optional[datetime] = None) -> dict[str, Any]:
    """Do the work that has fallen due: reminders and documentation emails to write, offers
    and reconfirmations, the end of retention."""
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
                handed_on = waitlist.hand_on_after_windows(session, moment)
            with unit_of_work() as session:
                asked = waitlist.ask_to_reconfirm(session, moment)
            with unit_of_work() as session:
                released = waitlist.release_unreconfirmed(session, moment)
            with unit_of_work() as session:
                notices = retention.queue_notices(session, moment)
            with unit_of_work() as session:
                feedback_emails = feedback.send_due(session, moment)
            with unit_of_work() as session:
                bounce_reports = bounces.queue_daily_reports(session, moment)
            with unit_of_work() as session:
                interest_removed = interest.remove_stale(session, moment, app.config["INTEREST_RETENTION_SECONDS"])
            sensitive = _remove_sensitive_answers(app, moment)
            anonymised = _anonymise(app, moment)
        except Exception:
            log.exception("materialising due work failed; the next tick tries again")
            raise
        finally:
            db.session.remove()
        done = {
            "reminders": reminders,
            "documentation": documentation,
            "offers_expired": offers,
            "seats_after_windows": handed_on,
            "reconfirm_asked": asked,
            "released": released,
            "retention_notices": notices,
            "feedback_emails": feedback_emails,
            "bounce_reports": bounce_reports,
            "interest_entries_removed": interest_removed,
            "sensitive_answers_looked_at": sensitive,
            "anonymised": anonymised,
        }
        if any(done.values()):
            log.info("due work: %s", ", ".join(f"{name} {count}" for name, count in done.items() if count))
        return done


def _remove_sensitive_answers(app: Flask, moment: datetime) -> int:
    """Batches of the end of sensitive retention, each its own transaction, up to the tick's budget."""
    looked_at = 0
    while looked_at < app.config["RETENTION_ROWS_PER_TICK"]:
        with unit_of_work() as session:
            event_id = retention.next_sensitive_event(session, moment)
            if event_id is None:
                break
            batch = retention.remove_sensitive_answers(session, event_id, moment, app.config["RETENTION_BATCH"])
        looked_at += max(batch, 1)
    return looked_at


def _anonymise(app: Flask, moment: datetime) -> int:
    """Batches of the end of retention, each its own transaction, up to the tick's budget."""
    anonymised = steps = 0
    while anonymised + steps < app.config["RETENTION_ROWS_PER_TICK"]:
        with unit_of_work() as session:
            event_id = retention.next_event_to_anonymise(session, moment)
            if event_id is None:
                break
            batch = retention.anonymise_batch(session, event_id, moment, app.config["RETENTION_BATCH"])
            # Inside the transaction: should the commit fail, the batch is done again and
            # finds these files gone, rather than leaving them behind for good.
            forget_sent(app.config, batch.sent_message_keys)
        anonymised += batch.registrations
        steps += 1
    return anonymised


def dispatch(app: Flask, now: Optional[datetime] = None, sender: Optional[Sender] = None) -> dict[str, Any]:
    """Send what the outbox holds that is due."""
    with app.app_context(), sender_session(db.engine) as session:
        return send_due(app, session, lambda: now or _now(app), sender)


def tick(app: Flask, now: Optional[datetime] = None) -> dict[str, Any]:
    """Both jobs once, in order: what a scheduler tick does (tests and benchmarks call it)."""
    return {**materialise(app, now), **dispatch(app, now)}

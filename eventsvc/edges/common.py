"""What every edge needs: the session, the clock, and a transaction around a domain call."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from flask import current_app

from eventsvc.db import db
from eventsvc.domain.errors import AlreadyRegistered
from eventsvc.domain.outbox import OUTBOX_WRITTEN


def now() -> datetime:
    return current_app.extensions["eventsvc.clock"].now()


@contextmanager
def unit_of_work():
    """Commit what the block did, or roll all of it back when the domain refuses.

    One refusal keeps its changes: already_registered writes the notice email (rate
    limited) that tells the address owner how to manage the registration they hold.
    """
    try:
        yield db.session
    except AlreadyRegistered:
        db.session.commit()
        if db.session.info.pop(OUTBOX_WRITTEN, False):
            wake_sender()
        raise
    except BaseException:
        db.session.rollback()
        db.session.info.pop(OUTBOX_WRITTEN, None)
        raise
    else:
        db.session.commit()
        if db.session.info.pop(OUTBOX_WRITTEN, False):
            wake_sender()


def wake_sender() -> None:
    """Ask an in-process scheduler to look at the outbox now rather than at its next tick."""
    wake = current_app.extensions.get("eventsvc.wake_sender")
    if wake is not None:
        wake()


"""What every edge needs: the session, the clock, and a transaction around a domain call."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from flask import current_app

from eventsvc.db import db
from eventsvc.domain.errors import AlreadyRegistered, DomainError


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
        raise
    except BaseException:
        db.session.rollback()
        raise
    else:
        db.session.commit()
        wake_sender()


def wake_sender() -> None:
    """Ask an in-process scheduler to look at the outbox now rather than at its next tick."""
    wake = current_app.extensions.get("eventsvc.wake_sender")
    if wake is not None:
        wake()


__all__ = ["DomainError", "now", "unit_of_work", "wake_sender"]

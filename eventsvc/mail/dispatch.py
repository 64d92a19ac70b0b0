"""Sending what the outbox holds: claim a batch, send over one connection, record each result.

Each result is committed as soon as it is known, so a crash repeats at most the one email
that was in flight (with the same Message-ID). A dropped connection puts the rest of the
batch back with the back-off; 5xx answers fail the one email and go on.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator

from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from eventsvc import resource_dir
from eventsvc.domain import outbox
from eventsvc.domain.models import Registration
from eventsvc.mail.compose import MailSettings, Skip, compose, template_environment
from eventsvc.mail.transport import DeliveryFailure, PermanentFailure, make_transport

log = logging.getLogger(__name__)


def _environment(app: Flask):
    env = app.extensions.get("eventsvc.mail_templates")
    if env is None:
        env = template_environment(resource_dir("email_templates"), app.config.get("EMAIL_TEMPLATES"))
        app.extensions["eventsvc.mail_templates"] = env
    return env


def _load_registrations(session: Session, batch: list) -> list[Registration]:
    """One query for the batch's registrations (and their events), instead of one per email.
    The caller keeps the list while it sends: the session's identity map holds objects only
    weakly, and without a strong reference each email would load its registration again."""
    ids = {message.registration_id for message in batch if message.registration_id}
    return list(session.scalars(select(Registration).where(Registration.id.in_(ids))))


@contextmanager
def sender_session(engine: Engine) -> Iterator[Session]:
    """The sender's own session on one connection, not expiring on commit: it commits once
    per email, and expiring would reload the batch's registrations every time.

    On PostgreSQL every write the sender makes is a single statement (the claim, each
    email's result), so the connection runs in autocommit mode, one round trip per result,
    with synchronous_commit off: the server confirms a result before its WAL reaches the
    disk. A crash of the sender loses nothing; a crash of the database server itself may
    lose the last fraction of a second of results, and those emails go out again under the
    same Message-ID (the claim that fixed it was made long before). SQLite writes its WAL
    without syncing each commit already (synchronous=NORMAL).
    """
    with engine.connect() as connection:
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("SET synchronous_commit TO off")
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                yield session
        finally:
            if postgres:
                connection.exec_driver_sql("RESET synchronous_commit")


def send_due(app: Flask, session: Session, now: Callable) -> dict:
    counts = {"sent": 0, "failed": 0, "retry": 0, "skipped": 0}
    max_delay = float(app.config["MAIL_RETRY_MAX_DELAY"])
    settings = MailSettings.from_config(app.config)
    env = _environment(app)
    transport = make_transport(app.config)
    while True:
        session.expire_all()  # each batch sees registrations as they are now
        batch = outbox.claim_due(session, now(), int(app.config["MAIL_BATCH_SIZE"]))
        if not batch:
            return counts
        registrations = _load_registrations(session, batch)  # noqa: F841  (held for the identity map)
        session.commit()  # no transaction stays open while the mail server talks (see below)
        pending = list(batch)
        try:
            with transport.connect() as connection:
                while pending:
                    message = pending[0]
                    try:
                        email = compose(session, message, settings, env, now())
                        # End compose's reads before the SMTP exchange: on SQLite an open
                        # transaction holds the write lock, and a slow mail server would
                        # hold up every registration.
                        if session.in_transaction():
                            session.commit()
                    except Skip as reason:
                        outbox.mark_skipped(session, message, str(reason))
                        counts["skipped"] += 1
                    except Exception as error:  # a broken template must not stall the queue
                        log.exception("cannot compose outbox message %s", message.id)
                        outbox.mark_failed(session, message, f"cannot compose: {error}")
                        counts["failed"] += 1
                    else:
                        try:
                            connection.send(email)
                        except PermanentFailure as failure:
                            outbox.mark_failed(session, message, failure.detail)
                            counts["failed"] += 1
                        except DeliveryFailure as failure:
                            outbox.schedule_retry(session, message, now(), failure.detail, max_delay)
                            counts["retry"] += 1
                            if failure.connection_lost:
                                pending.pop(0)
                                session.commit()
                                raise
                        else:
                            outbox.mark_sent(session, message, now())
                            counts["sent"] += 1
                    pending.pop(0)
                    session.commit()
        except DeliveryFailure as failure:
            # Could not connect, or lost the connection: the rest waits for the next try.
            log.warning("mail delivery interrupted: %s", failure.detail)
            outbox.release(session, pending, now(), failure.detail, max_delay)
            counts["retry"] += len(pending)
            session.commit()
            return counts

"""Sending what the outbox holds: claim a batch, send over one connection, record each result.

Each email is composed while the server takes in the one before: the answer to an email's
content is read only then (transport.py), and it is recorded before the next goes out.

Emails the server accepted are recorded as sent a few at a time: before the next email goes
out, once RESULTS_PER_WRITE have gathered or the oldest has waited RESULTS_MAX_WAIT
seconds, and always before the sender renews its lease or lets go of its batch. A crash of the sender repeats at most those (with the same
Message-IDs). Other results (a failure, a retry, a skip) are written when they are known.
A dropped connection puts the rest of the batch back with the back-off; 5xx answers fail
the one email and go on.

A sender holds its batch for EVENTSVC_MAIL_LEASE seconds. Before each email it makes sure
that at least half the lease is left, renewing it for the rest of the batch when not; an
email whose row another sender has taken meanwhile is dropped unsent. A sender asked to
stop finishes the email in flight and hands the rest back at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Optional

from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from eventsvc.db import unit_of_work
from eventsvc.domain import bounces, outbox
from eventsvc.domain.models import OutboxMessage, Registration
from eventsvc.domain.outbox import Claimed
from eventsvc.mail.addresses import AddressError, ascii_address, bounce_address
from eventsvc.mail.compose import MailSettings, Skip, compose
from eventsvc.mail.templates import EmailTemplates
from eventsvc.mail.transport import Connection, DeliveryFailure, PermanentFailure, make_transport
from eventsvc.resources import resource_dir

log = logging.getLogger(__name__)

# Writing each sent email's result on its own cost a transaction per email, as much as a
# fifth of what sending it cost. A crash sends at most these again, under the same
# Message-IDs, so that receivers can tell.
RESULTS_PER_WRITE = 50
RESULTS_MAX_WAIT = 1.0


def templates_of(app: Flask) -> EmailTemplates:
    """The email templates, loaded once per app."""
    templates = app.extensions.get("eventsvc.mail_templates")
    if templates is None:
        templates = EmailTemplates(resource_dir("email_templates"), app.config.get("EMAIL_TEMPLATES"))
        app.extensions["eventsvc.mail_templates"] = templates
    return templates


def _load_registrations(session: Session, batch: list[Any]) -> list[Registration]:
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
    same Message-ID. SQLite writes its WAL without syncing each commit already
    (synchronous=NORMAL).
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


class Sender:
    """One sending process's identity and its stop signal."""

    def __init__(self) -> None:
        self.id = outbox.new_sender_id()
        self.stopping = threading.Event()


def send_due(
    app: Flask, session: Session, now: Callable[[], datetime], sender: Optional[Sender] = None
) -> dict[str, Any]:
    sender = sender or Sender()
    counts = {"sent": 0, "failed": 0, "retry": 0, "skipped": 0, "suppressed": 0, "lost": 0}
    lease = timedelta(seconds=float(app.config["MAIL_LEASE"]))
    batch_size = int(app.config["MAIL_BATCH_SIZE"])
    while not sender.stopping.is_set():
        session.expire_all()  # each batch sees registrations as they are now
        with unit_of_work(session=session) as claiming:
            batch = outbox.claim_due(claiming, now(), batch_size, lease, sender.id)
            held_until = now() + lease
        if not batch:
            break
        _send_batch(app, session, batch, held_until, lease, now, sender, counts)
    if sender.stopping.is_set():
        with unit_of_work(session=session) as stopping:
            handed_back = outbox.let_go(stopping, sender.id, now())
        if handed_back:
            log.info("sender %s stopping: handed back %d emails", sender.id, handed_back)
    return counts


def _send_batch(
    app: Flask,
    session: Session,
    batch: list[Any],
    held_until: datetime,
    lease: timedelta,
    now: Callable[[], datetime],
    sender: Sender,
    counts: dict[str, Any],
) -> None:
    max_delay = float(app.config["MAIL_RETRY_MAX_DELAY"])
    settings = MailSettings.from_config(app.config)
    returns_to = bounce_address(app.config)
    templates = templates_of(app)
    with unit_of_work(writes=False, session=session) as reading:
        registrations = _load_registrations(reading, batch)  # noqa: F841  (held for the identity map)
        unreachable = bounces.undeliverable_among(reading, {message.recipient for message in batch})
    pending = list(batch)
    accepted = _Accepted(session, sender.id)
    handed_over = _HandedOver(session, sender.id, now, max_delay, accepted, unreachable, counts)
    try:
        with make_transport(app.config).connect() as connection:
            while pending and not sender.stopping.is_set():
                if accepted.due():
                    accepted.write()
                if held_until - now() < lease / 2:
                    handed_over.settle(connection)
                    accepted.write()
                    before = len(pending)
                    with unit_of_work(session=session) as renewing:
                        pending = outbox.renew(renewing, pending, sender.id, now() + lease)
                        held_until = now() + lease
                    counts["lost"] += before - len(pending)
                    if not pending:
                        break
                message = pending[0]
                try:
                    # The reads end before the SMTP exchange: on SQLite an open transaction
                    # would keep every registration waiting while the mail server talks.
                    with unit_of_work(writes=False, session=session) as reading:
                        email = compose(reading, message, settings, templates, now())
                    recipient = ascii_address(message.recipient)
                except Skip as reason:
                    pending.pop(0)
                    _record(session, outbox.mark_skipped, message, sender.id, str(reason))
                    counts["skipped"] += 1
                    continue
                except AddressError as error:
                    pending.pop(0)
                    _record(session, outbox.mark_failed, message, sender.id, f"cannot mail this address: {error}")
                    counts["failed"] += 1
                    continue
                except Exception as error:  # a broken template must not stall the queue
                    pending.pop(0)
                    log.exception("cannot compose outbox message %s", message.id)
                    _record(session, outbox.mark_failed, message, sender.id, f"cannot compose: {error}")
                    counts["failed"] += 1
                    continue
                # The server took the last email in while this one was composed. Its answer
                # comes first: it may end the connection (this email then stays pending, to
                # be handed back) or make the address undeliverable.
                handed_over.settle(connection)
                if sender.stopping.is_set():
                    break
                pending.pop(0)
                if bounces.normalized(message.recipient) in unreachable:
                    _record(session, outbox.mark_suppressed, message, sender.id, "the address is undeliverable")
                    counts["suppressed"] += 1
                    continue
                handed_over.send(
                    connection, message, email, bounces.verp_address(returns_to, message.message_key), recipient
                )
            handed_over.settle(connection)
    except DeliveryFailure as failure:
        # Could not connect, or lost the connection: the rest waits for the next try.
        log.warning("mail delivery interrupted: %s", failure.detail)
        with unit_of_work(session=session) as releasing:
            outbox.release(releasing, pending, sender.id, now(), failure.detail, max_delay)
        counts["retry"] += len(pending)
    finally:
        accepted.write()


class _HandedOver:
    """The email handed to the server whose answer is not read yet, and what follows from
    an answer: a result to write, an address found undeliverable, a connection lost."""

    def __init__(
        self,
        session: Session,
        sender_id: str,
        now: Callable[[], datetime],
        max_delay: float,
        accepted: _Accepted,
        unreachable: set[str],
        counts: dict[str, Any],
    ) -> None:
        self.session = session
        self.sender_id = sender_id
        self.now = now
        self.max_delay = max_delay
        self.accepted = accepted
        self.unreachable = unreachable
        self.counts = counts
        self.message: Optional[Claimed] = None

    def send(self, connection: Connection, message: Claimed, email: Any, envelope_from: str, recipient: str) -> None:
        try:
            connection.send(email, envelope_from, recipient)
        except DeliveryFailure as failure:
            self._failed(message, failure)
        else:
            self.message = message

    def settle(self, connection: Connection) -> None:
        """Read the server's answer to the email handed over, if there is one, and record it."""
        message, self.message = self.message, None
        if message is None:
            return
        try:
            connection.answer()
        except DeliveryFailure as failure:
            self._failed(message, failure)
        else:
            self.accepted.add(message, self.now())
            self.counts["sent"] += 1
            log.info("outbox %s: %s sent", message.id, message.kind)

    def _failed(self, message: Claimed, failure: DeliveryFailure) -> None:
        if isinstance(failure, PermanentFailure):
            _record(self.session, _fail_for_good, message, self.sender_id, failure.detail, self.now())
            self.unreachable.add(bounces.normalized(message.recipient))
            self.counts["failed"] += 1
            return
        _record(
            self.session, outbox.schedule_retry, message, self.sender_id, self.now(), failure.detail, self.max_delay
        )
        self.counts["retry"] += 1
        if failure.connection_lost:
            raise failure


class _Accepted:
    """Emails the server accepted whose results are not written yet."""

    def __init__(self, session: Session, sender_id: str) -> None:
        self.session = session
        self.sender_id = sender_id
        self.sent: list[tuple[Claimed, datetime]] = []
        self.oldest = 0.0

    def add(self, message: Claimed, at: datetime) -> None:
        if not self.sent:
            self.oldest = time.monotonic()
        self.sent.append((message, at))

    def due(self) -> bool:
        """Checked before each email is sent, so that no result waits on a slow server."""
        return len(self.sent) >= RESULTS_PER_WRITE or (
            bool(self.sent) and time.monotonic() - self.oldest >= RESULTS_MAX_WAIT
        )

    def write(self) -> None:
        if self.sent:
            with unit_of_work(session=self.session) as recording:
                outbox.mark_sent(recording, self.sent, self.sender_id)
            self.sent = []


def _fail_for_good(session: Session, message: Claimed, sender_id: str, detail: str, now: datetime) -> bool:
    """A 5xx answer: the email failed, and its address is undeliverable from now on."""
    if not outbox.mark_failed(session, message, sender_id, detail):
        return False
    row = session.get(OutboxMessage, message.id)
    bounces.mark_undeliverable(session, message.recipient, detail, bounces.SMTP, now, row)
    return True


def _record(session: Session, mark: Callable[..., Any], message: Claimed, sender_id: str, *args: Any) -> None:
    with unit_of_work(session=session) as recording:
        mark(recording, message, sender_id, *args)

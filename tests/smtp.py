"""A real SMTP server for tests (aiosmtpd on a free port) that can misbehave on request."""

from __future__ import annotations

import asyncio
import email
import threading
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller

from tests.processes import free_port


class Recorder:
    """Accepts mail, or answers as `mode` says: ok, temporary (451), permanent (550), drop,
    or hold (accepts only once `release` is set; `holding` is set while it waits). With
    `hold_at` set to n, only the n-th message is held. With `delay`, each message is
    answered that many seconds late: a slow mail server. `refuse` maps a recipient to the
    answer its message's content gets (say "550 ..."), whatever the mode."""

    def __init__(self):
        self.mode = "ok"
        self.delay = 0.0
        self.hold_at = None
        self.refuse: dict[str, str] = {}
        self.seen = 0
        self.received: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TO) of each accepted message
        self.lock = threading.Lock()
        self.holding = threading.Event()
        self.release = threading.Event()
        self.received_one = threading.Event()  # set at each accepted message

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.seen += 1
        if self.mode == "hold" or self.seen == self.hold_at:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        refused = [self.refuse[address] for address in envelope.rcpt_tos if address in self.refuse]
        if refused:
            return refused[0]
        if self.mode == "temporary":
            return "451 4.3.0 Mailbox temporarily unavailable"
        if self.mode == "permanent":
            return "550 5.1.1 No such user"
        if self.mode == "drop":
            server.transport.abort()  # hang up in the middle of the transaction
            return "421 closing"
        with self.lock:
            self.received.append(envelope.original_content or envelope.content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received_one.set()
        return "250 2.0.0 OK"


class SmtpServer:
    def __init__(self):
        self.port = free_port()
        self.recorder = Recorder()
        self.controller = None

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.recorder.lock:
            return [email.message_from_bytes(raw, policy=default) for raw in self.recorder.received]

    def raw(self) -> list[bytes]:
        with self.recorder.lock:
            return list(self.recorder.received)

    def kinds(self) -> list[tuple[str, str]]:
        return [(m["X-Eventsvc-Kind"], m["To"].addresses[0].addr_spec) for m in self.messages]

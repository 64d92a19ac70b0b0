"""Where composed emails go: an SMTP server, or .eml files when none is configured.

Both speak the same small interface: `with transport.connect() as connection:`, then
`connection.send(message, sender, recipient)` hands an email over and `connection.answer()`
raises if the last one handed over was refused. SMTP goes through Flask-Mail. SMTP answers
are sorted into temporary (retry later) and permanent (give up) failures, as RFC 5321 means
them.

The server's answer to an email's content is read as late as the caller likes: the server
takes the email in while the caller composes the next one. The client sends nothing before
it has read that answer, so this is plain SMTP, not pipelining.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32
from io import BytesIO
from pathlib import Path
from typing import Any, Optional, Protocol

import flask_mail


class _WirePolicy(Compat32):
    """The classic generator's policy with CRLF line ends, and a short way for the common
    header: a value that is printable ASCII on one line is written as it is, folded at its
    spaces where it is longer than a line (encoded words, long subjects). The classic way
    runs every value through email.header.Header, which cost a third of the time it takes
    to send an email; any other value still goes that way."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if isinstance(value, str) and value.isascii() and value.isprintable() and value == value.strip():
            if len(name) + len(value) < 77:
                return f"{name}: {value}{self.linesep}"
            folded = _folded_at_spaces(f"{name}:", value, self.linesep)
            if folded is not None:
                return folded
        folded_by_header: str = super()._fold(name, value, sanitize)  # type: ignore[misc]  # typeshed leaves it out
        return folded_by_header


_LINE = 78


def _folded_at_spaces(start: str, value: str, linesep: str) -> str | None:
    """The header folded before spaces (unfolding gives `value` back), each line within 78
    characters; None where a word is too long for a line, or spaces repeat."""
    if "  " in value:
        return None
    lines, line = [], start
    for word in value.split(" "):
        if len(line) + 1 + len(word) <= _LINE or line == start:
            line += " " + word
        else:
            lines.append(line)
            line = " " + word
        if len(line) > _LINE:
            return None
    lines.append(line)
    return linesep.join(lines) + linesep


# How a message goes over the wire (and into .eml files).
WIRE = _WirePolicy(linesep="\r\n")

_LINE_END = re.compile(r"\r\n|\r|\n")  # what the generator takes for a line's end


class _WireGenerator(BytesGenerator):
    """The standard generator, except that a part's text gets its line ends in one pass:
    the standard one writes each line on its own, and a base64 part has one per 76
    characters. The bytes are the same."""

    def _write_lines(self, lines: str) -> None:
        if lines:
            self.write(_LINE_END.sub(WIRE.linesep, lines))


def wire_bytes(message: Message) -> bytes:
    """`message` as it goes over the wire: `message.as_bytes(policy=WIRE)`, sooner."""
    buffer = BytesIO()
    _WireGenerator(buffer, mangle_from_=False, policy=WIRE).flatten(message)
    return buffer.getvalue()


class DeliveryFailure(Exception):
    def __init__(self, detail: str, connection_lost: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.connection_lost = connection_lost


class TemporaryFailure(DeliveryFailure):
    """4xx answers, refused or dropped connections, time-outs: try again later."""


class PermanentFailure(DeliveryFailure):
    """5xx answers: this email will not be accepted."""


class Connection(Protocol):
    def send(self, message: Message, sender: str, recipient: str) -> None: ...

    def answer(self) -> None: ...


class FileTransport:
    """Writes each email as an .eml file: the default when no SMTP server is configured."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    @contextmanager
    def connect(self) -> Iterator[FileTransport]:
        self.directory.mkdir(parents=True, exist_ok=True)
        yield self

    def send(self, message: Message, sender: str, recipient: str) -> None:
        key = message["Message-ID"].strip("<>").split("@")[0]
        target = self._path(key)
        partial = target.with_suffix(".part")
        partial.write_bytes(wire_bytes(message))
        os.replace(partial, target)  # whole files only, and a retry overwrites the same name

    def answer(self) -> None:
        """A written file needs no answer."""

    def forget(self, message_keys: Iterable[str]) -> int:
        """Delete the files of these emails (their person's data is being erased)."""
        deleted = 0
        for key in message_keys:
            try:
                self._path(key).unlink()
                deleted += 1
            except FileNotFoundError:
                pass
        return deleted

    def _path(self, message_key: str) -> Path:
        return self.directory / f"{message_key}.eml"


class SmtpTransport:
    """SMTP through Flask-Mail: its settings (the `MAIL_*` names), its connection, which
    holds one SMTP session for a whole batch, and its `send`, which hands our built email
    over as it is (`BuiltEmail`). What Flask-Mail leaves out is added here: a time limit on
    every wait for the server, a verified certificate for STARTTLS and SSL, and telling
    temporary (4xx) from permanent (5xx) answers."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        settings = dict(config)
        settings["MAIL_PORT"] = int(config.get("MAIL_PORT") or (465 if config.get("MAIL_USE_SSL") else 25))
        # Flask-Mail suppresses sending in testing mode unless told otherwise; this service
        # decides that by configuring no server (then the file transport writes .eml files).
        self.state = flask_mail.Mail().init_mail(settings, testing=False)
        self.timeout = float(config.get("MAIL_TIMEOUT") or 30)

    @contextmanager
    def connect(self) -> Iterator[SmtpConnection]:
        connection = _TimedConnection(self.state, self.timeout)
        try:
            connection.__enter__()
        except smtplib.SMTPResponseException as error:
            raise _classify(error.smtp_code, error.smtp_error, connection_lost=True) from error
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(
                f"cannot connect to {self.state.server}:{self.state.port}: {error}", connection_lost=True
            ) from error
        try:
            yield SmtpConnection(connection)
        finally:
            # What Flask-Mail's __exit__ does (QUIT), but a server already gone is no error.
            if connection.host is not None:
                try:
                    connection.host.quit()
                except (smtplib.SMTPException, OSError):
                    connection.host.close()


class _TimedConnection(flask_mail.Connection):
    """Flask-Mail's connection, opened with a time limit (its own waits for ever on a server
    that accepts and then says nothing) and with the certificate checked on TLS."""

    def __init__(self, state: Any, timeout: float) -> None:
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        host: smtplib.SMTP
        if state.use_ssl:
            host = _SSLSessionAnsweringLater(
                state.server, state.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            host = _SessionAnsweringLater(state.server, state.port, timeout=self.timeout)
        if state.use_tls:
            host.starttls(context=ssl.create_default_context())
        if state.username and state.password:
            host.login(str(state.username), str(state.password))
        return host


class BuiltEmail(flask_mail.Message):
    """An email that compose.py built with the standard library's email package (Flask-Mail
    cannot place a text/calendar part with its method= inside the alternative), handed to
    Flask-Mail's send as it is, to one recipient, from the envelope sender given."""

    def __init__(self, email: Message, sender: str, recipient: str) -> None:
        # Flask-Mail's own constructor would build a MIME message and a Message-ID of its
        # own; the built email has both, so only what Connection.send reads is set here.
        self.email = email
        self.subject = ""
        # As (name, address) pairs: Flask-Mail parses an address given as a string again.
        self.sender = ("", sender)
        self.reply_to = None
        self.recipients = [("", recipient)]
        self.cc = []
        self.bcc = []
        self.date = None
        self.mail_options = []
        self.rcpt_options = []

    def as_bytes(self) -> bytes:
        return wire_bytes(self.email)


class SmtpConnection:
    def __init__(self, connection: flask_mail.Connection) -> None:
        self.connection = connection

    def send(self, message: Message, sender: str, recipient: str) -> None:
        """Hand the email to the server for `recipient` (ASCII, the domain in IDNA form) with
        `sender` as the envelope's From; whether the server takes it, `answer` tells, and
        must have told before the next email is handed over."""
        host = self.connection.host
        if isinstance(host, _SessionAnsweringLater) and host.awaits_answer():
            raise RuntimeError("the answer to the email handed over before has not been read")
        try:
            self.connection.send(BuiltEmail(message, sender, recipient), envelope_from=("", sender))
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _classify(code, text) from error
        except smtplib.SMTPResponseException as error:
            # After a failed MAIL/DATA the session is reset, or the server hangs up (421).
            raise _classify(error.smtp_code, error.smtp_error, connection_lost=error.smtp_code == 421) from error
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as error:
            raise TemporaryFailure(f"connection lost: {error}", connection_lost=True) from error

    def answer(self) -> None:
        """The server's answer to the last email handed over, raised if it refused it."""
        host = self.connection.host
        if not isinstance(host, _SessionAnsweringLater):
            return
        try:
            answered = host.answer()
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as error:
            raise TemporaryFailure(f"connection lost: {error}", connection_lost=True) from error
        if answered is None:
            return
        code, text = answered
        if code == 250:
            return
        if code != 421:
            try:
                host.rset()  # as smtplib does after a refused message
            except (smtplib.SMTPException, OSError) as error:
                raise _classify(code, text, connection_lost=True) from error
        raise _classify(code, text, connection_lost=code == 421)


_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
_BARE_LINE_END = re.compile(r"\r\n|\n|\r")


class _SessionAnsweringLater(smtplib.SMTP):
    """smtplib's session, except that the answer to an email's content is not waited for
    when the content is sent: `data` reports it accepted, and the real answer is read by
    `answer`, or before the next command goes out. Flask-Mail's send returns at once, and
    the caller can compose the next email while the server takes this one in."""

    _unread = False
    _answer: Optional[tuple[int, bytes]] = None

    def data(self, msg: Any) -> tuple[int, bytes]:
        code, reply = self.docmd("data")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = _BARE_LINE_END.sub("\r\n", msg).encode("ascii")
        content = _LEADING_DOT.sub(b"..", msg)  # RFC 5321 4.5.2
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        self.send(content + b".\r\n")
        self._unread = True
        return 250, b"answer read later"

    def awaits_answer(self) -> bool:
        return self._unread or self._answer is not None

    def answer(self) -> Optional[tuple[int, bytes]]:
        """The answer to the last content sent, once (None when there is none)."""
        self._read_answer()
        answered, self._answer = self._answer, None
        return answered

    def putcmd(self, cmd: str, args: str = "") -> None:
        self._read_answer()  # nothing is sent before it is read
        super().putcmd(cmd, args)

    def _read_answer(self) -> None:
        if self._unread:
            self._unread = False
            self._answer = self.getreply()


class _SSLSessionAnsweringLater(_SessionAnsweringLater, smtplib.SMTP_SSL):
    pass


def _classify(code: int, text: bytes | str, connection_lost: bool = False) -> DeliveryFailure:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    detail = f"{code} {text}"
    if 400 <= code < 500 or code < 200:
        return TemporaryFailure(detail, connection_lost)
    return PermanentFailure(detail, connection_lost)


def make_transport(config: Mapping[str, Any]) -> SmtpTransport | FileTransport:
    if config.get("MAIL_SERVER"):
        return SmtpTransport(config)
    return FileTransport(config["MAIL_DIR"])


def forget_sent(config: dict[str, Any], message_keys: Iterable[str]) -> int:
    """Remove what this service keeps of sent emails: the .eml files of the file transport.
    (What went through SMTP is beyond reach; the outbox rows lose their addresses elsewhere.)"""
    transport = make_transport(config)
    return transport.forget(message_keys) if isinstance(transport, FileTransport) else 0

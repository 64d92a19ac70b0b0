"""Where composed emails go: an SMTP server, or .eml files when none is configured.

Both speak the same small interface: `with transport.connect() as connection:
connection.send(message)`. SMTP answers are sorted into temporary (retry later) and
permanent (give up) failures, as RFC 5321 means them.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from email.message import Message
from email.policy import compat32
from pathlib import Path
from typing import Any, Protocol

# How a message goes over the wire (and into .eml files): the classic generator, CRLF.
WIRE = compat32.clone(linesep="\r\n")


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
        partial.write_bytes(message.as_bytes(policy=WIRE))
        os.replace(partial, target)  # whole files only, and a retry overwrites the same name

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
    def __init__(self, config: dict[str, Any]) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = int(config.get("MAIL_PORT") or (465 if config.get("MAIL_USE_SSL") else 25))
        self.use_ssl = bool(config.get("MAIL_USE_SSL"))
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.timeout = float(config.get("MAIL_TIMEOUT") or 30)

    @contextmanager
    def connect(self) -> Iterator[SmtpConnection]:
        try:
            client: smtplib.SMTP
            if self.use_ssl:
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.use_tls:
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(str(self.username), str(self.password or ""))
        except smtplib.SMTPResponseException as error:
            raise _classify(error.smtp_code, error.smtp_error, connection_lost=True) from error
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(
                f"cannot connect to {self.host}:{self.port}: {error}", connection_lost=True
            ) from error
        connection = SmtpConnection(client)
        try:
            yield connection
        finally:
            connection.close()


class SmtpConnection:
    def __init__(self, client: smtplib.SMTP) -> None:
        self.client = client

    def send(self, message: Message, sender: str, recipient: str) -> None:
        """Deliver to `recipient` (ASCII, the domain in IDNA form) with `sender` as the envelope's From."""
        try:
            refused = self.client.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _classify(code, text) from error
        except smtplib.SMTPResponseException as error:
            # After a failed MAIL/DATA the session is reset, or the server hangs up (421).
            raise _classify(error.smtp_code, error.smtp_error, connection_lost=error.smtp_code == 421) from error
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as error:
            raise TemporaryFailure(f"connection lost: {error}", connection_lost=True) from error
        if refused:  # some recipients refused; we send to one at a time, so this is all of them
            code, text = next(iter(refused.values()))
            raise _classify(code, text)

    def close(self) -> None:
        try:
            self.client.quit()
        except (smtplib.SMTPException, OSError):
            self.client.close()


def _classify(code: int, text: bytes | str, connection_lost: bool = False) -> DeliveryFailure:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    detail = f"{code} {text}"
    if 400 <= code < 500 or code < 200:
        return TemporaryFailure(detail, connection_lost)
    return PermanentFailure(detail, connection_lost)


def make_transport(config: Mapping[str, Any]) -> SmtpTransport | FileTransport:
    if config.get("MAIL_SERVER"):
        return SmtpTransport(dict(config))
    return FileTransport(config["MAIL_DIR"])


def forget_sent(config: dict[str, Any], message_keys: Iterable[str]) -> int:
    """Remove what this service keeps of sent emails: the .eml files of the file transport.
    (What went through SMTP is beyond reach; the outbox rows lose their addresses elsewhere.)"""
    transport = make_transport(config)
    return transport.forget(message_keys) if isinstance(transport, FileTransport) else 0

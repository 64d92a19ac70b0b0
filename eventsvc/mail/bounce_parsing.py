"""Reading a bounce: which of our emails it concerns (the VERP tag of the address it was
delivered to, else the Message-ID of the original it quotes) and whether the failure is
permanent. Recognising the many bounce formats is flufl.bounce's work (Mailman's
detectors); the delivery status notification's own Status field (RFC 3464) is read too,
since it says permanent (5.x.x) or temporary (4.x.x) in so many words.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Optional

from flufl.bounce import all_failures

from eventsvc.domain.bounces import tag_of

# Where a mail server puts the address a message was delivered to (our VERP address).
_DELIVERY_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
_MESSAGE_ID = re.compile(r"<([0-9a-f.]{8,64})@[^>]+>", re.IGNORECASE)


@dataclass
class Bounce:
    tag: Optional[str] = None
    quoted_message_key: Optional[str] = None
    permanent: set[str] = field(default_factory=set)
    temporary: set[str] = field(default_factory=set)
    # Per-recipient DSN statuses: address → (status, diagnostic).
    statuses: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def message_key(self) -> Optional[str]:
        return self.tag or self.quoted_message_key

    def is_permanent(self) -> bool:
        return bool(self.permanent) or any(status.startswith("5") for status, _ in self.statuses.values())

    def reason(self) -> str:
        for status, diagnostic in self.statuses.values():
            if status.startswith("5"):
                return f"{status} {diagnostic}".strip()
        return "permanent failure reported by a bounce"


def parse(raw: bytes, bounce_address: str) -> Bounce:
    message = email.message_from_bytes(raw)
    found = Bounce()
    for header in _DELIVERY_HEADERS:
        for value in message.get_all(header, []):
            for address in re.split(r"[,\s]+", str(value)):
                tag = tag_of(address, bounce_address)
                if tag:
                    found.tag = found.tag or tag
    found.quoted_message_key = _quoted_message_key(message)
    found.statuses = _dsn_statuses(message)
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector that trips over odd input must not lose the DSN's own word
        temporary, permanent = frozenset(), frozenset()
    found.permanent = {_text(address) for address in permanent}
    found.temporary = {_text(address) for address in temporary}
    return found


def _text(address: bytes | str) -> str:
    return (address.decode("utf-8", "replace") if isinstance(address, bytes) else address).strip().lower()


def _quoted_message_key(message: Message) -> Optional[str]:
    """The Message-ID of the original that a bounce quotes (message/rfc822 or its headers)."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                match = _MESSAGE_ID.search(str(inner.get("Message-ID", "")))
                if match:
                    return match.group(1)
        elif content_type == "text/rfc822-headers":
            headers = part.get_payload(decode=True)
            text = headers.decode("utf-8", "replace") if isinstance(headers, bytes) else str(part.get_payload())
            for line in text.splitlines():
                if line.lower().startswith("message-id:"):
                    match = _MESSAGE_ID.search(line)
                    if match:
                        return match.group(1)
    return None


def _dsn_statuses(message: Message) -> dict[str, tuple[str, str]]:
    """RFC 3464: per-recipient blocks of the message/delivery-status part."""
    statuses: dict[str, tuple[str, str]] = {}
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        for block in blocks[1:] if len(blocks) > 1 else blocks:
            if not isinstance(block, Message):
                continue
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            status = str(block.get("Status") or "").strip()
            if not recipient or not status:
                continue
            address = recipient.split(";", 1)[-1].strip().lower()
            diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split())
            statuses[address] = (status, diagnostic[:500])
    return statuses

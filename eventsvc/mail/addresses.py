"""Email addresses and the headers that carry them.

SMTP relays cannot be assumed to speak SMTPUTF8, so an address is mailed in ASCII: the
domain in its IDNA form (bücher.example → xn--bcher-kva.example), while a non-ASCII local
part cannot be mailed at all and is refused when the address is entered. Display names may
be anything a person typed: they are encoded as RFC 2047 words and folded, so that no name,
however long, makes a header line that a server refuses.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from email.utils import formataddr, parseaddr
from typing import Any

import idna

_MAX_UNFOLDED = 70


class AddressError(ValueError):
    pass


def ascii_address(address: str) -> str:
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise AddressError("Not an email address.")
    if not local.isascii():
        raise AddressError("The part before the @ must use only ASCII letters, digits and punctuation.")
    if domain.isascii():
        return f"{local}@{domain}"
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError as error:
        raise AddressError("The domain is not a valid internationalised domain name.") from error


def bounce_address(config: Mapping[str, Any]) -> str:
    """Where bounces go (EVENTSVC_BOUNCE_ADDRESS, else the default sender's address), in ASCII."""
    configured = config.get("BOUNCE_ADDRESS") or parseaddr(config["MAIL_DEFAULT_SENDER"])[1]
    return ascii_address(str(configured))


def address_header(name: str, address: str) -> str:
    """`Name <address>` for a From/To/Reply-To header: a plain name quoted where it needs
    quotes, any other name as RFC 2047 words (folded between them when written)."""
    mailbox = ascii_address(address)
    name = " ".join(name.split())
    if not name:
        return mailbox
    if name.isascii() and len(name) <= _MAX_UNFOLDED:
        return formataddr((name, mailbox))
    return f"{encoded_words(name)} <{mailbox}>"


# UTF-8 bytes per encoded word: 42 bytes are 56 in base64, and with `=?utf-8?b?` and `?=`
# a word is 68 characters: within RFC 2047's 75, and on one line after "Reply-To: ".
_WORD_BYTES = 42


def encoded_words(text: str) -> str:
    """`text` as RFC 2047 encoded words (UTF-8, base64), separated by single spaces, each
    holding whole characters; a decoder drops the spaces between the words. ASCII text that
    cannot be mistaken for an encoded word stays as it is. (The standard library's Header
    finds its split points by encoding the text again after every character.)"""
    if text.isascii() and text.isprintable() and "=?" not in text:
        return text
    return " ".join(f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=" for chunk in _utf8_chunks(text))


def _utf8_chunks(text: str) -> Iterator[bytes]:
    chunk = bytearray()
    for character in text:
        encoded = character.encode("utf-8", "surrogatepass")
        if len(chunk) + len(encoded) > _WORD_BYTES:
            yield bytes(chunk)
            chunk.clear()
        chunk += encoded
    if chunk:
        yield bytes(chunk)

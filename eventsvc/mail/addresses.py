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


def address_header(name: str, address: str, header_name: str) -> str:
    """`Name <address>` for a From/To/Reply-To header: a plain name quoted where it needs
    quotes, any other name as RFC 2047 words (folded between them when written)."""
    mailbox = ascii_address(address)
    name = " ".join(name.split())
    if not name:
        return mailbox
    if name.isascii() and len(name) <= _MAX_UNFOLDED:
        return formataddr((name, mailbox))
    return f"{encoded_words(name, header_name)} <{mailbox}>"


# An encoded word is at most 75 characters (RFC 2047), 12 of them `=?utf-8?q?` and `?=`;
# the first also fits on the header's first line (78 characters), after `Name: `.
_WORD_TEXT = 63
_LINE = 78
# In Q encoding, the bytes a phrase may carry as they are (RFC 2047 5(3)); a space is `_`.
_Q_LITERAL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def encoded_words(text: str, header_name: str) -> str:
    """`text` as RFC 2047 encoded words in UTF-8, separated by single spaces, each holding
    whole characters and as long as the RFC allows (a decoder drops the spaces between the
    words, though some parsers show them, so a name is split only where it must be). Q
    encoding where it is the shorter, as for most names in Latin script, else base64.
    ASCII text that cannot be mistaken for an encoded word stays as it is. (The standard
    library's Header finds its split points by encoding the text again after every
    character.)"""
    if text.isascii() and text.isprintable() and "=?" not in text:
        return text
    pieces = [_q_piece(character.encode("utf-8", "surrogatepass")) for character in text]
    q_length = sum(len(piece) for piece in pieces)
    first = min(_WORD_TEXT, _LINE - len(header_name) - 2 - 12)
    if q_length <= 4 * -(-len(text.encode("utf-8", "surrogatepass")) // 3):
        return " ".join(f"=?utf-8?q?{chunk}?=" for chunk in _chunks(pieces, first, _WORD_TEXT))
    # Base64 takes 3 bytes as 4 characters: 45 bytes fill 60 of a word's 63.
    return " ".join(
        f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?="
        for chunk in _chunks([character.encode("utf-8", "surrogatepass") for character in text], first // 4 * 3, 45)
    )


def _q_piece(character: bytes) -> str:
    return "".join(chr(byte) if byte in _Q_LITERAL else "_" if byte == 0x20 else f"={byte:02X}" for byte in character)


def _chunks(pieces: list[Any], first: int, size: int) -> Iterator[Any]:
    """The pieces (one per character) joined into runs, in order: the first of at most
    `first`, the others of at most `size`."""
    run, limit = pieces[0][:0], first
    for piece in pieces:
        if run and len(run) + len(piece) > limit:
            yield run
            run, limit = piece[:0], size
        run += piece
    if run:
        yield run

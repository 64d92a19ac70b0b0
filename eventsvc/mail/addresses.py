"""Email addresses and the headers that carry them.

SMTP relays cannot be assumed to speak SMTPUTF8, so an address is mailed in ASCII: the
domain in its IDNA form (bücher.example → xn--bcher-kva.example), while a non-ASCII local
part cannot be mailed at all and is refused when the address is entered. Display names may
be anything a person typed: they are encoded as RFC 2047 words and folded, so that no name,
however long, makes a header line that a server refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.header import Header
from email.utils import formataddr, parseaddr
from typing import Any, Union

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


def address_header(name: str, address: str, header_name: str) -> Union[str, Header]:
    """`Name <address>` for a From/To/Reply-To header, quoted or encoded and folded."""
    mailbox = ascii_address(address)
    name = " ".join(name.split())
    if not name:
        return mailbox
    if name.isascii() and len(name) <= _MAX_UNFOLDED:
        return formataddr((name, mailbox))
    header = Header(header_name=header_name)
    header.append(name, "utf-8")
    header.append(f"<{mailbox}>", "us-ascii")
    return header

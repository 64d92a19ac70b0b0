"""The words the service speaks in, each defined once: languages, the home time zone, the
waitlist's modes and reasons, message audiences. Schemas, forms and templates build their
allowed values from these."""

from __future__ import annotations

import enum

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
# The association's own zone: events default to it, and times in it need no zone note.
HOME_ZONE = "Europe/Berlin"


def language_or_default(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


class WaitlistMode(str, enum.Enum):
    AUTO = "auto"
    OFFER = "offer"


WAITLIST_MODES = tuple(mode.value for mode in WaitlistMode)


class WaitlistReason(str, enum.Enum):
    """Why a person waits: the event is full, their organization holds its limit, or the
    seats are for members for now."""

    FULL = "full"
    ORGANIZATION_LIMIT = "organization_limit"
    MEMBERS_FIRST = "members_first"


class NextRegistration(str, enum.Enum):
    """What a registration made now would get, before anything that depends on the person."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    FULL = "full"
    CLOSED = "closed"


AUDIENCES = ("confirmed", "waitlisted", "offered", "attended", "absent")
DOCUMENTATION_RECIPIENTS = ("confirmed", "attended")
ORGANIZATION_KINDS = ("gemeinde", "stadt", "landkreis", "land", "verband", "other")

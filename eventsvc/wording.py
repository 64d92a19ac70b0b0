"""Sentences that pages and emails both say, written once: the words are German, marked for
the service's catalogue, and each caller passes the gettext of its language (Flask-Babel's
for a page, the catalogue's for an email)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

from eventsvc.domain.vocabulary import NextRegistration, WaitlistReason

Gettext = Callable[[str], str]


def why_waiting(gettext: Gettext, reason: Optional[str], organization: Optional[str], limit: Optional[int]) -> str:
    """Why a person is on the waitlist although seats may be free; empty when it is full."""
    if reason == WaitlistReason.ORGANIZATION_LIMIT.value:
        return gettext(
            "Für %(organization)s sind bereits %(limit)s Plätze vergeben – so viele hat jede Organisation höchstens."
        ) % {"organization": organization or gettext("Ihre Organisation"), "limit": limit}
    if reason == WaitlistReason.MEMBERS_FIRST.value:
        return gettext("Die Plätze sind vorerst den Mitgliedern des Verbands vorbehalten.")
    return ""


def when_known(gettext: Gettext, reason: Optional[str], moment: Optional[str]) -> str:
    """When a person waiting for `reason` learns more: the moment the rule ends, where set."""
    if not moment or reason not in (WaitlistReason.ORGANIZATION_LIMIT.value, WaitlistReason.MEMBERS_FIRST.value):
        return ""
    return gettext(
        "Am %(moment)s gehen die freien Plätze der Reihe nach an die Warteliste; dann erfahren Sie, ob Sie nachrücken."
    ) % {"moment": moment}


def what_you_get(
    gettext: Gettext, outcome: str, reason: Optional[str], organization: Optional[str], held: int, limit: Optional[int]
) -> str:
    """What a registration made now would get, told to the person before they submit."""
    if outcome == NextRegistration.CONFIRMED.value:
        if organization and limit:
            return gettext(
                "Für %(organization)s sind %(held)s von höchstens %(limit)s Plätzen vergeben: Sie erhalten einen Platz."
            ) % {"organization": organization, "held": held, "limit": limit}
        return gettext("Ein Platz ist frei: Sie erhalten ihn mit Ihrer Anmeldung.")
    if outcome == NextRegistration.FULL.value:
        return gettext("Die Veranstaltung ist ausgebucht.")
    if outcome == NextRegistration.CLOSED.value:
        return gettext("Die Anmeldung ist geschlossen.")
    if reason == WaitlistReason.ORGANIZATION_LIMIT.value:
        return gettext("Für %(organization)s sind bereits %(held)s Plätze vergeben: Sie kommen auf die Warteliste.") % {
            "organization": organization or gettext("Ihre Organisation"),
            "held": held,
        }
    if reason == WaitlistReason.MEMBERS_FIRST.value:
        return why_waiting(gettext, reason, organization, limit) + " " + gettext("Sie kommen auf die Warteliste.")
    return gettext("Alle Plätze sind vergeben: Sie kommen auf die Warteliste.")

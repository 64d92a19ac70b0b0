"""What every console page shares: the blueprint, its headers and globals, and how a
change is run with its audit entry and its refusal shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user
from sqlalchemy.orm import Session

from eventsvc.db import unit_of_work
from eventsvc.domain import audit
from eventsvc.domain.errors import DomainError
from eventsvc.domain.models import Registration
from eventsvc.domain.statuses import CANCELLED, CONFIRMED, OFFERED, WAITLISTED
from eventsvc.edges.common import now
from eventsvc.edges.console.forms import ActionForm

console = Blueprint("console", __name__, url_prefix="/admin", template_folder="templates")
# Console pages have a language (see edges/web/views.py for why it is refreshed).
console.before_request(refresh)

STATUS_FILTERS = (CONFIRMED, WAITLISTED, OFFERED, CANCELLED, "attended", "absent")


@console.after_request
def not_stored(response: Response) -> Response:
    """Console pages show personal data: no browser or proxy keeps a copy."""
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def action_words(action: str) -> str:
    """An audit log entry's action as organizers read it."""
    words = {
        "event_created": _("angelegt"),
        "event_changed": _("geändert"),
        "event_published": _("veröffentlicht"),
        "event_cancelled": _("abgesagt"),
        "event_duplicated": _("als Vorlage kopiert"),
        "documents_sent": _("Dokumente versandt"),
        "document_linked": _("Dokument verlinkt"),
        "document_uploaded": _("Dokument hochgeladen"),
        "document_withdrawn": _("Dokument zurückgezogen"),
        "email_retried": _("E-Mail erneut versucht"),
        "person_erased": _("Daten einer Person gelöscht"),
        "registration_checkin": _("angekommen"),
        "registration_undo": _("Check-in zurückgenommen"),
        "registration_promote": _("nachgerückt"),
        "registration_overbook": _("über die Kapazität aufgenommen"),
        "registration_cancel": _("storniert"),
        "message_send": _("Nachricht versandt"),
        "message_test": _("Testnachricht versandt"),
        "organizations_imported": _("Organisationen importiert"),
        "bounce_lifted": _("Sperre einer Adresse aufgehoben"),
    }
    return str(words.get(action, action))


@console.context_processor
def console_globals() -> dict[str, Any]:
    return {"organizer": current_user if current_user.is_authenticated else None, "action_words": action_words}


def refusal(failure: DomainError) -> str:
    """What the domain refused, in the organizer's language where the code says enough."""
    said = {
        "event_full": _("Kein Platz frei. „Über die Kapazität hinaus aufnehmen …“ gibt trotzdem einen Platz."),
        "registration_closed": _("Die Anmeldung ist geschlossen."),
        "not_found": _("Nicht gefunden."),
    }
    return str(said.get(failure.code, failure.detail))


def act(
    event_id: int,
    change: Callable[[Session], Any],
    action: str,
    done: str,
    registration_id: Optional[int] = None,
    back: Optional[str] = None,
) -> ResponseReturnValue:
    """Run one change with its audit entry; say what happened, or why not."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work() as db_session:
            change(db_session)
            audit.record(db_session, current_user.name, action, now(), event_id, registration_id)
        flash(done)
    except DomainError as failure:
        flash(_("Nicht möglich: %(reason)s", reason=refusal(failure)), "error")
    return redirect(back or url_for("console.event", event_id=event_id), code=303)


def matches(registration: Registration, query: str) -> bool:
    wanted = query.casefold()
    return any(
        wanted in (text or "").casefold() for text in (registration.name, registration.organization, registration.email)
    )


def back_to(default: str) -> str:
    target = request.form.get("back", "")
    return target if target.startswith("/admin/") and not target.startswith("//") else default

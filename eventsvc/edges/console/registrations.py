"""A registration: its page and what an organizer may do to it (check in, promote, cancel)."""

from __future__ import annotations

from flask import render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from eventsvc.db import unit_of_work
from eventsvc.domain import registrations as registration_service
from eventsvc.domain import waitlist
from eventsvc.domain.history import of_registration
from eventsvc.edges.common import now
from eventsvc.edges.console.accounts import acting
from eventsvc.edges.console.common import act, back_to, console
from eventsvc.edges.console.forms import ActionForm
from eventsvc.formatting import moment_text


@console.get("/registrations/<id:registration_id>")
@login_required
def registration(registration_id: int) -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        shown = registration_service.get_by_id(db_session, registration_id)
        history = of_registration(db_session, shown)
        return render_template(
            "console/registration.html",
            registration=shown,
            event=shown.event,
            history=history,
            tz=shown.event.timezone,
            form=ActionForm(),
            moment_text=moment_text,
        )


@console.post("/registrations/<id:registration_id>/<any(checkin, undo, promote, overbook, cancel):what>")
@login_required
def registration_action(registration_id: int, what: str) -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        event_id = registration_service.get_by_id(db_session, registration_id).event_id
    back = back_to(url_for("console.registration", registration_id=registration_id))
    changes = {
        "checkin": (
            lambda s: registration_service.check_in(s, registration_id, True, now(), acting()),
            _("Angekommen."),
        ),
        "undo": (
            lambda s: registration_service.check_in(s, registration_id, False, now(), acting()),
            _("Zurückgenommen."),
        ),
        "promote": (lambda s: waitlist.promote(s, registration_id, False, now(), acting()), _("Nachgerückt.")),
        "overbook": (
            lambda s: waitlist.promote(s, registration_id, True, now(), acting()),
            _("Über die Kapazität hinaus aufgenommen."),
        ),
        "cancel": (
            lambda s: registration_service.cancel(
                s, registration_service.get_by_id(s, registration_id), now(), acting()
            ),
            _("Storniert."),
        ),
    }
    change, done = changes[what]
    return act(event_id, change, f"registration_{what}", done, registration_id, back)


@console.get("/registrations/<id:registration_id>/confirm/<any(overbook, cancel):what>")
@login_required
def confirm_registration_action(registration_id: int, what: str) -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        shown = registration_service.get_by_id(db_session, registration_id)
        return render_template(
            "console/confirm.html", registration=shown, event=shown.event, what=what, form=ActionForm()
        )

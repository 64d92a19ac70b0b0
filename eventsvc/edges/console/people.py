"""A person's data (Art. 15 DSGVO), its export and its erasure."""

from __future__ import annotations

import json

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from eventsvc.db import unit_of_work
from eventsvc.domain import audit, privacy
from eventsvc.edges.common import now
from eventsvc.edges.console.accounts import acting
from eventsvc.edges.console.common import console
from eventsvc.edges.console.forms import PersonForm
from eventsvc.mail.transport import forget_sent


@console.route("/people", methods=["GET", "POST"])
@login_required
def people() -> ResponseReturnValue:
    form = PersonForm()
    address = (request.values.get("email") or "").strip()
    held = None
    if request.method == "POST" and form.validate_on_submit() and address:
        if not form.confirm.data:
            flash(_("Bitte bestätigen Sie, dass alle Daten dieser Adresse gelöscht werden sollen."), "error")
        else:
            with unit_of_work() as db_session:
                erased = privacy.erase_person(db_session, address, now(), acting())
                forget_sent(current_app.config, erased.sent_message_keys)
                audit.record(
                    db_session,
                    current_user.name,
                    "person_erased",
                    now(),
                    detail=f"{erased.registrations} registrations",
                )
            flash(_("Gelöscht: %(count)s Anmeldung(en).", count=erased.registrations))
            return redirect(url_for("console.people"), code=303)
    if address:
        with unit_of_work(writes=False) as db_session:
            held = privacy.person_data(db_session, address)
    return render_template("console/people.html", form=form, address=address, held=held)


@console.get("/people/export")
@login_required
def export_person() -> ResponseReturnValue:
    address = (request.args.get("email") or "").strip()
    with unit_of_work(writes=False) as db_session:
        held = privacy.person_data(db_session, address)
    body = json.dumps(held, default=str, ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="person.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response

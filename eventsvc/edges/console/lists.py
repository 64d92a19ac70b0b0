"""The association's lists: member organizations (import and list), undeliverable
addresses (lift), a series' interest list (and its export)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from eventsvc.db import unit_of_work
from eventsvc.domain import audit, bounces, interest, organizations
from eventsvc.domain.errors import ValidationFailed
from eventsvc.edges.common import now
from eventsvc.edges.console.common import console
from eventsvc.edges.console.forms import ActionForm
from eventsvc.edges.csv import csv_response
from eventsvc.edges.shared import series_key


@console.route("/organizations", methods=["GET", "POST"])
@login_required
def organization_list() -> ResponseReturnValue:
    form = ActionForm()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        upload = request.files.get("file")
        try:
            text = upload.read().decode("utf-8") if upload else ""
            rows = organizations.rows_from_csv(text)
            with unit_of_work() as db_session:
                counts = organizations.import_organizations(db_session, rows, now())
                audit.record(db_session, current_user.name, "organizations_imported", now(), None, detail=str(counts))
        except UnicodeDecodeError:
            errors = {"rows": [_("Die Datei muss UTF-8 sein.")]}
        except ValidationFailed as refusal:
            errors = refusal.errors
        else:
            flash(
                _(
                    "Importiert: %(created)s neu, %(updated)s geändert, %(unchanged)s unverändert.",
                    **counts,
                )
            )
            return redirect(url_for("console.organization_list"), code=303)
    with unit_of_work(writes=False) as db_session:
        listed = organizations.list_organizations(db_session)
        return render_template(
            "console/organizations.html", organizations=listed, form=form, errors=errors
        ), 422 if errors else 200


@console.get("/bounces")
@login_required
def bounce_list() -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        return render_template("console/bounces.html", entries=bounces.undeliverable(db_session), form=ActionForm())


@console.post("/bounces/lift")
@login_required
def lift_bounce() -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    email = request.form.get("email", "")
    with unit_of_work() as db_session:
        if bounces.lift(db_session, email):
            audit.record(db_session, current_user.name, "bounce_lifted", now(), None)
    flash(_("Die Adresse wird wieder angeschrieben."))
    return redirect(url_for("console.bounce_list"), code=303)


@console.get("/series/<key>/interest")
@login_required
def interest_list(key: str) -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        entries = interest.confirmed_entries(db_session, series_key(key))
        rows = [
            {"name": e.name, "email": e.email, "language": e.language, "confirmed_at": e.confirmed_at} for e in entries
        ]
    if request.args.get("format") == "csv":
        return csv_response(rows, f"interessenten-{key}.csv", ["name", "email", "language", "confirmed_at"])
    return render_template("console/interest.html", key=key, rows=rows)

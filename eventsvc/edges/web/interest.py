"""The pages of a series' interest list: the series with its upcoming events and the form to
join, the confirming step of the double opt-in, and leaving in one click (RFC 8058)."""

from __future__ import annotations

import re

import marshmallow as ma
from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from eventsvc.db import unit_of_work
from eventsvc.domain import events as event_service
from eventsvc.domain import interest
from eventsvc.domain.errors import NotFound
from eventsvc.edges.common import now
from eventsvc.edges.schemas import SERIES_KEY, InterestInSchema
from eventsvc.edges.web.forms import ConfirmForm, InterestForm
from eventsvc.edges.web.views import pages


def _series_or_404(key: str) -> str:
    if not re.fullmatch(SERIES_KEY[1:-1], key):
        abort(404)
    return key


@pages.route("/series/<key>", methods=["GET", "POST"])
def series_page(key: str) -> ResponseReturnValue:
    form = InterestForm()
    key, status, done = _series_or_404(key), 200, False
    if request.method == "POST":
        if not form.validate_on_submit():
            form.form_errors.append(_("Das Formular ist abgelaufen. Bitte senden Sie es noch einmal."))
            status = 400
        else:
            payload = {
                "name": form.name.data or "",
                "email": (form.email.data or "").strip(),
                "consent": bool(form.consent.data),
                "language": str(get_locale()),
            }
            try:
                fields = InterestInSchema().load(payload)
            except ma.ValidationError as error:
                for name in error.normalized_messages():
                    field = getattr(form, str(name), None)
                    if field is not None:
                        field.errors = [_field_message(str(name))]
                status = 422
            else:
                person = interest.Interested(
                    key,
                    fields["name"].strip(),
                    fields["email"],
                    str(get_locale()),
                    current_app.config.get("PRIVACY_URL"),
                )
                with unit_of_work() as db_session:
                    interest.ask_to_join(db_session, person, now())
                done = True
    with unit_of_work(writes=False) as db_session:
        upcoming = event_service.series_events(db_session, key, now())
        return render_template("series.html", key=key, events=upcoming, form=form, done=done), status


def _field_message(name: str) -> str:
    return str(
        {
            "name": _("Bitte geben Sie Ihren Namen an."),
            "email": _("Bitte geben Sie eine gültige E-Mail-Adresse an."),
            "consent": _("Bitte stimmen Sie der Verarbeitung Ihrer Angaben zu."),
        }.get(name, _("Bitte prüfen Sie diese Angabe."))
    )


@pages.route("/interest/<token>", methods=["GET", "POST"])
def confirm_interest(token: str) -> ResponseReturnValue:
    """The link in the confirming email leads here; the button confirms (mail scanners open
    links, so opening it changes nothing)."""
    form = ConfirmForm()
    with unit_of_work(writes=False) as db_session:
        try:
            entry = interest.get_by_token(db_session, token)
        except NotFound:
            abort(404)
        confirmed = entry.confirmed_at is not None
    if request.method == "POST" and form.validate_on_submit() and not confirmed:
        with unit_of_work() as db_session:
            interest.confirm(db_session, token, now())
        return redirect(url_for("pages.confirm_interest", token=token), code=303)
    return render_template("interest.html", step="confirm", token=token, confirmed=confirmed, form=form)


@pages.route("/interest/<token>/leave", methods=["GET", "POST"])
def leave_interest(token: str) -> ResponseReturnValue:
    """Leaving the list: a button here, or a mail client's one-click POST (RFC 8058), which
    carries no form token and needs none: it can only remove the address."""
    if request.method == "POST":
        with unit_of_work() as db_session:
            interest.leave(db_session, token)
        return render_template("interest.html", step="left", token=token, form=ConfirmForm())
    with unit_of_work(writes=False) as db_session:
        try:
            interest.get_by_token(db_session, token)
        except NotFound:
            return render_template("interest.html", step="left", token=token, form=ConfirmForm())
    return render_template("interest.html", step="leave", token=token, form=ConfirmForm())

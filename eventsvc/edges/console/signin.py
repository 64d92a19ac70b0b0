"""Signing in and out, and setting a password through a one-time link."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from eventsvc.db import unit_of_work
from eventsvc.domain import organizers
from eventsvc.domain.errors import ValidationFailed
from eventsvc.edges.common import now
from eventsvc.edges.console.accounts import SignedIn
from eventsvc.edges.console.common import console
from eventsvc.edges.console.forms import ActionForm, LoginForm, PasswordForm
from eventsvc.extensions import limiter


def _login_account_key() -> str:
    return "login:" + request.form.get("email", "").strip().casefold()


def _failed(response: Response) -> bool:
    return response.status_code != 303


@console.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"], deduct_when=_failed)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"],
    methods=["POST"],
    key_func=_login_account_key,
    deduct_when=_failed,
)
def login() -> ResponseReturnValue:
    form = LoginForm()
    failed = False
    if request.method == "POST" and form.validate_on_submit():
        with unit_of_work() as db_session:
            account = organizers.authenticate(db_session, form.email.data or "", form.password.data or "", now())
            signed = SignedIn.of(account) if account else None
        if signed is not None:
            session.clear()  # a new session for the signed-in organizer, nothing carried over
            session.permanent = True
            login_user(signed)
            return redirect(url_for("console.events"), code=303)
        failed = True
    elif request.method == "POST":
        failed = True
    return render_template("console/login.html", form=form, failed=failed), 200


@console.post("/logout")
def logout() -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        logout_user()
        session.clear()
    return redirect(url_for("console.login"), code=303)


@console.route("/password/<secret>", methods=["GET", "POST"])
def set_password(secret: str) -> ResponseReturnValue:
    form = PasswordForm()
    error = None
    with unit_of_work(writes=False) as db_session:
        account = organizers.by_setup_secret(db_session, secret, now())
        if account is None:
            abort(404)
    if request.method == "POST" and form.validate_on_submit():
        if form.password.data != form.repeat.data:
            error = _("Die beiden Passwörter stimmen nicht überein.")
        else:
            try:
                with unit_of_work() as db_session:
                    account = organizers.by_setup_secret(db_session, secret, now())
                    if account is None:
                        abort(404)
                    organizers.set_password(db_session, account, form.password.data or "")
            except ValidationFailed:
                error = _("Bitte mindestens 12 Zeichen verwenden.")
            else:
                flash(_("Ihr Passwort ist gesetzt. Bitte melden Sie sich an."))
                return redirect(url_for("console.login"), code=303)
    return render_template("console/password.html", form=form, error=error)

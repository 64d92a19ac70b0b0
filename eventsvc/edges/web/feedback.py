"""The feedback form, reached through the personal link in the feedback email: no sign-in,
in the person's language, accessible like the registration form, with a thank-you page."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh

from eventsvc.db import unit_of_work
from eventsvc.domain import feedback
from eventsvc.domain.errors import AlreadyAnswered, FeedbackClosed, NotFound, ValidationFailed
from eventsvc.edges.common import now
from eventsvc.edges.web.forms import ConfirmForm
from eventsvc.edges.web.views import _answers_from, pages


@pages.route("/f/<token>", methods=["GET", "POST"])
def feedback_form(token: str) -> ResponseReturnValue:
    form = ConfirmForm()
    form.answers, form.answer_errors = {}, {}
    with unit_of_work(writes=False) as db_session:
        try:
            registration = feedback.invitation(db_session, token)
        except NotFound:
            abort(404)
        event = registration.event
        asked = list((event.feedback or {}).get("questions", []))
        if "lang" not in session:
            session["lang"] = registration.language
            refresh()
        state = (
            "closed"
            if now() >= feedback.closes_at(event)
            else "answered"
            if registration.feedback_answered_at is not None
            else "open"
        )
    status = 200
    if request.method == "POST" and state == "open":
        if not form.validate_on_submit():
            form.form_errors.append(_("Das Formular ist abgelaufen. Bitte senden Sie es noch einmal."))
            status = 400
        else:
            form.answers = _answers_from(request.form, asked)
            for question in asked:
                if question["type"] == "rating" and question["key"] in form.answers:
                    value = str(form.answers[question["key"]])
                    form.answers[question["key"]] = int(value) if value.isdigit() else value
            try:
                with unit_of_work() as db_session:
                    feedback.answer(db_session, token, form.answers, now())
            except ValidationFailed as refusal:
                for name in refusal.errors:
                    form.answer_errors[name.removeprefix("answers.")] = _(
                        "Bitte beantworten Sie diese Frage vollständig."
                    )
                status = 422
            except AlreadyAnswered:
                state = "answered"
            except FeedbackClosed:
                state = "closed"
            else:
                return redirect(url_for("pages.feedback_form", token=token, thanks=1), code=303)
    return render_template(
        "feedback.html",
        event=event,
        asked=asked,
        form=form,
        state=state,
        thanks=request.args.get("thanks") == "1",
    ), status

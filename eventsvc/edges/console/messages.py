"""Messages from the organizer: write, preview, send, and the log of what went out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from eventsvc.db import unit_of_work
from eventsvc.domain import audit, messages
from eventsvc.domain import documents as document_service
from eventsvc.domain import events as event_service
from eventsvc.domain.errors import DomainError, ValidationFailed
from eventsvc.domain.statuses import CONFIRMED
from eventsvc.edges.common import now
from eventsvc.edges.console.common import console
from eventsvc.edges.console.eventforms import (
    form_errors,
)
from eventsvc.edges.console.forms import MessageForm
from eventsvc.edges.schemas import MessageInSchema
from eventsvc.edges.shared import preview_of


@console.route("/events/<id:event_id>/messages", methods=["GET", "POST"])
@login_required
def event_messages(event_id: int) -> ResponseReturnValue:
    form = MessageForm()
    audience = request.form.getlist("audience") or [CONFIRMED]
    attached = [int(value) for value in request.form.getlist("documents") if value.isdigit()]
    errors: dict[str, str] = {}
    rendered = None
    if request.method == "POST" and form.validate_on_submit():
        action = request.form.get("action", "preview")
        subject, text = form.subject.data or "", (form.body.data or "").replace("\r\n", "\n")
        test_to = (form.test_to.data or None) if action == "test" else None
        loaded = MessageInSchema().validate(
            {"subject": subject, "body": text, "audience": audience, "test_to": test_to, "documents": attached}
        )
        if loaded:
            errors = form_errors(loaded)
        elif action == "test" and not test_to:
            errors = {"test_to": _("Bitte eine Adresse für die Testkopie angeben.")}
        else:
            draft = messages.Draft(
                subject, text, tuple(dict.fromkeys(audience)), tuple(dict.fromkeys(attached)), test_to
            )
            try:
                if action == "preview":
                    rendered = preview_of(event_id, draft)
                else:
                    with unit_of_work() as db_session:
                        sent = messages.send(db_session, event_id, draft, now(), current_user.name)
                        audit.record(
                            db_session, current_user.name, "message_" + action, now(), event_id, detail=draft.subject
                        )
                        count = sent.recipients
                    flash(_("Die Nachricht geht an %(count)s Person(en).", count=count))
                    return redirect(url_for("console.event_messages", event_id=event_id), code=303)
            except ValidationFailed as failure:
                errors = form_errors(failure.errors)
            except DomainError as failure:
                errors = {"audience": failure.detail}
    with unit_of_work(writes=False) as db_session:
        shown = event_service.get_event(db_session, event_id, public=False)
        log = messages.log(db_session, event_id)
        return render_template(
            "console/messages.html",
            documents=document_service.list_documents(db_session, event_id),
            attached=attached,
            event=shown,
            form=form,
            audience=audience,
            errors=errors,
            rendered=rendered,
            log=log,
            audiences=messages.AUDIENCES,
        )

"""Documents and emails: upload or link, send, withdraw; failed emails and their retry."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from eventsvc.db import unit_of_work
from eventsvc.domain import audit
from eventsvc.domain import documents as document_service
from eventsvc.domain import events as event_service
from eventsvc.domain import outbox as outbox_service
from eventsvc.domain.errors import ValidationFailed
from eventsvc.domain.statuses import OutboxStatus
from eventsvc.edges.common import now
from eventsvc.edges.console.common import act, console
from eventsvc.edges.console.eventforms import (
    form_errors,
)
from eventsvc.edges.console.forms import ActionForm
from eventsvc.edges.schemas import DocumentLinkSchema, DocumentUploadSchema
from eventsvc.edges.shared import UploadRefused, save_upload, storage


@console.route("/events/<id:event_id>/documents", methods=["GET", "POST"])
@login_required
def documents(event_id: int) -> ResponseReturnValue:
    form = ActionForm()
    errors: dict[str, str] = {}
    if request.method == "POST" and form.validate_on_submit():
        errors = _add_document(event_id, request.form.get("kind", "file"))
        if not errors:
            flash(_("Das Dokument ist hinzugefügt."))
            return redirect(url_for("console.documents", event_id=event_id), code=303)
    with unit_of_work(writes=False) as db_session:
        shown = event_service.get_event(db_session, event_id, public=False)
        listed = document_service.list_documents(db_session, event_id)
        return render_template(
            "console/documents.html",
            event=shown,
            documents=listed,
            form=form,
            errors=errors,
            now=now(),
            values=request.form,
        )


def _add_document(event_id: int, kind: str) -> dict[str, str]:
    title = request.form.get("title", "").strip()
    try:
        if kind == "link":
            fields = DocumentLinkSchema().load({"title": title, "url": request.form.get("url", "").strip()})
            with unit_of_work() as db_session:
                document_service.add_link(db_session, event_id, fields["title"], fields["url"], now())
                audit.record(db_session, current_user.name, "document_linked", now(), event_id, detail=title)
        else:
            DocumentUploadSchema().load({"title": title})
            save_upload(event_id, title, request.files.get("file"))
            with unit_of_work() as db_session:
                audit.record(db_session, current_user.name, "document_uploaded", now(), event_id, detail=title)
    except ma.ValidationError as error:
        return form_errors(error.normalized_messages())
    except ValidationFailed as failure:
        return form_errors(failure.errors)
    except UploadRefused as refused:
        return {"file": refused.detail}
    return {}


@console.post("/events/<id:event_id>/documents/send")
@login_required
def send_documents(event_id: int) -> ResponseReturnValue:
    return act(
        event_id,
        lambda s: document_service.deliver(s, event_id, now()),
        "documents_sent",
        _("Die Dokumente gehen an alle, die sie noch nicht haben."),
        back=url_for("console.documents", event_id=event_id),
    )


@console.post("/documents/<id:document_id>/delete")
@login_required
def delete_document(document_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as db_session:
        document = document_service.delete_document(db_session, document_id, now())
        event_id, key = document.event_id, document.storage_key
        audit.record(db_session, current_user.name, "document_withdrawn", now(), event_id, detail=document.title)
    if key:
        storage().delete(key)
    flash(_("Das Dokument ist zurückgezogen; seine Links funktionieren nicht mehr."))
    return redirect(url_for("console.documents", event_id=event_id), code=303)


@console.get("/emails")
@login_required
def failed_emails() -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        failed = outbox_service.listed(db_session, OutboxStatus.FAILED.value, limit=200)
        titles = {event.id: event.title for event in event_service.list_events(db_session, now(), public=False)}
        return render_template("console/emails.html", failed=failed, titles=titles, form=ActionForm())


@console.post("/emails/<id:message_id>/retry")
@login_required
def retry_email(message_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as db_session:
        message = outbox_service.requeue(db_session, message_id, now())
        if message is None:
            abort(404)
        audit.record(db_session, current_user.name, "email_retried", now(), message.event_id, message.registration_id)
    flash(_("Die E-Mail wird noch einmal gesendet."))
    return redirect(url_for("console.failed_emails"), code=303)

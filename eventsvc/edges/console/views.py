"""The console's pages: sign-in, events, people, the door, messages, a person's data.

Every change goes through the domain services the admin API uses, inside one unit of work
that also writes the audit log entry; every refusal comes from those services (or the API's
schemas) and is shown on the page it came from. Buttons that change something are POST
forms with a CSRF token; steps that email people or cannot be undone ask first.
"""

from __future__ import annotations

import json
from typing import Optional

import marshmallow as ma
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from eventsvc.db import unit_of_work
from eventsvc.domain import audit, messages, organizers, privacy, waitlist
from eventsvc.domain import documents as document_service
from eventsvc.domain import events as event_service
from eventsvc.domain import outbox as outbox_service
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.errors import DomainError, ValidationFailed
from eventsvc.domain.history import of_registration
from eventsvc.domain.retention import removal_time
from eventsvc.domain.rules import counts_by_status
from eventsvc.domain.statuses import CANCELLED, CONFIRMED, OFFERED, WAITLISTED, EventStatus, OutboxStatus
from eventsvc.edges.api.certificates import attendance_sheet_response, certificates_zip_response
from eventsvc.edges.api.documents import UploadRefused, save_upload, storage
from eventsvc.edges.api.messages import preview_of
from eventsvc.edges.api.registrations import registration_rows
from eventsvc.edges.common import now
from eventsvc.edges.console.accounts import SignedIn, acting
from eventsvc.edges.console.eventforms import (
    QUESTION_TYPES,
    FormErrors,
    empty_question,
    form_errors,
    new_event_values,
    question_rows_of,
    submitted,
    submitted_questions,
    to_fields,
    values_of,
)
from eventsvc.edges.console.forms import ActionForm, LoginForm, MessageForm, PasswordForm, PersonForm
from eventsvc.edges.csv import answers_csv
from eventsvc.edges.schemas import DocumentLinkSchema, DocumentUploadSchema, MessageInSchema
from eventsvc.extensions import limiter
from eventsvc.formatting import event_when, moment_text
from eventsvc.mail.transport import forget_sent

console = Blueprint("console", __name__, url_prefix="/admin", template_folder="templates")

STATUS_FILTERS = (CONFIRMED, WAITLISTED, OFFERED, CANCELLED, "attended", "absent")


@console.after_request
def not_stored(response: Response) -> Response:
    """Console pages show personal data: no browser or proxy keeps a copy."""
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


@console.context_processor
def console_globals() -> dict:
    return {"organizer": current_user if current_user.is_authenticated else None}


# --- signing in ----------------------------------------------------------------------------


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
def login():
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
def logout():
    if ActionForm().validate_on_submit():
        logout_user()
        session.clear()
    return redirect(url_for("console.login"), code=303)


@console.route("/password/<secret>", methods=["GET", "POST"])
def set_password(secret: str):
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


# --- events --------------------------------------------------------------------------------


@console.get("/")
@login_required
def events():
    moment = now()
    with unit_of_work(writes=False) as db_session:
        listed = event_service.list_events(db_session, moment, public=False)
        counts = counts_by_status(db_session, [event.id for event in listed])
        groups = {
            "drafts": [e for e in listed if e.status == EventStatus.DRAFT.value],
            "upcoming": [e for e in listed if e.status != EventStatus.DRAFT.value and e.ends_at > moment],
            "past": [e for e in reversed(listed) if e.status != EventStatus.DRAFT.value and e.ends_at <= moment],
        }
        return render_template("console/events.html", groups=groups, counts=counts)


@console.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event():
    return _event_form(None)


@console.route("/events/<id:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id: int):
    return _event_form(event_id)


def _event_form(event_id: Optional[int]):
    """The one form for a new event and an existing one. "Weitere Frage" shows the form
    again with one more empty question; "Speichern" saves through the domain."""
    form = ActionForm()
    errors: dict[str, str] = {}
    values, rows, title = new_event_values(current_app.config["RETENTION_SECONDS"]), [empty_question()], None
    if event_id is not None:
        with unit_of_work(writes=False) as db_session:
            stored = event_service.get_event(db_session, event_id, public=False)
            values, rows, title = values_of(stored), question_rows_of(stored), stored.title
    if request.method == "POST" and form.validate_on_submit():
        values, rows = submitted(request.form), submitted_questions(request.form)
        if request.form.get("action") == "add_question":
            rows.append(empty_question())
        else:
            try:
                event_id = _save_event(event_id, to_fields(values, rows, partial=event_id is not None))
                return redirect(url_for("console.event", event_id=event_id), code=303)
            except FormErrors as failure:
                errors = failure.errors
            except ValidationFailed as failure:
                errors = form_errors(failure.errors)
            except DomainError as failure:
                errors = {"title": failure.detail}
    shown = {"id": event_id, "title": title} if event_id is not None else None
    return render_template(
        "console/event_form.html",
        form=form,
        values=values,
        questions=rows,
        errors=errors,
        event=shown,
        types=QUESTION_TYPES,
    )


def _save_event(event_id: Optional[int], fields: dict) -> int:
    with unit_of_work() as db_session:
        if event_id is None:
            created = event_service.create_event(
                db_session, fields, now(), default_retention=current_app.config["RETENTION_SECONDS"]
            )
            audit.record(db_session, current_user.name, "event_created", now(), created.id)
            flash(_("Die Veranstaltung ist angelegt."))
            return created.id
        fields.pop("status", None)
        event_service.update_event(db_session, event_id, fields, now())
        audit.record(db_session, current_user.name, "event_changed", now(), event_id)
        flash(_("Die Änderungen sind gespeichert."))
        return event_id


@console.get("/events/<id:event_id>")
@login_required
def event(event_id: int):
    chosen = request.args.get("status", "")
    query = request.args.get("q", "").strip()
    with unit_of_work(writes=False) as db_session:
        shown = event_service.get_event(db_session, event_id, public=False)
        people = registration_service.list_for_event(
            db_session, event_id, chosen if chosen in (CONFIRMED, WAITLISTED, OFFERED, CANCELLED) else None
        )
        if chosen in ("attended", "absent"):
            wanted = chosen == "attended"
            people = [(r, p) for r, p in people if r.status == CONFIRMED and r.attended == wanted]
        if query:
            people = [(r, p) for r, p in people if _matches(r, query)]
        counts = counts_by_status(db_session, [event_id])[event_id]
        return render_template(
            "console/event.html",
            event=shown,
            when=event_when(shown.starts_at, shown.ends_at, shown.timezone, "de"),
            people=people,
            counts=counts,
            chosen=chosen,
            query=query,
            filters=STATUS_FILTERS,
            removal=moment_text(removal_time(shown), shown.timezone, "de"),
            actions=audit.of_event(db_session, event_id, limit=20),
            moment_text=moment_text,
            form=ActionForm(),
            now=now(),
        )


def _matches(registration, query: str) -> bool:
    wanted = query.casefold()
    return any(
        wanted in (text or "").casefold() for text in (registration.name, registration.organization, registration.email)
    )


@console.post("/events/<id:event_id>/publish")
@login_required
def publish(event_id: int):
    return _act(
        event_id,
        lambda s: event_service.publish_event(s, event_id, now()),
        "event_published",
        _("Die Veranstaltung ist veröffentlicht."),
    )


@console.route("/events/<id:event_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_event(event_id: int):
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        return _act(
            event_id,
            lambda s: event_service.cancel_event(s, event_id, now()),
            "event_cancelled",
            _("Die Veranstaltung ist abgesagt; alle Angemeldeten werden benachrichtigt."),
        )
    with unit_of_work(writes=False) as db_session:
        shown = event_service.get_event(db_session, event_id, public=False)
        counts = counts_by_status(db_session, [event_id])[event_id]
        return render_template("console/cancel_event.html", event=shown, counts=counts, form=form)


@console.post("/events/<id:event_id>/duplicate")
@login_required
def duplicate(event_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as db_session:
        original = event_service.get_event(db_session, event_id, public=False)
        copy = event_service.duplicate_event(db_session, event_id, f"{original.title} (Kopie)", now())
        audit.record(db_session, current_user.name, "event_duplicated", now(), copy.id, detail=f"from {event_id}")
        copy_id = copy.id
    flash(_("Eine Kopie als Entwurf ist angelegt; bitte Datum und Titel anpassen."))
    return redirect(url_for("console.edit_event", event_id=copy_id), code=303)


def _refusal(failure: DomainError) -> str:
    """What the domain refused, in the organizer's language where the code says enough."""
    said = {
        "event_full": _("Kein Platz frei. „Über die Kapazität hinaus aufnehmen …“ gibt trotzdem einen Platz."),
        "registration_closed": _("Die Anmeldung ist geschlossen."),
        "not_found": _("Nicht gefunden."),
    }
    return said.get(failure.code, failure.detail)


def _act(event_id: int, change, action: str, done: str, registration_id: Optional[int] = None, back=None):
    """Run one change with its audit entry; say what happened, or why not."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work() as db_session:
            change(db_session)
            audit.record(db_session, current_user.name, action, now(), event_id, registration_id)
        flash(done)
    except DomainError as failure:
        flash(_("Nicht möglich: %(reason)s", reason=_refusal(failure)), "error")
    return redirect(back or url_for("console.event", event_id=event_id), code=303)


@console.get(
    "/events/<id:event_id>/download/<any('registrations.csv', 'attendance-sheet.pdf', 'certificates.zip'):what>"
)
@login_required
def download(event_id: int, what: str):
    """What the admin API hands out as files, for a console session."""
    if what == "attendance-sheet.pdf":
        return attendance_sheet_response(event_id)
    if what == "certificates.zip":
        return certificates_zip_response(event_id)
    rows, asked, sessions = registration_rows(event_id)
    return answers_csv(rows, asked, f"registrations-{event_id}.csv", sessions)


# --- people --------------------------------------------------------------------------------


@console.get("/registrations/<id:registration_id>")
@login_required
def registration(registration_id: int):
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
def registration_action(registration_id: int, what: str):
    with unit_of_work(writes=False) as db_session:
        event_id = registration_service.get_by_id(db_session, registration_id).event_id
    back = _back(url_for("console.registration", registration_id=registration_id))
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
    return _act(event_id, change, f"registration_{what}", done, registration_id, back)


@console.get("/registrations/<id:registration_id>/confirm/<any(overbook, cancel):what>")
@login_required
def confirm_registration_action(registration_id: int, what: str):
    with unit_of_work(writes=False) as db_session:
        shown = registration_service.get_by_id(db_session, registration_id)
        return render_template(
            "console/confirm.html", registration=shown, event=shown.event, what=what, form=ActionForm()
        )


def _back(default: str) -> str:
    target = request.form.get("back", "")
    return target if target.startswith("/admin/") and not target.startswith("//") else default


@console.get("/events/<id:event_id>/door")
@login_required
def door(event_id: int):
    """Check-in at the door, made for a tablet: search, one large button per person."""
    query = request.args.get("q", "").strip()
    with unit_of_work(writes=False) as db_session:
        shown = event_service.get_event(db_session, event_id, public=False)
        people = [r for r, _p in registration_service.list_for_event(db_session, event_id, CONFIRMED)]
        arrived = sum(1 for r in people if r.attended)
        if query:
            people = [r for r in people if _matches(r, query)]
        return render_template(
            "console/door.html",
            event=shown,
            people=people,
            query=query,
            arrived=arrived,
            expected=counts_by_status(db_session, [event_id])[event_id].get(CONFIRMED, 0),
            form=ActionForm(),
        )


# --- messages ------------------------------------------------------------------------------


@console.route("/events/<id:event_id>/messages", methods=["GET", "POST"])
@login_required
def event_messages(event_id: int):
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


# --- documents and emails ------------------------------------------------------------------


@console.route("/events/<id:event_id>/documents", methods=["GET", "POST"])
@login_required
def documents(event_id: int):
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
def send_documents(event_id: int):
    return _act(
        event_id,
        lambda s: document_service.deliver(s, event_id, now()),
        "documents_sent",
        _("Die Dokumente gehen an alle, die sie noch nicht haben."),
        back=url_for("console.documents", event_id=event_id),
    )


@console.post("/documents/<id:document_id>/delete")
@login_required
def delete_document(document_id: int):
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
def failed_emails():
    with unit_of_work(writes=False) as db_session:
        failed = outbox_service.listed(db_session, OutboxStatus.FAILED.value, limit=200)
        titles = {event.id: event.title for event in event_service.list_events(db_session, now(), public=False)}
        return render_template("console/emails.html", failed=failed, titles=titles, form=ActionForm())


@console.post("/emails/<id:message_id>/retry")
@login_required
def retry_email(message_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as db_session:
        message = outbox_service.requeue(db_session, message_id, now())
        if message is None:
            abort(404)
        audit.record(db_session, current_user.name, "email_retried", now(), message.event_id, message.registration_id)
    flash(_("Die E-Mail wird noch einmal gesendet."))
    return redirect(url_for("console.failed_emails"), code=303)


# --- a person's data -----------------------------------------------------------------------


@console.route("/people", methods=["GET", "POST"])
@login_required
def people():
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
def export_person():
    address = (request.args.get("email") or "").strip()
    with unit_of_work(writes=False) as db_session:
        held = privacy.person_data(db_session, address)
    body = json.dumps(held, default=str, ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="person.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response

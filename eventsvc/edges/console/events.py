"""Events: the list, the one form for a new and an existing event, the event's page, publishing, cancelling, copying, its files."""

from __future__ import annotations

from typing import Any, Optional

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from eventsvc.db import unit_of_work
from eventsvc.domain import audit, questions
from eventsvc.domain import events as event_service
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.errors import DomainError, ValidationFailed
from eventsvc.domain.retention import removal_time
from eventsvc.domain.rules import counts_by_status
from eventsvc.domain.statuses import CANCELLED, CONFIRMED, OFFERED, WAITLISTED, EventStatus
from eventsvc.edges.common import now
from eventsvc.edges.console.common import STATUS_FILTERS, act, console, matches
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
from eventsvc.edges.console.forms import ActionForm
from eventsvc.edges.csv import answers_csv
from eventsvc.edges.shared import attendance_sheet_response, certificates_zip_response, registration_rows
from eventsvc.formatting import event_when, moment_text


@console.get("/")
@login_required
def events() -> ResponseReturnValue:
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
def new_event() -> ResponseReturnValue:
    return _event_form(None)


@console.route("/events/<id:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id: int) -> ResponseReturnValue:
    return _event_form(event_id)


def _event_form(event_id: Optional[int]) -> ResponseReturnValue:
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


def _save_event(event_id: Optional[int], fields: dict[str, Any]) -> int:
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
def event(event_id: int) -> ResponseReturnValue:
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
            people = [(r, p) for r, p in people if matches(r, query)]
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
            question_labels={q["key"]: questions.label(q, str(get_locale())) for q in shown.questions or []},
        )


@console.post("/events/<id:event_id>/publish")
@login_required
def publish(event_id: int) -> ResponseReturnValue:
    return act(
        event_id,
        lambda s: event_service.publish_event(s, event_id, now()),
        "event_published",
        _("Die Veranstaltung ist veröffentlicht."),
    )


@console.route("/events/<id:event_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_event(event_id: int) -> ResponseReturnValue:
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        return act(
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
def duplicate(event_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    with unit_of_work() as db_session:
        original = event_service.get_event(db_session, event_id, public=False)
        copy = event_service.duplicate_event(db_session, event_id, f"{original.title} (Kopie)", now())
        audit.record(db_session, current_user.name, "event_duplicated", now(), copy.id, detail=f"from {event_id}")
        copy_id = copy.id
    flash(_("Eine Kopie als Entwurf ist angelegt; bitte Datum und Titel anpassen."))
    return redirect(url_for("console.edit_event", event_id=copy_id), code=303)


@console.get(
    "/events/<id:event_id>/download/<any('registrations.csv', 'attendance-sheet.pdf', 'certificates.zip'):what>"
)
@login_required
def download(event_id: int, what: str) -> ResponseReturnValue:
    """What the admin API hands out as files, for a console session."""
    if what == "attendance-sheet.pdf":
        return attendance_sheet_response(event_id)
    if what == "certificates.zip":
        return certificates_zip_response(event_id)
    rows, asked, sessions = registration_rows(event_id)
    return answers_csv(rows, asked, f"registrations-{event_id}.csv", sessions)

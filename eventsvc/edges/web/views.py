"""The participant pages: parse the form, call the domain, render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Optional
from urllib.parse import urlsplit

import marshmallow as ma
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale, refresh
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from eventsvc.db import unit_of_work
from eventsvc.domain import certificates, contingents, organizations, policies, questions, waitlist
from eventsvc.domain import documents as document_service
from eventsvc.domain import events as event_service
from eventsvc.domain import registrations as registration_service
from eventsvc.domain import sessions as event_sessions
from eventsvc.domain.errors import (
    AlreadyRegistered,
    EventFull,
    InvalidState,
    NotFound,
    OfferExpired,
    RateLimited,
    RegistrationClosed,
    ValidationFailed,
)
from eventsvc.domain.models import Event, Registration
from eventsvc.domain.rules import is_registration_open, occupancy, waitlist_position
from eventsvc.domain.statuses import EventStatus, RegistrationStatus
from eventsvc.domain.vocabulary import LANGUAGES, NextRegistration
from eventsvc.edges.common import links, now
from eventsvc.edges.presenters import seat_offer, sessions_of
from eventsvc.edges.ratelimits import registrations_limited
from eventsvc.edges.schemas import RegistrationInSchema, applicant_from
from eventsvc.edges.web.forms import ConfirmForm, RegistrationForm
from eventsvc.formatting import event_when, moment_text, zone_note
from eventsvc.wording import what_you_get, when_known, why_waiting

pages = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")
# The locale belongs to the request: Flask-Babel keeps it on the app context, which may serve
# several requests (a test client inside `app.app_context()`). Only pages have a language;
# the JSON API's answers do not pay for it.
pages.before_request(refresh)


@pages.app_template_filter("when")
def when_filter(event: Event) -> str:
    language = str(get_locale())
    return event_when(event.starts_at, event.ends_at, event.timezone, language) + zone_note(
        event.starts_at, event.timezone, language
    )


@dataclass(frozen=True)
class SeatOffer:
    """What the page says of seats: the domain's answer, and how many are left."""

    next: str
    left: int


def seat_offers(db_session: Session, events: list[Event]) -> dict[int, SeatOffer]:
    counts = occupancy(db_session, [event.id for event in events])
    moment = now()
    return {
        event.id: SeatOffer(
            seat_offer(db_session, event, counts[event.id], moment), policies.seats_left(event, counts[event.id])
        )
        for event in events
    }


@pages.app_template_filter("question_label")
def question_label(question: dict[str, Any]) -> str:
    return questions.label(question, str(get_locale()))


@pages.app_context_processor
def page_globals() -> dict[str, Any]:
    return {"language": str(get_locale()), "privacy_url": current_app.config.get("PRIVACY_URL")}


@pages.get("/")
def index() -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        events = event_service.list_events(db_session, now(), public=True)
        return render_template("index.html", events=events, offers=seat_offers(db_session, events))


@pages.get("/barrierefreiheit", defaults={"language": "de"})
@pages.get("/accessibility", defaults={"language": "en"})
def accessibility(language: str) -> ResponseReturnValue:
    """The accessibility statement (BITV 2.0), in the language of its address."""
    session["lang"] = language
    config = current_app.config
    contact = config.get("ACCESSIBILITY_CONTACT") or parseaddr(config["MAIL_DEFAULT_SENDER"])[1]
    with force_locale(language):
        return render_template(
            "accessibility.html", contact=contact, enforcement=config.get("ACCESSIBILITY_ENFORCEMENT")
        )


@pages.get("/language/<code>")
def choose_language(code: str) -> ResponseReturnValue:
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(same_site_path(request.args.get("next", "/")))


def same_site_path(target: str) -> str:
    """`target` if it is a path on this site, else the start page: a redirect must never
    lead elsewhere (browsers read `/\\x` and `/<TAB>/x` as `//x`, another host)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(character.isspace() or ord(character) < 0x20 or ord(character) == 0x7F for character in target):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def _event_page(event_id: int, form: RegistrationForm, status: int = 200, check: bool = False) -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        try:
            event = event_service.get_event(db_session, event_id, public=True)
        except NotFound:
            abort(404)
        offer = seat_offers(db_session, [event])[event.id]
        moment = now()
        if event.status == EventStatus.CANCELLED.value:
            closed = _("Diese Veranstaltung wurde abgesagt.")
        elif event.ends_at <= moment:
            closed = _("Diese Veranstaltung hat bereits stattgefunden.")
        elif not is_registration_open(event, moment):
            closed = (
                _("Die Anmeldung ist derzeit nicht geöffnet.")
                if event.registration_opens_at and event.registration_opens_at > moment
                else _("Die Anmeldung ist geschlossen.")
            )
        elif offer.next == NextRegistration.FULL.value:
            closed = _("Die Veranstaltung ist ausgebucht.")
        else:
            closed = None
        told = _prospect_told(db_session, event, form, moment) if check and not closed else None
        return render_template(
            "event.html",
            event=event,
            offer=offer,
            form=form,
            closed=closed,
            prospect=told,
            contingents_apply=contingents.apply(event, moment),
            phase=policies.phase(event, moment),
            organization_names=[] if closed else organizations.names_for_form(db_session),
            session_offers=session_offers(db_session, event),
        ), status


@dataclass(frozen=True)
class ProspectTold:
    outcome: str
    text: str


def _prospect_told(db_session: Session, event: Event, form: RegistrationForm, moment: datetime) -> ProspectTold:
    """What this person would get, from the domain's answer for their address and
    organization, in words."""
    key = organizations.key_named(db_session, form.organization.data)
    answer = registration_service.prospect(db_session, event, (form.email.data or "").strip(), key, moment)
    reason = answer.waitlist_reason
    ends = policies.waiting_ends_at(event, reason)
    text = what_you_get(
        _, answer.outcome.value, reason, answer.organization, answer.seats_held, event.organization_limit
    )
    later = when_known(_, reason, moment_text(ends, event.timezone, str(get_locale())) if ends else None)
    return ProspectTold(answer.outcome.value, f"{text} {later}".strip())


@pages.get("/events/<id:event_id>")
def event_page(event_id: int) -> ResponseReturnValue:
    return _event_page(event_id, RegistrationForm())


MAX_COLLEAGUES = 9


@pages.post("/events/<id:event_id>")
@registrations_limited()
def register(event_id: int) -> ResponseReturnValue:
    """Register the person who fills in the form, and the colleagues they add ('Weitere
    Person anmelden' sends the form back with one more set of fields: no JavaScript)."""
    form = RegistrationForm()
    if not form.validate_on_submit():  # only the CSRF token is checked here
        form.form_errors.append(_("Das Formular ist abgelaufen. Bitte senden Sie es noch einmal."))
        return _event_page(event_id, form, 400)
    if form.website.data:
        form.form_errors.append(_("Ihre Anmeldung konnte nicht verarbeitet werden."))
        return _event_page(event_id, form, 400)
    with unit_of_work(writes=False) as db_session:
        try:
            asked = list(event_service.get_event(db_session, event_id, public=True).questions or [])
        except NotFound:
            abort(404)
    form.answers = _answers_from(request.form, asked)
    form.colleagues = _colleagues_from(request.form)
    form.sessions_chosen = request.form.getlist("sessions")
    if request.form.get("action") == "add_person":
        form.colleagues = [*form.colleagues[: MAX_COLLEAGUES - 1], _empty_colleague(focus=True)]
        return _event_page(event_id, form, 200)
    if request.form.get("action") == "check":
        return _event_page(event_id, form, 200, check=True)
    people = [_payload(form.name.data, form.email.data, form.organization.data, form.role.data, form)]
    people[0]["sessions"] = form.sessions_chosen
    people += [
        _payload(c["name"], c["email"], c["organization"], c["role"], form)
        for c in form.colleagues
        if c["name"] or c["email"]
    ]
    with unit_of_work(writes=False) as db_session:
        for person in people:
            # A name chosen from the form's suggestions is that organization.
            person["organization_key"] = organizations.key_named(db_session, person["organization"])
    try:
        loaded = [RegistrationInSchema().load(person) for person in people]
    except ma.ValidationError:
        _attach_person_errors(form, people)
        return _event_page(event_id, form, 422)
    try:
        with unit_of_work() as db_session:
            applicants = [applicant_from(fields) for fields in loaded]
            if len(applicants) == 1:
                outcome = registration_service.register(db_session, event_id, applicants[0], now())
            else:
                outcome = registration_service.register_many(db_session, event_id, applicants, now())[0]
    except NotFound:
        abort(404)
    except ValidationFailed as refusal:
        _attach_errors(form, {key.removeprefix("people.0."): value for key, value in refusal.errors.items()})
        return _event_page(event_id, form, 422)
    except AlreadyRegistered as refusal:
        message = _("Mit dieser E-Mail-Adresse besteht bereits eine Anmeldung für die Veranstaltung.")
        if refusal.person:
            _named_colleagues(form)[refusal.person - 1]["errors"]["email"] = message
        else:
            form.email.errors = [message]
        return _event_page(event_id, form, 409)
    except RateLimited:
        form.form_errors.append(
            _(
                "Mit dieser E-Mail-Adresse wurde in der letzten Stunde zu oft angemeldet. "
                "Bitte versuchen Sie es später noch einmal."
            )
        )
        return _event_page(event_id, form, 429)
    except (RegistrationClosed, EventFull) as refusal:
        form.form_errors.append(
            _("Die Veranstaltung ist ausgebucht.")
            if isinstance(refusal, EventFull)
            else _("Die Anmeldung ist geschlossen.")
        )
        return _event_page(event_id, form, 409)
    if outcome.already_registered:
        form.email.errors = [
            _(
                "Mit dieser E-Mail-Adresse besteht bereits eine Anmeldung. "
                "Wir haben Ihnen den Link zu Ihrer Anmeldung noch einmal geschickt."
            )
        ]
        return _event_page(event_id, form, 409)
    arguments: dict[str, Any] = {"token": outcome.token, "new": 1}
    if len(people) > 1:
        arguments["others"] = len(people) - 1
    return redirect(url_for("pages.manage", **arguments), code=303)


def _payload(
    name: Optional[str], email: Optional[str], organization: Optional[str], role: Optional[str], form: RegistrationForm
) -> dict[str, Any]:
    return {
        "name": name or "",
        "email": (email or "").strip(),
        "organization": organization or None,
        "role": role or None,
        # The person filling in the form agrees for the colleagues they name (the form says so).
        "consent": bool(form.consent.data),
        "language": str(get_locale()),
        "answers": form.answers,
        "sensitive_consent": bool(form.sensitive_consent.data),
    }


def _empty_colleague(focus: bool = False) -> dict[str, Any]:
    return {"name": "", "email": "", "organization": "", "role": "", "errors": {}, "focus": focus}


def _colleagues_from(submitted: MultiDict[str, str]) -> list[dict[str, Any]]:
    try:
        count = max(0, min(MAX_COLLEAGUES, int(submitted.get("colleagues", "0"))))
    except ValueError:
        count = 0
    return [
        {
            name: (submitted.get(f"colleague-{n}-{name}") or "").strip()
            for name in ("name", "email", "organization", "role")
        }
        | {"errors": {}, "focus": False}
        for n in range(count)
    ]


def _named_colleagues(form: RegistrationForm) -> list[dict[str, Any]]:
    return [c for c in form.colleagues if c["name"] or c["email"]]


def _attach_person_errors(form: RegistrationForm, people: list[dict[str, Any]]) -> None:
    """Each person's schema errors beside their own fields."""
    explained = _field_messages()
    for number, person in enumerate(people):
        try:
            RegistrationInSchema().load(person)
        except ma.ValidationError as error:
            if number == 0:
                _attach_errors(form, error.messages_dict)
            else:
                _named_colleagues(form)[number - 1]["errors"] = {
                    name: explained.get(name, _("Bitte prüfen Sie diese Angabe.")) for name in error.messages_dict
                }


# Messages from the shared schema, in the page's language.
def _field_messages() -> dict[str, Any]:
    return {
        "name": _("Bitte geben Sie Ihren Namen an (höchstens 200 Zeichen)."),
        "email": _("Bitte geben Sie eine gültige E-Mail-Adresse an."),
        "organization": _("Bitte höchstens 200 Zeichen, ohne Zeilenumbrüche."),
        "role": _("Bitte höchstens 200 Zeichen, ohne Zeilenumbrüche."),
        "consent": _("Bitte stimmen Sie der Verarbeitung Ihrer Daten zu."),
        "sensitive_consent": _(
            "Bitte stimmen Sie der Verarbeitung dieser besonderen Angaben zu, oder lassen Sie die Fragen leer."
        ),
    }


def _attach_errors(form: RegistrationForm, messages: dict[str, Any]) -> None:
    explained = _field_messages()
    for name in messages:
        if name == "sessions":
            form.sessions_error = _("Bitte wählen Sie keine zwei Angebote, die zur selben Zeit stattfinden.")
            continue
        if name.startswith("answers."):
            form.answer_errors[name.removeprefix("answers.")] = _("Bitte beantworten Sie diese Frage vollständig.")
            continue
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [explained.get(name, _("Bitte prüfen Sie diese Angabe."))]


def _answers_from(submitted: MultiDict[str, str], asked: list[dict[str, Any]]) -> dict[str, Any]:
    """The answers as the form sent them: a text, a choice, several choices, or yes/no."""
    answers: dict[str, Any] = {}
    for question in asked:
        name = f"answers-{question['key']}"
        if question["type"] == "multi":
            chosen = submitted.getlist(name)
            if chosen:
                answers[question["key"]] = chosen
        elif question["type"] == "boolean":
            if submitted.get(name) in ("yes", "no"):
                answers[question["key"]] = submitted.get(name) == "yes"
        elif (submitted.get(name) or "").strip():
            answers[question["key"]] = submitted.get(name)
    return answers


def session_offers(db_session: Session, event: Event) -> list[dict[str, Any]]:
    """The event's sessions as the form shows them: with times in words and their seats."""
    language = str(get_locale())
    return [
        item | {"when": event_when(item["starts_at"], item["ends_at"], event.timezone, language)}
        for item in sessions_of(db_session, event)
    ]


def _why_waiting(db_session: Session, registration: Registration) -> dict[str, str]:
    """Why a person waits although seats may be free, and when they will learn more."""
    event = registration.event
    reason = registration.waitlist_reason if registration.status == RegistrationStatus.WAITLISTED.value else None
    ends = policies.waiting_ends_at(event, reason)
    moment = moment_text(ends, event.timezone, str(get_locale())) if ends else None
    return {
        "waiting_because": why_waiting(
            _, reason, organizations.name_of(db_session, registration.organization_key), event.organization_limit
        ),
        "learn_more": when_known(_, reason, moment),
    }


def _own_sessions(db_session: Session, registration: Registration) -> list[dict[str, Any]]:
    offers = {item["key"]: item for item in session_offers(db_session, registration.event)}
    return [
        offers[choice["key"]] | {"status": choice["status"], "position": choice["waitlist_position"]}
        for choice in event_sessions.choices_of(db_session, registration.id)
        if choice["key"] in offers
    ]


@pages.route("/r/<token>/sessions", methods=["GET", "POST"])
def change_sessions(token: str) -> ResponseReturnValue:
    """Change one's sessions; giving up a held seat asks once more first."""
    form = ConfirmForm()
    with unit_of_work(writes=False) as db_session:
        registration = _load_registration(db_session, token)
        event = registration.event
        if not policies.participant_actions(registration, event, now()).change_sessions:
            return redirect(url_for("pages.manage", token=token, late=1), code=303)
        own = _own_sessions(db_session, registration)
        offers = session_offers(db_session, event)
    chosen = [c["key"] for c in own]
    giving_up: list[str] = []
    error = None
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        chosen = request.form.getlist("sessions")
        giving_up = [c["title"] for c in own if c["status"] == "confirmed" and c["key"] not in chosen]
        if not giving_up or request.form.get("confirmed") == "1":
            try:
                with unit_of_work() as db_session:
                    registration_service.change_sessions(
                        db_session, registration_service.get_by_token(db_session, token), chosen, now()
                    )
            except ValidationFailed:
                error, giving_up, status = (
                    _("Bitte wählen Sie keine zwei Angebote, die zur selben Zeit stattfinden."),
                    [],
                    422,
                )
            except InvalidState:
                return redirect(url_for("pages.manage", token=token, late=1), code=303)
            else:
                return redirect(url_for("pages.manage", token=token), code=303)
    with unit_of_work(writes=False) as db_session:
        registration = _load_registration(db_session, token)
        html = render_template(
            "sessions.html",
            registration=registration,
            event=registration.event,
            offers=offers,
            chosen=chosen,
            giving_up=giving_up,
            error=error,
            form=form,
        )
    return html, status


def _load_registration(db_session: Session, token: str) -> Registration:
    try:
        return registration_service.get_by_token(db_session, token)
    except NotFound:
        abort(404)


@pages.get("/r/<token>")
def manage(token: str) -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        registration = _load_registration(db_session, token)
        documents = (
            []
            if registration.status == RegistrationStatus.CANCELLED.value
            else document_service.documents_for_registration(db_session, registration.id, links())
        )
        return render_template(
            "manage.html",
            phase=policies.phase(registration.event, now()),
            actions=policies.participant_actions(registration, registration.event, now()),
            registration=registration,
            event=registration.event,
            position=waitlist_position(db_session, registration),
            **_why_waiting(db_session, registration),
            documents=documents,
            just_registered=request.args.get("new") == "1",
            too_late=request.args.get("late") == "1",
            others=request.args.get("others", type=int) or 0,
            form=ConfirmForm(),
            offer_until=moment_text(registration.offer_expires_at, registration.event.timezone, str(get_locale()))
            if registration.offer_expires_at
            else "",
            statuses=RegistrationStatus,
            sessions=_own_sessions(db_session, registration),
            certificate=certificates.is_issued(registration.event, registration, now()),
        )


@pages.route("/r/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str) -> ResponseReturnValue:
    form = ConfirmForm()
    with unit_of_work(writes=False) as db_session:
        registration = _load_registration(db_session, token)
        stage = policies.phase(registration.event, now())
        allowed = policies.participant_actions(registration, registration.event, now()).cancel
        if request.method != "POST" or not allowed or not form.validate_on_submit():
            return render_template(
                "cancel.html", registration=registration, event=registration.event, form=form, phase=stage
            )
    with unit_of_work() as db_session:
        registration_service.cancel(db_session, _load_registration(db_session, token), now())
    return redirect(url_for("pages.manage", token=token), code=303)


# The answers a participant gives on the manage page: buttons (POST), never links, since mail
# scanners open every link in an email.
ANSWERS = {"accept": waitlist.accept, "decline": waitlist.decline, "reconfirm": waitlist.reconfirm}


@pages.post("/r/<token>/<any(accept, decline, reconfirm):answer>")
def answer(token: str, answer: str) -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                ANSWERS[answer](db_session, token, now())
        except NotFound:
            abort(404)
        except (InvalidState, OfferExpired):
            return redirect(url_for("pages.manage", token=token, late=1), code=303)
    return redirect(url_for("pages.manage", token=token), code=303)


@pages.route("/r/<token>/transfer", methods=["GET", "POST"])
def send_substitute(token: str) -> ResponseReturnValue:
    """'Vertretung schicken': the seat passes to a colleague, who registers here."""
    form = RegistrationForm()
    with unit_of_work(writes=False) as db_session:
        registration = _load_registration(db_session, token)
        event, stage = registration.event, policies.phase(registration.event, now())
        allowed = policies.participant_actions(registration, event, now()).transfer
        asked = list(event.questions or [])
    if request.method == "POST" and allowed:
        status = _transfer(token, form, asked)
        if status is None:
            return redirect(url_for("pages.manage", token=token), code=303)
    else:
        status = 200
    with unit_of_work(writes=False) as db_session:
        registration = _load_registration(db_session, token)
        html = render_template(
            "transfer.html", registration=registration, event=registration.event, form=form, phase=stage
        )
    return html, status


def _transfer(token: str, form: RegistrationForm, asked: list[dict[str, Any]]) -> Optional[int]:
    """Pass the seat on; None when done, else the status of the page that shows why not."""
    if not form.validate_on_submit():
        form.form_errors.append(_("Das Formular ist abgelaufen. Bitte senden Sie es noch einmal."))
        return 400
    form.answers = _answers_from(request.form, asked)
    payload = {
        "name": form.name.data or "",
        "email": (form.email.data or "").strip(),
        "organization": form.organization.data or None,
        "role": form.role.data or None,
        "consent": bool(form.consent.data),
        "language": str(get_locale()),
        "answers": form.answers,
        "sensitive_consent": bool(form.sensitive_consent.data),
    }
    try:
        fields = RegistrationInSchema().load(payload)
        with unit_of_work() as db_session:
            registration_service.transfer(db_session, token, applicant_from(fields), now())
    except ma.ValidationError as error:
        _attach_errors(form, error.messages_dict)
        return 422
    except ValidationFailed as refusal:
        _attach_errors(form, refusal.errors)
        return 422
    except AlreadyRegistered:
        form.email.errors = [_("Mit dieser E-Mail-Adresse besteht bereits eine Anmeldung für die Veranstaltung.")]
        return 409
    except InvalidState:
        form.form_errors.append(_("Dieser Platz kann nicht mehr weitergegeben werden."))
        return 409
    return None


@pages.get("/r/<token>/decline")
def confirm_decline(token: str) -> ResponseReturnValue:
    """Declining costs the seat: a confirming step first."""
    with unit_of_work(writes=False) as db_session:
        registration = _load_registration(db_session, token)
        return render_template("decline.html", registration=registration, event=registration.event, form=ConfirmForm())


def render_error(status: int) -> ResponseReturnValue:
    titles = {404: _("Seite nicht gefunden"), 429: _("Zu viele Anfragen"), 413: _("Die Datei ist zu groß")}
    return render_template("error.html", status=status, title=titles.get(status, _("Das hat nicht geklappt"))), status

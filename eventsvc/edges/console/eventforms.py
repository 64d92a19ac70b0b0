"""The event form of the console, in an organizer's terms (a day and times in the event's
time zone, reminders in days, windows in hours), turned into the admin API's event fields
and checked by the API's own schema, so that the console refuses what the API refuses."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import marshmallow as ma

from eventsvc.domain.models import Event
from eventsvc.domain.vocabulary import HOME_ZONE
from eventsvc.edges.schemas import EventInSchema

DAY = 86400
HOUR = 3600

# The form's fields, with their defaults for a new event.
DEFAULTS: dict[str, str] = {
    "title": "",
    "description": "",
    "location": "",
    "day": "",
    "start": "09:00",
    "end_day": "",
    "end": "16:00",
    "timezone": HOME_ZONE,
    "capacity": "100",
    "waitlist": "on",
    "waitlist_mode": "auto",
    "offer_hours": "48",
    "opens": "",
    "closes": "",
    "reminder_days": "7, 1",
    "documentation_hours": "2",
    "documentation_recipients": "confirmed",
    "organizer_name": "",
    "organizer_email": "",
    "cutoff_days": "",
    "reconfirm_days": "",
    "reconfirm_window_days": "3",
    "retention_days": "365",
    "sensitive_retention_days": "30",
    "certificate_hours": "",
    "certificate_signer": "",
    "certificate_topics": "",
    "organization_limit": "",
    "members_first_until": "",
    "contingents_release_at": "",
    "roles": "",
    "series": "",
    "sessions": "",
    "feedback_questions": "",
    "feedback_send_hours": "2",
    "feedback_remind_days": "7",
    "feedback_close_days": "21",
}

QUESTION_TYPES = ("text", "choice", "multi", "boolean")


def new_event_values(default_retention: int) -> dict[str, str]:
    """The form of a new event: the defaults, with the installation's retention."""
    return DEFAULTS | {"retention_days": _number(default_retention / DAY)}


# Where the API's field errors are shown on the form.
FIELD_OF = {
    "starts_at": "start",
    "ends_at": "end",
    "registration_opens_at": "opens",
    "registration_closes_at": "closes",
    "reminders": "reminder_days",
    "documentation_delay": "documentation_hours",
    "offer_window": "offer_hours",
    "promotion_cutoff": "cutoff_days",
    "reconfirm_before": "reconfirm_days",
    "reconfirm_window": "reconfirm_window_days",
    "retention": "retention_days",
    "sensitive_retention": "sensitive_retention_days",
    "certificate": "certificate_hours",
    "waitlist": "waitlist",
    "feedback": "feedback_questions",
}


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("the form has errors")
        self.errors = errors


def values_of(event: Event) -> dict[str, str]:
    """The form filled from a stored event."""
    zone = ZoneInfo(event.timezone)
    starts, ends = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    certificate = event.certificate or {}
    return {
        "title": event.title,
        "description": event.description or "",
        "location": event.location or "",
        "day": starts.date().isoformat(),
        "start": starts.strftime("%H:%M"),
        "end_day": ends.date().isoformat() if ends.date() != starts.date() else "",
        "end": ends.strftime("%H:%M"),
        "timezone": event.timezone,
        "capacity": str(event.capacity),
        "waitlist": "on" if event.waitlist_enabled else "",
        "waitlist_mode": event.waitlist_mode,
        "offer_hours": _number(event.offer_window / HOUR),
        "opens": _local(event.registration_opens_at, zone),
        "closes": _local(event.registration_closes_at, zone),
        "reminder_days": ", ".join(f"{offset / DAY:g}" for offset in event.reminder_offsets),
        "documentation_hours": _number(event.documentation_delay / HOUR),
        "documentation_recipients": event.documentation_recipients,
        "organizer_name": event.organizer_name or "",
        "organizer_email": event.organizer_email or "",
        "cutoff_days": _number(event.promotion_cutoff / DAY) if event.promotion_cutoff else "",
        "reconfirm_days": _number(event.reconfirm_before / DAY) if event.reconfirm_before else "",
        "reconfirm_window_days": _number(event.reconfirm_window / DAY),
        "retention_days": _number(event.retention / DAY),
        "sensitive_retention_days": _number(event.sensitive_retention / DAY),
        "certificate_hours": _number(certificate["hours"]) if certificate else "",
        "certificate_signer": certificate.get("signer", ""),
        "certificate_topics": "\n".join(certificate.get("topics", [])),
        "organization_limit": str(event.organization_limit or ""),
        "members_first_until": _local(event.members_first_until, zone),
        "contingents_release_at": _local(event.contingents_release_at, zone),
        "roles": "\n".join(event.roles or []),
        "series": event.series or "",
        "sessions": "\n".join(_session_line(item, zone) for item in event.sessions or []),
        **_feedback_values(event.feedback),
    }


def _session_line(item: dict[str, Any], zone: ZoneInfo) -> str:
    """A session as the form writes it: key | title | 14:00-16:00 | capacity | room."""
    starts = datetime.fromisoformat(item["starts_at"]).astimezone(zone)
    ends = datetime.fromisoformat(item["ends_at"]).astimezone(zone)
    return " | ".join(
        [item["key"], item["title"], f"{starts:%H:%M}-{ends:%H:%M}", str(item["capacity"]), item.get("location") or ""]
    )


def _feedback_values(settings: Optional[dict[str, Any]]) -> dict[str, str]:
    if not settings:
        return {}
    lines = []
    for question in settings["questions"]:
        label = question["label"] if isinstance(question["label"], str) else question["label"].get("de", "")
        lines.append(" | ".join([question["key"], question["type"], label, ", ".join(question.get("options") or [])]))
    return {
        "feedback_questions": "\n".join(lines),
        "feedback_send_hours": _number(settings["send_after"] / HOUR),
        "feedback_remind_days": _number(settings["remind_after"] / DAY),
        "feedback_close_days": _number(settings["closes_after"] / DAY),
    }


def question_rows_of(event: Event) -> list[dict[str, Any]]:
    """The event's questions as the form's rows, one more empty row for a new question."""
    rows = []
    for question in event.questions or []:
        label = question["label"]
        rows.append(
            {
                "key": question["key"],
                "label": label.get("de", "") if isinstance(label, dict) else label,
                "label_en": label.get("en", "") if isinstance(label, dict) else "",
                "type": question["type"],
                "options": "\n".join(question.get("options") or []),
                "required": bool(question.get("required")),
                "sensitive": bool(question.get("sensitive")),
            }
        )
    return [*rows, empty_question()]


def empty_question() -> dict[str, Any]:
    return {
        "key": "",
        "label": "",
        "label_en": "",
        "type": "text",
        "options": "",
        "required": False,
        "sensitive": False,
    }


def submitted_questions(form: Any) -> list[dict[str, Any]]:
    """The question rows as sent (`q-<n>-<field>`), in their order."""
    rows = []
    number = 0
    while f"q-{number}-label" in form:
        rows.append(
            {
                "key": str(form.get(f"q-{number}-key", "")).strip(),
                "label": str(form.get(f"q-{number}-label", "")).strip(),
                "label_en": str(form.get(f"q-{number}-label_en", "")).strip(),
                "type": str(form.get(f"q-{number}-type", "text")),
                "options": str(form.get(f"q-{number}-options", "")),
                "required": bool(form.get(f"q-{number}-required")),
                "sensitive": bool(form.get(f"q-{number}-sensitive")),
            }
        )
        number += 1
    return rows


def questions_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with a question as the API's question list; a new question's key is made
    from its label."""
    taken = {row["key"] for row in rows if row["key"]}
    questions = []
    for row in rows:
        if not row["label"]:
            continue
        key = row["key"] or _new_key(row["label"], taken)
        taken.add(key)
        label: Any = {"de": row["label"], "en": row["label_en"]} if row["label_en"] else row["label"]
        options = [line.strip() for line in row["options"].splitlines() if line.strip()]
        question = {"key": key, "label": label, "type": row["type"], "required": row["required"]}
        question["sensitive"] = row["sensitive"]
        if row["type"] in ("choice", "multi"):
            question["options"] = options
        questions.append(question)
    return questions


def _new_key(label: str, taken: set[str]) -> str:
    plain = label.lower()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        plain = plain.replace(umlaut, spelled)
    base = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:30] or "frage"
    base = base if base[0].isalpha() else f"q_{base}"[:30]
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def submitted(form: Any) -> dict[str, str]:
    values = {name: str(form.get(name, "")).strip() for name in DEFAULTS}
    values["waitlist"] = "on" if form.get("waitlist") else ""
    for choice in ("waitlist_mode", "documentation_recipients", "timezone"):  # never sent empty by the form
        values[choice] = values[choice] or DEFAULTS[choice]
    return values


def to_fields(values: dict[str, str], question_rows: list[dict[str, Any]], partial: bool = False) -> dict[str, Any]:
    """The event's fields as the admin API takes them, loaded through its schema; FormErrors
    says what is wrong, by form field."""
    errors: dict[str, str] = {}
    zone_name = values["timezone"] or HOME_ZONE
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FormErrors({"timezone": "Unbekannte Zeitzone, etwa Europe/Berlin."}) from None

    def moment(day: str, clock: str, field: str) -> Optional[str]:
        try:
            return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), zone).isoformat()
        except ValueError:
            errors[field] = "Bitte Datum (JJJJ-MM-TT) und Uhrzeit (HH:MM) angeben."
            return None

    def local_moment(text: str, field: str) -> Optional[str]:
        if not text:
            return None
        try:
            return datetime.fromisoformat(text).replace(tzinfo=zone).isoformat()
        except ValueError:
            errors[field] = "Bitte Datum und Uhrzeit angeben."
            return None

    def amount(text: str, field: str, unit: str, optional: bool = False) -> Optional[str]:
        if optional and not text:
            return None
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            errors[field] = "Bitte eine Zahl angeben."
            return None
        seconds = round(number * (DAY if unit == "D" else HOUR))
        if seconds < 0:
            errors[field] = "Bitte eine Zahl ab 0 angeben."
            return None
        return f"PT{seconds}S"

    payload: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"] or None,
        "location": values["location"] or None,
        "starts_at": moment(values["day"], values["start"], "start"),
        "ends_at": moment(values["end_day"] or values["day"], values["end"], "end"),
        "timezone": zone_name,
        "waitlist": bool(values["waitlist"]),
        "waitlist_mode": values["waitlist_mode"],
        "offer_window": amount(values["offer_hours"], "offer_hours", "H"),
        "registration_opens_at": local_moment(values["opens"], "opens"),
        "registration_closes_at": local_moment(values["closes"], "closes"),
        "documentation_delay": amount(values["documentation_hours"], "documentation_hours", "H"),
        "documentation_recipients": values["documentation_recipients"],
        "organizer_name": values["organizer_name"] or None,
        "organizer_email": values["organizer_email"] or None,
        "promotion_cutoff": amount(values["cutoff_days"], "cutoff_days", "D", optional=True),
        "reconfirm_before": amount(values["reconfirm_days"], "reconfirm_days", "D", optional=True),
        "reconfirm_window": amount(values["reconfirm_window_days"], "reconfirm_window_days", "D"),
        "sensitive_retention": amount(values["sensitive_retention_days"], "sensitive_retention_days", "D"),
    }
    if values["organization_limit"]:
        if values["organization_limit"].isdigit():
            payload["organization_limit"] = int(values["organization_limit"])
        else:
            errors["organization_limit"] = "Bitte eine ganze Zahl angeben."
    else:
        payload["organization_limit"] = None
    payload["members_first_until"] = local_moment(values["members_first_until"], "members_first_until")
    payload["contingents_release_at"] = local_moment(values["contingents_release_at"], "contingents_release_at")
    payload["roles"] = [line.strip() for line in values["roles"].splitlines() if line.strip()] or None
    payload["series"] = values["series"] or None
    payload["sessions"] = _sessions_of(values, zone, errors)
    payload["feedback"] = _feedback_of(values, errors)
    # Left empty, the installation's retention applies (the domain's default).
    retention = amount(values["retention_days"], "retention_days", "D", optional=True)
    if retention is not None:
        payload["retention"] = retention
    try:
        payload["capacity"] = int(values["capacity"])
    except ValueError:
        errors["capacity"] = "Bitte eine ganze Zahl angeben."
    reminders = []
    for part in filter(None, (p.strip() for p in values["reminder_days"].replace(";", ",").split(","))):
        reminders.append(amount(part, "reminder_days", "D"))
    payload["reminders"] = reminders
    if values["certificate_hours"] or values["certificate_signer"]:
        try:
            hours: Any = float(values["certificate_hours"].replace(",", "."))
        except ValueError:
            hours = None
            errors["certificate_hours"] = "Bitte die Stunden als Zahl angeben."
        topics = [line.strip() for line in values["certificate_topics"].splitlines() if line.strip()]
        payload["certificate"] = {"hours": hours, "signer": values["certificate_signer"], "topics": topics}
    else:
        payload["certificate"] = None
    payload["questions"] = questions_of(question_rows)
    if errors:
        raise FormErrors(errors)
    try:
        loaded: dict[str, Any] = EventInSchema().load(payload, partial=partial)
        return loaded
    except ma.ValidationError as error:
        raise FormErrors(form_errors(error.normalized_messages())) from error


def _sessions_of(values: dict[str, str], zone: ZoneInfo, errors: dict[str, str]) -> list[dict[str, Any]]:
    """Sessions from their lines (key | title | 14:00-16:00 | capacity | room), on the event's first day."""
    found = []
    for number, line in enumerate(filter(None, (line.strip() for line in values["sessions"].splitlines())), 1):
        parts = [part.strip() for part in line.split("|")]
        try:
            key, title, times, capacity = parts[:4]
            start, end = (time.fromisoformat(part.strip()) for part in times.split("-"))
            day = date.fromisoformat(values["day"])
            found.append(
                {
                    "key": key,
                    "title": title,
                    "starts_at": datetime.combine(day, start, zone).isoformat(),
                    "ends_at": datetime.combine(day, end, zone).isoformat(),
                    "capacity": int(capacity),
                    "location": (parts[4] if len(parts) > 4 else "") or None,
                }
            )
        except ValueError:
            errors["sessions"] = f"Zeile {number}: Schlüssel | Titel | 14:00-16:00 | Plätze | Raum."
    return found


def _feedback_of(values: dict[str, str], errors: dict[str, str]) -> Optional[dict[str, Any]]:
    """Feedback questions from their lines (key | type | question | options), and its times."""
    questions = []
    for number, line in enumerate(
        filter(None, (line.strip() for line in values["feedback_questions"].splitlines())), 1
    ):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 3:
            errors["feedback_questions"] = f"Zeile {number}: Schlüssel | Art | Frage | Möglichkeiten."
            continue
        options = [option.strip() for option in parts[3].split(",") if option.strip()] if len(parts) > 3 else []
        questions.append({"key": parts[0], "type": parts[1], "label": parts[2], "options": options})
    if not questions:
        return None
    try:
        hours = float(values["feedback_send_hours"].replace(",", "."))
        remind = float(values["feedback_remind_days"].replace(",", "."))
        closes = float(values["feedback_close_days"].replace(",", "."))
    except ValueError:
        errors["feedback_questions"] = "Bitte die Zeiten als Zahlen angeben."
        return None
    return {
        "questions": questions,
        "send_after": f"PT{round(hours * HOUR)}S",
        "remind_after": f"PT{round(remind * DAY)}S",
        "closes_after": f"PT{round(closes * DAY)}S",
    }


def form_errors(messages: Any) -> dict[str, str]:
    """The API's errors (by its field names) as the form's (by form field)."""
    found: dict[str, str] = {}
    if not isinstance(messages, dict):
        return {"title": str(messages)}
    for field, problem in messages.items():
        text = _text(problem)
        name = str(field)
        if name.startswith("questions."):  # questions.<n>…: the row's label field
            name = f"q-{name.split('.')[1]}-label"
        name = name.split(".")[0] if name.split(".")[0] in ("sessions", "roles", "feedback") else name
        found.setdefault(FIELD_OF.get(name, name), text)
    return found


def _text(problem: Any) -> str:
    if isinstance(problem, dict):
        return "; ".join(f"{key}: {_text(value)}" for key, value in problem.items())
    if isinstance(problem, list):
        return " ".join(_text(item) for item in problem)
    return str(problem)


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _local(moment: Optional[datetime], zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""

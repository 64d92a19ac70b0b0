"""What registering asks beyond name and address: an event's questions, and checking the
answers a person gives.

A question is `{"key", "label", "type", "required", "options", "sensitive"}`; `type` is
`text`, `choice` (one of `options`), `multi` (several of them) or `boolean`. Sensitive
questions ask for special categories of personal data (Art. 9 DSGVO: dietary or
accessibility needs) and need their own consent.

Answers are stored as they were given, under the question's key, and never rewritten.
Changing an event's questions after people answered them therefore loses nothing:
questions may be added, relabelled, made optional or required, and options added or
removed (earlier answers keep their value); a removed question's answers stay with the
person and are still exported, after the current questions. Only a question's `type`
cannot change once it has answers, since the stored answers would no longer fit it: give
the new question a new key instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Optional

from eventsvc.domain.errors import ValidationFailed

TYPES = ("text", "choice", "multi", "boolean")
# Feedback questions may also ask for a rating: an integer from 1 to 5.
RATING = "rating"
FEEDBACK_TYPES = (*TYPES, RATING)
KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_QUESTIONS = 30
MAX_OPTIONS = 30
MAX_TEXT_ANSWER = 2000
MAX_LABEL = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def normalised(questions: Any, types: tuple[str, ...] = TYPES, field_name: str = "questions") -> list[dict[str, Any]]:
    """An event's question list, checked; 422 errors name `questions` or `questions.<n>`
    (or `field_name`, for the feedback's questions)."""
    if not isinstance(questions, list) or len(questions) > MAX_QUESTIONS:
        raise ValidationFailed({field_name: [f"Must be a list of at most {MAX_QUESTIONS} questions."]})
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    result = []
    for number, question in enumerate(questions):
        field = f"{field_name}.{number}"
        problems = _question_problems(question, seen, types)
        if problems:
            errors[field] = problems
            continue
        seen.add(question["key"])
        result.append(
            {
                "key": question["key"],
                "label": question["label"],
                "type": question["type"],
                "required": bool(question.get("required", False)),
                "options": list(question.get("options") or []),
                "sensitive": bool(question.get("sensitive", False)),
            }
        )
    if errors:
        raise ValidationFailed(errors)
    return result


def _question_problems(question: Any, seen: set[str], types: tuple[str, ...]) -> list[str]:
    if not isinstance(question, dict):
        return ["Must be an object."]
    unknown = set(question) - {"key", "label", "type", "required", "options", "sensitive"}
    if unknown:
        return [f"Unknown field: {', '.join(sorted(map(str, unknown)))}."]
    key = question.get("key")
    if not isinstance(key, str) or not KEY.fullmatch(key):
        return ["key: must match [a-z][a-z0-9_]{0,39}."]
    if key in seen:
        return [f"key: {key!r} is used twice."]
    if not _is_label(question.get("label")):
        return ['label: a text, or {"de": …, "en": …}, of 1 to 300 characters without control characters.']
    if question.get("type") not in types:
        return [f"type: one of {', '.join(types)}."]
    for flag in ("required", "sensitive"):
        if flag in question and not isinstance(question[flag], bool):
            return [f"{flag}: true or false."]
    options = question.get("options")
    if question["type"] in ("choice", "multi"):
        if (
            not isinstance(options, list)
            or not options
            or len(options) > MAX_OPTIONS
            or not all(
                isinstance(option, str) and 0 < len(option) <= 200 and not _CONTROL.search(option) for option in options
            )
        ):
            return [f"options: a list of 1 to {MAX_OPTIONS} texts is needed for {question['type']}."]
        if len(set(options)) != len(options):
            return ["options: each option once."]
    elif options not in (None, []):
        return [f"options: only choice and multi questions have options, not {question['type']}."]
    return []


def _is_label(label: Any) -> bool:
    texts = list(label.values()) if isinstance(label, dict) and set(label) <= {"de", "en"} and label else [label]
    return all(
        isinstance(text, str) and len(text.strip()) > 0 and len(text) <= MAX_LABEL and not _CONTROL.search(text)
        for text in texts
    )


def check_change(current: list[dict[str, Any]], new: list[dict[str, Any]], answered: Iterable[str]) -> None:
    """Refuse to change the type of a question that has answers (see the module's notes)."""
    types = {question["key"]: question["type"] for question in current}
    answered = set(answered)
    for number, question in enumerate(new):
        before = types.get(question["key"])
        if before and before != question["type"] and question["key"] in answered:
            raise ValidationFailed(
                {
                    f"questions.{number}": [
                        f"type: {question['key']!r} has answers as {before}; give the changed question a new key."
                    ]
                }
            )


def label(question: dict[str, Any], language: str) -> str:
    text = question["label"]
    if isinstance(text, dict):
        return str(text.get(language) or text.get("de") or next(iter(text.values())))
    return str(text)


def checked_answers(
    questions: list[dict[str, Any]], answers: Any, sensitive_consent: bool
) -> tuple[dict[str, Any], bool]:
    """The answers to store, and whether a sensitive one was given; 422 errors name
    `answers.<key>` or `sensitive_consent`."""
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        raise ValidationFailed({"answers": ["Must be an object keyed by question key."]})
    by_key = {question["key"]: question for question in questions}
    errors: dict[str, list[str]] = {}
    for key in answers:
        if key not in by_key:
            errors[f"answers.{key}"] = ["No such question."]
    stored: dict[str, Any] = {}
    for key, question in by_key.items():
        value = answers.get(key)
        if _is_empty(value):
            if question["required"]:
                errors[f"answers.{key}"] = ["An answer is required."]
            continue
        problem = _answer_problem(question, value)
        if problem:
            errors[f"answers.{key}"] = [problem]
        else:
            stored[key] = value.strip() if isinstance(value, str) else value
    sensitive_given = any(by_key[key]["sensitive"] for key in stored)
    if sensitive_given and not sensitive_consent:
        errors["sensitive_consent"] = ["Answers to sensitive questions need your explicit consent."]
    if errors:
        raise ValidationFailed(errors)
    return stored, sensitive_given


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _answer_problem(question: dict[str, Any], value: Any) -> Optional[str]:
    kind, options = question["type"], question["options"]
    if kind == "text":
        if not isinstance(value, str):
            return "Must be a text."
        if len(value) > MAX_TEXT_ANSWER:
            return f"At most {MAX_TEXT_ANSWER} characters."
        return "Must not contain control characters." if _CONTROL.search(value) else None
    if kind == "boolean":
        return None if isinstance(value, bool) else "Must be true or false."
    if kind == RATING:
        fits = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
        return None if fits else "Must be a whole number from 1 to 5."
    if kind == "choice":
        return None if isinstance(value, str) and value in options else "Must be one of the options."
    fits = isinstance(value, list) and all(isinstance(v, str) and v in options for v in value)
    return None if fits and len(set(value)) == len(value) else "Must be a list of different options."


def answer_text(question: Optional[dict[str, Any]], value: Any, language: str = "de") -> str:
    """An answer as people read it (lists, spreadsheet cells)."""
    if isinstance(value, bool):
        return ("ja" if value else "nein") if language == "de" else ("yes" if value else "no")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)

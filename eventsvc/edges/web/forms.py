"""The registration form. WTForms renders it and checks the CSRF token; the rules for the
fields are the JSON API's schema (RegistrationInSchema), applied in the view."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField


class RegistrationForm(FlaskForm):
    name = StringField()
    email = EmailField()
    organization = StringField()
    role = StringField()
    consent = BooleanField()
    sensitive_consent = BooleanField()
    # A field people never see: bots that fill every input give themselves away.
    website = StringField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The answers to the event's questions as typed, and what is wrong with them, by key.
        self.answers: dict[str, Any] = {}
        self.answer_errors: dict[str, str] = {}
        # Colleagues added with 'Weitere Person anmelden': their fields and errors.
        self.colleagues: list[dict[str, Any]] = []
        # The sessions ticked, and what is wrong with the choice.
        self.sessions_chosen: list[str] = []
        self.sessions_error: str | None = None


class ConfirmForm(FlaskForm):
    """An empty form: the CSRF token of a confirmation step."""


class InterestForm(FlaskForm):
    """Joining a series' interest list."""

    name = StringField()
    email = EmailField()
    consent = BooleanField()

"""The console's forms. WTForms renders them and checks the CSRF token; the rules for the
values are the admin API's schemas, applied in the views (eventforms.py for events)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField


class LoginForm(FlaskForm):
    email = EmailField()
    password = PasswordField()


class PasswordForm(FlaskForm):
    password = PasswordField()
    repeat = PasswordField()


class ActionForm(FlaskForm):
    """A button's form: only the CSRF token (and what the button's name says)."""


class MessageForm(FlaskForm):
    subject = StringField()
    body = TextAreaField()
    test_to = EmailField()


class PersonForm(FlaskForm):
    email = EmailField()
    confirm = BooleanField()

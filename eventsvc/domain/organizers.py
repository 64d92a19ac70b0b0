"""Organizer accounts for the console: made on the server, a password set through a one-time
link (or given on standard input), hashed with argon2id, checked at login.

Passwords are never stored or logged; a failed login says nothing about whether the address
exists, and takes as long either way (a hash is verified against a dummy when there is no
such account).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from eventsvc.domain.errors import AlreadyExists, NotFound, ValidationFailed
from eventsvc.domain.models import Organizer
from eventsvc.domain.registrations import normalize_email

SETUP_VALID_FOR = timedelta(days=3)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def create_organizer(session: Session, email: str, name: str, now: datetime) -> tuple[Organizer, str]:
    """A new account; returns it with the secret of its one-time link to set the password."""
    if session.scalar(select(Organizer.id).where(Organizer.email_normalized == normalize_email(email))):
        raise AlreadyExists(f"An organizer with the address {email} exists already.")
    secret = secrets.token_urlsafe(32)
    organizer = Organizer(
        email=email,
        email_normalized=normalize_email(email),
        name=name,
        setup_token_hash=_digest(secret),
        setup_expires_at=now + SETUP_VALID_FOR,
        created_at=now,
    )
    session.add(organizer)
    session.flush()
    return organizer, secret


def new_setup_link(session: Session, email: str, now: datetime) -> str:
    """A fresh one-time link for an existing account (a forgotten password)."""
    organizer = by_email(session, email)
    if organizer is None:
        raise NotFound(f"No organizer with the address {email}.")
    secret = secrets.token_urlsafe(32)
    organizer.setup_token_hash, organizer.setup_expires_at = _digest(secret), now + SETUP_VALID_FOR
    session.flush()
    return secret


def by_setup_secret(session: Session, secret: str, now: datetime) -> Optional[Organizer]:
    organizer = session.scalar(select(Organizer).where(Organizer.setup_token_hash == _digest(secret)))
    if organizer is None or organizer.setup_expires_at is None or organizer.setup_expires_at < now:
        return None
    return organizer


def set_password(session: Session, organizer: Organizer, password: str) -> None:
    """Set the password; the one-time link is used up."""
    check_password(password)
    organizer.password_hash = _hasher.hash(password)
    organizer.setup_token_hash = None
    organizer.setup_expires_at = None
    session.flush()


def check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed({"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]})


def authenticate(session: Session, email: str, password: str, now: datetime) -> Optional[Organizer]:
    """The account whose address and password these are, or None."""
    organizer = by_email(session, email)
    stored = organizer.password_hash if organizer is not None and organizer.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return None
    if organizer is None or not organizer.password_hash:
        return None
    if _hasher.check_needs_rehash(organizer.password_hash):
        organizer.password_hash = _hasher.hash(password)
    organizer.last_login_at = now
    session.flush()
    return organizer


def by_email(session: Session, email: str) -> Optional[Organizer]:
    return session.scalar(select(Organizer).where(Organizer.email_normalized == normalize_email(email)))


def by_id(session: Session, organizer_id: int) -> Optional[Organizer]:
    return session.get(Organizer, organizer_id)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()

"""Organizers' API tokens: shown once when made, kept only as SHA-256 hashes, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventsvc.domain.errors import AlreadyExists, NotFound
from eventsvc.domain.models import AdminToken

# The name under which the token from EVENTSVC_ADMIN_TOKEN acts (in histories and logs).
CONFIGURED_TOKEN_NAME = "EVENTSVC_ADMIN_TOKEN"


def create_token(session: Session, name: str, now: datetime) -> str:
    if session.scalar(select(AdminToken.id).where(AdminToken.name == name)) is not None:
        raise AlreadyExists(f"A token named {name!r} exists already; revoke it or choose another name.")
    token = "evs_" + secrets.token_urlsafe(32)
    session.add(AdminToken(name=name, token_hash=_hash(token), created_at=now))
    session.flush()
    return token


def list_tokens(session: Session) -> list[AdminToken]:
    return list(session.scalars(select(AdminToken).order_by(AdminToken.id)))


def revoke(session: Session, name: str, now: datetime) -> AdminToken:
    token: Optional[AdminToken] = (
        session.scalar(select(AdminToken).where(AdminToken.name == name)) if "\x00" not in name else None
    )
    if not token:
        raise NotFound(f"No token named {name!r}.")
    if token.revoked_at is None:
        token.revoked_at = now
    session.flush()
    return token


def holder(session: Session, presented: str, configured: Optional[str]) -> Optional[str]:
    """The name of the valid token `presented`, or None."""
    if configured and hmac.compare_digest(presented.encode(), str(configured).encode()):
        return CONFIGURED_TOKEN_NAME
    # A lookup by hash leaks nothing useful about the token through timing: the attacker
    # would have to find SHA-256 preimages to steer it.
    digest = _hash(presented)
    row = session.execute(
        select(AdminToken.token_hash, AdminToken.name).where(
            AdminToken.token_hash == digest, AdminToken.revoked_at.is_(None)
        )
    ).one_or_none()
    return row.name if row is not None and hmac.compare_digest(row.token_hash, digest) else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
